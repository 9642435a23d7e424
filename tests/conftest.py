import io
import socket

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from extranet.models import Site

from . import clock
from .factories import PASSWORD, make_parent  # noqa: F401  (older tests import them from here)


@pytest.fixture(autouse=True)
def _frozen_today():
    """Every test runs on the same day (tests/clock.py), the clock ticking from there."""
    with time_machine.travel(clock.NOW, tick=True):
        yield


@pytest.fixture
def during_lessons():
    """A day of a week with lessons (clock.LESSON_TIME): today itself when it has some."""
    with time_machine.travel(clock.LESSON_TIME, tick=True):
        yield clock.LESSON_DAY


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


@pytest.fixture
def demo(db):
    """The data of `make run` (each app's demo.py), by its two sites."""
    call_command("load_demo_data", "--force", stdout=io.StringIO())
    return {
        "combs": Site.objects.get(slug="combs-la-ville"),
        "ploufragan": Site.objects.get(slug="ploufragan"),
    }


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
