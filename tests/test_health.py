"""The health check for load balancers (/sante/): « ok » when this node can
serve, 503 otherwise, and nothing else to anyone."""

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import time_machine
from django.urls import reverse
from django.utils import timezone

from extranet.storage_settings import storages_from_environment
from extranet.tasks import send_email

from .factories import signed_in, staff

ROOT = Path(__file__).resolve().parent.parent
URL = "/sante/"


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_healthy(response):
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"


def assert_unavailable(response):
    assert response.status_code == 503
    # Which part failed, why, the versions or the host names: none of it.
    assert response.content == b"unavailable\n"
    assert response["Cache-Control"] == "no-store"


def test_the_address_is_the_documented_one():
    assert reverse("health") == URL


def test_all_up_answers_ok_and_the_same_to_anyone(client, parent_client, combs):
    assert_healthy(client.get(URL))
    assert_healthy(parent_client.get(URL))
    assert_healthy(signed_in(staff(combs, [])).get(URL))
    assert client.head(URL).status_code == 200
    assert client.post(URL).status_code == 405


def test_no_error_is_logged_nor_any_detail_given_when_a_part_is_down(client, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/4",
        }
    }
    assert_unavailable(client.get(URL))
    assert not [r for r in caplog.records if r.levelname in {"ERROR", "CRITICAL"}]
    assert [r for r in caplog.records if r.name == "extranet.health" and "cache" in r.message]


def test_the_cache_down_answers_503(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/4",
        }
    }
    assert_unavailable(client.get(URL))


def test_the_real_redis_is_healthy(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/4",
        }
    }
    assert_healthy(client.get(URL))


def test_the_object_storage_down_answers_503(client, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        **storages_from_environment(
            {
                "STORAGE_BACKEND": "s3",
                "S3_BUCKET": "extranet-private",
                "S3_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}",
                "S3_ACCESS_KEY_ID": "testing",
                "S3_SECRET_ACCESS_KEY": "testing",
            },
            None,
            None,
        ),
    }
    assert_unavailable(client.get(URL))


def test_a_documents_folder_that_cannot_be_written_answers_503(client, settings, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    settings.STORAGES = {
        **settings.STORAGES,
        **storages_from_environment({}, documents_root=blocked / "documents", media_root=tmp_path),
    }
    assert_unavailable(client.get(URL))


def test_a_task_waiting_too_long_answers_503(client, settings):
    settings.HEALTH_MAX_QUEUE_AGE = 300
    send_email.enqueue({"subject": "x"})
    with time_machine.travel(timezone.now() + timedelta(seconds=200), tick=False):
        assert_healthy(client.get(URL))
    with time_machine.travel(timezone.now() + timedelta(seconds=400), tick=False):
        assert_unavailable(client.get(URL))


def test_a_task_planned_for_later_is_not_waiting(client, settings):
    """A retry queued for in an hour has not waited yet; once its time has
    come, it counts from then."""
    settings.HEALTH_MAX_QUEUE_AGE = 300
    send_email.using(run_after=timezone.now() + timedelta(hours=1)).enqueue({"subject": "x"})
    with time_machine.travel(timezone.now() + timedelta(minutes=62), tick=False):
        assert_healthy(client.get(URL))
    with time_machine.travel(timezone.now() + timedelta(minutes=70), tick=False):
        assert_unavailable(client.get(URL))


@pytest.fixture
def gunicorn_without_database(tmp_path, free_port):
    """The portal under gunicorn with production settings, its PostgreSQL
    address pointing where nothing listens."""
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "0",
        "SECRET_KEY": "k3y-" + "x9Q!" * 12,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port()}/extranet",
        "REDIS_URL": "redis://127.0.0.1:6379/4",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DOCUMENTS_ROOT": str(tmp_path / "documents"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "EMAIL_HOST": "127.0.0.1",
    }
    log = (tmp_path / "gunicorn.log").open("w+")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "extranet.wsgi",
            "--bind",
            f"127.0.0.1:{free_port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{free_port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                # The first request loads the application: give it time.
                requests.get(url + URL, timeout=30)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail("gunicorn did not start:\n" + log.read())
                time.sleep(0.2)
        yield url, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_the_database_stopped_answers_503_under_gunicorn(gunicorn_without_database):
    url, log = gunicorn_without_database
    # Plain HTTP on the node's own port, as a load balancer asks: no redirect
    # to HTTPS, no error page from a middleware that wanted the database.
    response = requests.get(url + URL, timeout=10, allow_redirects=False)
    assert response.status_code == 503
    assert response.text == "unavailable\n"
    assert response.headers["Cache-Control"] == "no-store"
    log.seek(0)
    output = log.read()
    assert "Traceback" not in output and "Internal Server Error" not in output
    assert "Health check: database unavailable" in output
