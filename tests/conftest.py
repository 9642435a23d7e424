import socket

import pytest
from django.core.management import call_command
from django.test import Client

from extranet.demo import DEMO_PASSWORD
from extranet.models import Site, User
from families.models import Family

PASSWORD = DEMO_PASSWORD


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    # Throttling counters live in the cache; each test starts from zero.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def combs(db):
    return Site.objects.create(
        name="Conservatoire Maurice Ohana – Combs-la-Ville",
        slug="combs-la-ville",
        address="Rue Baptiste Marcet\n77380 Combs-la-Ville",
        phone="+33164887700",
        email="conservatoire.combs@example.org",
        welcome_text="Bienvenue à Combs-la-Ville.",
    )


@pytest.fixture
def ploufragan(db):
    return Site.objects.create(
        name="Centre culturel de Ploufragan",
        slug="ploufragan",
        email="centre.culturel@example.org",
        welcome_text="Bienvenue à Ploufragan.",
    )


def make_parent(site, username="demo", family_name="Martin", email=None, **fields):
    family = Family.objects.create(site=site, name=family_name)
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        site=site,
        family=family,
        email=email if email is not None else f"{username}.{site.slug}@example.org",
        **fields,
    )
    return user


@pytest.fixture
def parent(combs):
    return make_parent(combs)


@pytest.fixture
def other_parent(ploufragan):
    """Same identifiant, another site, another family."""
    return make_parent(ploufragan, family_name="Le Goff")


@pytest.fixture
def parent_client(parent):
    client = Client()
    client.force_login(parent)
    return client


@pytest.fixture
def run_worker():
    """Runs the real task worker until the queue has nothing ready."""

    def run():
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")

    return run


@pytest.fixture
def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pytest_sessionfinish(session, exitstatus):
    # In CI a skipped test hides a missing browser or database: fail instead.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    import os

    if os.environ.get("CI") and reporter and reporter.stats.get("skipped"):
        reporter.write_line("CI: skipped tests are not allowed.", red=True)
        session.exitstatus = 1
