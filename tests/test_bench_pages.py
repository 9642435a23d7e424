"""bench/pages.py: its list of pages stays true (every page answers 200 to the demo
parent or secretariat, through the benchmark's URLs and query header), the families it
adds show in the admin, and wrk's report is read right. No timing here."""

import pytest
from django.test import Client

from bench import pages, populate
from extranet.models import Site, User
from families.models import Family


@pytest.fixture
def bench_urls(settings):
    settings.ROOT_URLCONF = "bench.urls"
    settings.MIDDLEWARE = ["bench.middleware.query_count", *settings.MIDDLEWARE]


def signed_in(site_slug, username):
    client = Client()
    client.force_login(User.objects.get(site__slug=site_slug, username=username))
    return client


def test_every_listed_page_answers_200_with_its_query_count(demo, bench_urls):
    parent = User.objects.get(site__slug=pages.PARENT[0], username=pages.PARENT[1])
    from students.models import CalendarFeed

    CalendarFeed.objects.create(family=parent.family)
    listed = pages.all_pages()
    clients = {"parent": signed_in(*pages.PARENT), "staff": signed_in(*pages.STAFF)}
    names = {page.name for page in listed}
    # The tabs and the pages behind them, the forms, the admin pages.
    for name in ["Accueil", "Famille", "Élèves", "Fiche élève", "Cours", "Historique"]:
        assert name in names
    for name in ["Semaine", "Réinscription", "Facturation", "Accessibilité", "Mot de passe"]:
        assert name in names
    assert {"Admin › Aujourd'hui", "Admin › familles", "Calendrier (.ics)"} <= names
    assert any(name.startswith("Réinscription › Léa") for name in names)
    assert {page.kind for page in listed} >= {"tab", "form", "file", "admin", "yardstick"}
    for page in listed:
        response = clients[page.who].get(page.path)
        assert response.status_code == 200, (page.name, page.path, response.status_code)
        assert int(response["X-Bench-Queries"]) >= 1, page.name


def test_the_yardsticks_are_login_required(db, bench_urls, parent_client):
    for path in ["/bare/", "/bench-table/"]:
        assert Client().get(path).status_code == 302
        assert parent_client.get(path).status_code == 200


def test_the_table_yardstick_makes_one_query_for_its_rows(combs, bench_urls, parent_client):
    from datetime import date, time

    from students.models import Course, Discipline, SchoolYear

    year = SchoolYear.objects.create(
        site=combs, name="2026-2027", start_date=date(2026, 9, 14), end_date=date(2027, 6, 27)
    )
    piano = Discipline.objects.create(site=combs, name="Piano", category="instrument")
    for n in range(25):
        Course.objects.create(
            site=combs,
            school_year=year,
            discipline=piano,
            weekday=n % 6,
            start_time=time(9),
            end_time=time(10),
        )
    few = int(parent_client.get("/bench-table/")["X-Bench-Queries"])
    page = parent_client.get("/bench-table/")
    assert page.text.count("<td>Piano</td>") == 20
    assert int(page["X-Bench-Queries"]) == few


def test_the_added_families_show_in_the_secretariat_list(demo):
    combs = Site.objects.get(slug="combs-la-ville")
    before = Family.objects.filter(site=combs).count()
    ids = populate.add_families(combs, 30)
    assert len(ids) == 30
    assert Family.objects.filter(site=combs).count() == before + 30
    added = Family.objects.filter(pk__in=ids)
    assert added.filter(guardians__isnull=False).distinct().count() == 30
    assert added.filter(students__enrollments__isnull=False).distinct().count() == 30
    assert added.filter(accounts__isnull=False).count() == 24  # Four in five.
    staff = signed_in(*pages.STAFF)
    listing = staff.get("/admin/families/family/?compte=none")
    assert listing.status_code == 200
    assert listing.context["cl"].result_count >= 6
    assert staff.get("/admin/").status_code == 200


WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:8100/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    52.10ms   10.02ms 120.33ms   75.00%
    Req/Sec   306.12     40.11   400.00     70.00%
  Latency Distribution
     50%   51.20ms
     75%   58.00ms
     90%   64.10ms
     99%    1.12s
  1836 requests in 3.00s, 10.10MB read
  Socket errors: connect 0, read 0, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:    611.52
Transfer/sec:      3.37MB
"""


def test_wrk_reports_are_read_with_their_units():
    figures = pages.parse_wrk(WRK_OUTPUT)
    assert figures["rps"] == 611.52
    assert figures["p50_ms"] == 51.2
    assert figures["p99_ms"] == 1120.0
    assert figures["non_2xx"] == 3
    assert figures["socket_errors"] == "connect 0, read 0, write 0, timeout 2"
    assert pages.parse_wrk("     50%  812.00us\n")["p50_ms"] == pytest.approx(0.812)


def result(kind, ratio, p50=5.0, p99=10.0, name="page"):
    found = pages.Result(pages.Page(name, kind, "/"))
    found.bare = {4: 100.0, 32: 100.0}
    run = {"rps": ratio * 100, "p50_ms": p50, "p99_ms": p99, "non_2xx": 0, "socket_errors": ""}
    found.runs = {4: run, 32: run}
    return found


def test_the_verdict_holds_each_page_to_its_targets():
    login = {"rps": 25.0, "failed": 0}
    good = [result("tab", 0.7), result("tab", 0.55), result("form", 0.35), result("file", 0.01)]
    good.append(result("admin", 0.01, p50=120.0, p99=400.0))
    assert pages.verdict(good, login) == []
    missed = pages.verdict(
        [
            result("tab", 0.45, name="slow tab"),
            result("form", 0.2, name="slow form"),
            result("page", 1.0, p99=31.0, name="late page"),
            result("admin", 1.0, p50=151.0, name="slow list"),
        ],
        {"rps": 9.0, "failed": 1},
    )
    text = "\n".join(missed)
    for expected in ["slow tab", "slow form", "late page", "slow list", "median of the tabs"]:
        assert expected in text
    assert "sign-ins: 9.0" in text and "1 did not sign in" in text
