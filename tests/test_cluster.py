"""The production deployment on one machine: real nginx (HTTPS, self-signed)
in front of two gunicorn nodes and a task worker, on a PostgreSQL database of
its own and Redis (deploy/cluster.py).

The cluster runs the production settings, whatever database the suite runs
on. It is started once for the module; every test talks to it over HTTP.
"""

import hashlib
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
import requests

from deploy.cluster import ACCEL_PREFIX, Cluster, free_port

from . import files
from .mail_sink import SMTPSink

# Real nginx, gunicorn nodes and a PostgreSQL database of their own, whatever the
# suite's database: see the `deployment` marker in pyproject.toml.
pytestmark = pytest.mark.deployment

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Cluster-test-password-2026"
REDIS_URL = os.environ.get("CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/5")
SERVER_URL = os.environ.get("CLUSTER_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# A failure from one address more than this, on one identifiant, must wait.
FAILURES_ALLOWED = 3
THROTTLED = "Trop de tentatives"

SETUP = f"""
import django
django.setup()
from documents.models import DocumentKind
from extranet.models import Site, User
from families.models import Family

site = Site.objects.create(name="Conservatoire", slug="combs-la-ville", email="c@example.org")
kind = DocumentKind.objects.create(site=site, name="Justificatif de domicile", required=True)
for username, name in [("martin", "Martin"), ("durand", "Durand")]:
    family = Family.objects.create(site=site, name=name)
    user = User(username=username, site=site, family=family, email=username + "@example.org")
    user.set_password({PASSWORD!r})
    user.save()
print(kind.pk)
"""


def _database_url(name):
    return SERVER_URL.rsplit("/", 1)[0] + "/" + name


def _schema_version():
    digest = hashlib.sha256((ROOT / "requirements" / "base.txt").read_bytes())
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _run(env, *command):
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _create_database(server, name, env):
    """A migrated database `name`, copied from a template migrated once per
    state of the migrations (migrating takes far longer than copying)."""
    template = f"extranet_cluster_template_{_schema_version()}"
    if not server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone():
        building = f"{template}_{uuid.uuid4().hex[:8]}"
        server.execute(f'CREATE DATABASE "{building}"')
        try:
            env = env | {"DATABASE_URL": _database_url(building)}
            _run(env, sys.executable, "manage.py", "migrate", "--no-input", "-v0")
            _run(env, sys.executable, "manage.py", "createcachetable")
            server.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
        except psycopg.errors.DuplicateDatabase:
            pass  # Another run made it meanwhile.
        finally:
            server.execute(f'DROP DATABASE IF EXISTS "{building}"')
    server.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The suite's test database is not used here: the cluster has its own."""


@pytest.fixture(scope="module")
def smtp():
    with SMTPSink(free_port()) as sink:
        yield sink


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, smtp):
    name = f"extranet_cluster_{uuid.uuid4().hex[:12]}"
    redis.Redis.from_url(REDIS_URL).flushdb()
    cluster = Cluster(
        tmp_path_factory.mktemp("cluster"),
        nodes=2,
        workers_per_node=1,
        tls=True,
        env={
            "SECRET_KEY": "cluster-test-secret-key-" + "x" * 40,
            "DATABASE_URL": _database_url(name),
            "REDIS_URL": REDIS_URL,
            # Collected once for every run of the module (collectstatic is slow).
            "STATIC_ROOT": str(ROOT / "var" / "cluster-static"),
            # nginx would redirect plain HTTP; the nodes answer it, so that a
            # client reaching a node directly is seen for what it is.
            "SECURE_SSL_REDIRECT": "0",
            "LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS": f"{FAILURES_ALLOWED}/15m",
            "LOGIN_FAILURES_PER_ADDRESS": "1000/15m",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.controller.port),
            "EMAIL_USE_TLS": "0",
        },
    )
    with psycopg.connect(SERVER_URL, autocommit=True) as server:
        _create_database(server, name, cluster.env)
        try:
            cluster.kind = _run(cluster.env, sys.executable, "-c", SETUP).strip()
            with cluster:
                yield cluster
        finally:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Browser(requests.Session):
    """A parent's browser: HTTPS to nginx, the Referer a browser sends."""

    def __init__(self, cluster):
        super().__init__()
        self.trust_env = False  # REQUESTS_CA_BUNDLE would replace the certificate.
        self.verify = str(cluster.certificate)

    def get_page(self, url):
        return self.get(url, allow_redirects=False)

    def post_form(self, url, data, files=None, page=None):
        token = self.cookies.get("extranet_csrftoken") or self._token(url)
        return self.post(
            url,
            data={**data, "csrfmiddlewaretoken": token},
            files=files,
            headers={"Referer": page or url},
            allow_redirects=False,
        )

    def _token(self, url):
        self.get(url)
        return self.cookies["extranet_csrftoken"]


