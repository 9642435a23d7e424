"""Sessions in Redis, written through to the database (production with
REDIS_URL): any node reads a session another wrote, signing out or changing
the password ends it everywhere, and a Redis emptied (a restart) signs
nobody out."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from .factories import PASSWORD

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def redis_sessions(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "test-sessions",
        }
    }
    settings.SESSION_ENGINE = "extranet.sessions_cached"
    cache.clear()
    yield
    cache.clear()


def signed_in(site, username="demo"):
    client = Client()
    response = client.post(
        reverse("login"), {"site": site.slug, "username": username, "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def node_b(client):
    """Another client holding the same session cookie: another node's request."""
    other = Client()
    other.cookies = client.cookies
    return other


def test_a_session_written_by_one_node_is_read_by_another(redis_sessions, parent, combs):
    client = signed_in(combs)
    assert node_b(client).get(reverse("home")).status_code == 200


def test_signing_out_ends_the_session_on_every_node(redis_sessions, parent, combs):
    client = signed_in(combs)
    cookie = client.cookies["extranet_session"].value
    client.post(reverse("logout"))
    stolen = Client()
    stolen.cookies["extranet_session"] = cookie
    response = stolen.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_password_change_signs_the_other_sessions_out(redis_sessions, parent, combs):
    phone = signed_in(combs)
    computer = signed_in(combs)
    response = computer.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Une-autre-phrase-de-passe-2026",
            "new_password2": "Une-autre-phrase-de-passe-2026",
        },
    )
    assert response.status_code == 302
    assert computer.get(reverse("home")).status_code == 200
    assert phone.get(reverse("home")).status_code == 302


def test_redis_emptied_signs_nobody_out(redis_sessions, parent, combs):
    client = signed_in(combs)
    cache.clear()
    assert client.get(reverse("home")).status_code == 200


def production_settings(**env):
    script = (
        "from django.conf import settings as s;"
        "print(s.SESSION_ENGINE, s.DATABASES['default']['CONN_MAX_AGE'],"
        " s.DATABASES['default']['CONN_HEALTH_CHECKS'])"
    )
    environment = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "extranet.settings",
        "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
        **env,
    }
    code = f"import django; django.setup(); {script}"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()


def test_production_keeps_connections_and_reads_sessions_from_redis():
    engine, max_age, checks = production_settings(
        DATABASE_URL="postgres://extranet@db.example.org/extranet",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert engine == "extranet.sessions_cached"
    assert (max_age, checks) == ("60", "True")


def test_without_redis_sessions_stay_in_the_database():
    engine, max_age, _ = production_settings(DATABASE_URL="sqlite:////tmp/extranet-check.db")
    assert engine == "extranet.sessions"
    assert max_age == "0"