def sign_in(browser, base, username="martin", password=PASSWORD, headers=None):
    url = f"{base}/connexion/combs-la-ville/"
    browser.get(url)
    return browser.post(
        url,
        data={
            "site": "combs-la-ville",
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": browser.cookies["extranet_csrftoken"],
        },
        headers={"Referer": url, **(headers or {})},
        allow_redirects=False,
    )


def signed_in(cluster, base, username="martin"):
    browser = Browser(cluster)
    response = sign_in(browser, base, username)
    assert response.status_code == 302, response.text[:500]
    return browser


def test_a_document_uploaded_on_one_node_is_sent_by_nginx_from_the_other(cluster):
    node_a, node_b = cluster.pinned_urls
    parent = signed_in(cluster, node_a)
    content = files.pdf(pages=2)
    response = parent.post_form(
        f"{node_a}/famille/documents/importer/",
        {"kind": cluster.kind},
        files={"file": ("avis.pdf", content, "application/pdf")},
        page=f"{node_a}/famille/",
    )
    assert response.status_code == 302, response.text[:2000]
    family_page = parent.get(f"{node_b}/famille/").text
    path = re.search(r'href="(/famille/documents/\d+/)"', family_page).group(1)

    download = parent.get(node_b + path)
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == 'attachment; filename="avis.pdf"'
    assert download.headers["Cache-Control"] == "private, no-store"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["X-Frame-Options"] == "DENY"
    assert download.headers["Strict-Transport-Security"].startswith("max-age=31536000")

    # The node itself checked and handed over: a header, no body.
    session = parent.cookies["extranet_session"]
    from_node = requests.get(
        cluster.node_urls[1] + path, headers={"Cookie": f"extranet_session={session}"}
    )
    assert from_node.status_code == 200
    accel = from_node.headers["X-Accel-Redirect"]
    assert accel.startswith(ACCEL_PREFIX)
    assert from_node.content == b""

    # Anyone else: nothing.
    stranger = signed_in(cluster, cluster.url, "durand")
    assert stranger.get(cluster.url + path).status_code == 404
    assert stranger.get(cluster.url + accel).status_code == 404
    assert requests.get(cluster.url + accel, verify=parent.verify).status_code == 404


def test_a_session_holds_on_every_node_and_across_a_restart(cluster):
    node_a, node_b = cluster.pinned_urls
    parent = signed_in(cluster, node_a)
    assert "Martin" in parent.get_page(f"{node_b}/famille/").text
    cluster.restart_node(1)
    assert "Martin" in parent.get_page(f"{node_b}/famille/").text
    assert "Martin" in parent.get_page(f"{cluster.url}/famille/").text
    # Signed out on one node is signed out on all.
    parent.post_form(f"{node_a}/deconnexion/", {}, page=f"{node_a}/famille/")
    assert parent.get_page(f"{node_b}/famille/").status_code == 302


def test_a_node_killed_is_skipped_by_nginx_until_it_is_back(cluster):
    parent = signed_in(cluster, cluster.url)
    cluster.kill_node(0)
    try:
        for _ in range(6):  # nginx's round robin would have chosen the dead node.
            assert parent.get_page(f"{cluster.url}/famille/").status_code == 200
        assert parent.get_page(f"{cluster.pinned_urls[0]}/famille/").status_code == 502
    finally:
        cluster.start_node(0)
    assert parent.get_page(f"{cluster.pinned_urls[0]}/famille/").status_code == 200


def test_e_mails_wait_for_a_task_worker_and_link_to_the_portal(cluster, smtp):
    cluster.stop_task_workers()
    browser = Browser(cluster)
    url = f"{cluster.url}/mot-de-passe-perdu/"
    browser.get(url)
    response = browser.post_form(url, {"site": "combs-la-ville", "identifier": "martin"})
    assert response.status_code == 302
    time.sleep(1)
    assert resets(smtp) == []  # Queued in the database, nothing sent by a node.
    cluster.start_task_workers()
    deadline = time.monotonic() + 60
    while not resets(smtp) and time.monotonic() < deadline:
        time.sleep(0.2)
    # The address the parent used, HTTPS as nginx said.
    assert [f"{cluster.url}/nouveau-mot-de-passe/" in text for text in resets(smtp)] == [True]


def resets(smtp):
    texts = [
        message.get_payload()[0].get_payload(decode=True).decode() for message in smtp.messages
    ]
    return [text for text in texts if "/nouveau-mot-de-passe/" in text]


def fail(browser, base, username, times, headers=None):
    for _ in range(times):
        response = sign_in(browser, base, username, "wrong-password", headers)
        assert response.status_code == 200
        assert THROTTLED not in response.text


def test_a_login_throttle_set_on_one_node_holds_on_the_other(cluster):
    node_a, node_b = cluster.pinned_urls
    browser = Browser(cluster)
    fail(browser, node_a, "martin", FAILURES_ALLOWED)
    response = sign_in(Browser(cluster), node_b, "martin")
    assert response.status_code == 200
    assert THROTTLED in response.text
    redis.Redis.from_url(REDIS_URL).flushdb()  # The parent may sign in again.


def test_a_forwarded_address_sent_by_the_client_is_overwritten_by_nginx(cluster):
    browser = Browser(cluster)
    for i in range(FAILURES_ALLOWED):
        fail(browser, cluster.url, "nobody-1", 1, {"X-Forwarded-For": f"203.0.113.{i}"})
    response = sign_in(
        browser, cluster.url, "nobody-1", headers={"X-Forwarded-For": "203.0.113.99"}
    )
    assert THROTTLED in response.text


def post_to_node(url, username, forged):
    """A login POST straight to a node, over plain HTTP: the cookies by hand
    (a browser keeps secure cookies for HTTPS)."""
    page = requests.get(url)
    token = page.cookies["extranet_csrftoken"]
    return requests.post(
        url,
        data={
            "site": "combs-la-ville",
            "username": username,
            "password": "wrong-password",
            "csrfmiddlewaretoken": token,
        },
        headers={"Cookie": f"extranet_csrftoken={token}", **forged},
        allow_redirects=False,
    )


def test_a_node_reached_directly_believes_no_forwarded_header(cluster):
    url = f"{cluster.node_urls[0]}/connexion/combs-la-ville/"
    for i in range(FAILURES_ALLOWED):
        response = post_to_node(url, "nobody-2", {"X-Forwarded-For": f"198.51.100.{i}"})
        assert response.status_code == 200
        assert THROTTLED not in response.text
    # Counted at the address the node sees, whatever the header said.
    response = post_to_node(url, "nobody-2", {"X-Forwarded-For": "198.51.100.99"})
    assert THROTTLED in response.text

    # Nor is it HTTPS because it says so: no HSTS, which only HTTPS gets.
    claimed = requests.get(url, headers={"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on"})
    assert claimed.status_code == 200
    assert "Strict-Transport-Security" not in claimed.headers
    through_nginx = Browser(cluster).get(f"{cluster.url}/connexion/combs-la-ville/")
    assert "Strict-Transport-Security" in through_nginx.headers


def test_static_files_are_served_by_nginx_and_cached(cluster):
    page = Browser(cluster).get(f"{cluster.url}/connexion/").text
    stylesheet = re.search(r'href="(/static/css/extranet\.[0-9a-f]{12}\.css)"', page).group(1)
    response = requests.get(
        cluster.url + stylesheet,
        verify=str(cluster.certificate),
        headers={"Accept-Encoding": "gzip"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/css"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Set-Cookie" not in response.headers
    assert "Strict-Transport-Security" in response.headers
    # Served by nginx itself: no node was asked.
    line = next(line for line in cluster.log("nginx-access").splitlines() if stylesheet in line)
    assert line.endswith(" - -")
