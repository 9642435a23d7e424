"""Every family page answers in a bounded number of queries, the same for a
small family and a large one."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.instalments import choose_plan
from documents.models import DocumentKind
from families.models import FamilyDocument, Guardian

from . import factories

PAGES = [
    "home",
    "accessibility",
    "password_change",
    "families:family",
    "families:edit",
    "reenrollment:index",
    "families:guardian_add",
    "students:list",
    "students:timetable",
    "billing:statement",
]


def fill(family, site, structure, size):
    kind = DocumentKind.objects.get_or_create(site=site, name="Justificatif")[0]
    for n in range(size):
        Guardian.objects.create(
            family=family,
            civility="MME",
            first_name=f"R{n}",
            last_name="Martin",
            address_line1="1 rue",
            postal_code="77000",
            city="Melun",
        )
        FamilyDocument.objects.create(
            family=family,
            kind=kind,
            file="x.pdf",
            original_name="x.pdf",
            content_type="application/pdf",
            size=1,
        )
        factories.student(family, f"Élève {n}", courses=structure["courses"])


def counts(parent):
    client = Client()
    client.force_login(parent)
    result = {}
    for name in PAGES:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(name)).status_code == 200, name
        result[name] = len(queries)
    return result


@pytest.mark.django_db
def test_page_query_counts_do_not_grow(combs):
    year = factories.school_year(combs)
    structure = factories.structure(combs, year)
    small = factories.make_parent(combs, username="petite", family_name="Petite")
    large = factories.make_parent(combs, username="grande", family_name="Grande")
    fill(small.family, combs, structure, 1)
    fill(large.family, combs, structure, 5)
    assert counts(small) == counts(large)
    large_counts = counts(large)
    # Two of them are the session's and the account's (with its family and
    # site). The home page gathers what every tab would say is to do
    # (invoices and instalments, the payment service, family and student
    # documents, the re-enrollment campaign and requests, the week's lessons
    # and closures, the news), still the same for 1 and 5 students
    # (tests/test_home.py); the week adds the calendar link and the closures.
    most = {
        "home": 13,
        "accessibility": 2,
        "password_change": 2,
        "families:family": 5,
        "families:edit": 2,
        "reenrollment:index": 5,
        "families:guardian_add": 2,
        "students:list": 5,
        "students:timetable": 7,
        "billing:statement": 8,
    }
    assert {name: n for name, n in large_counts.items() if n > most[name]} == {}


def statement_queries(parent, client=None):
    if client is None:
        client = Client()
        client.force_login(parent)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("billing:statement"))
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.django_db
def test_statement_with_a_grid_plans_and_schedules_does_not_grow(combs, settings):
    """The Facturation tab at its fullest: this year's estimate from a fee
    grid, the plans offered, invoices paid by instalments (each schedule
    names its plan), a creditor for direct debits."""
    # The page cache in memory: in production it is Redis's, not the database's.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    year = factories.school_year(combs)
    structure = factories.structure(combs, year)
    factories.fee_grid(combs, year)
    plans = factories.instalment_plans(combs)
    factories.creditor(combs)
    found = {}
    for size, username in [(1, "petite"), (3, "grande")]:
        parent = factories.make_parent(combs, username=username, family_name=username)
        factories.payer(parent.family)
        fill(parent.family, combs, structure, size)
        choose_plan(parent.family, year, plans[3])
        for n in range(size):
            factories.issued(parent.family, school_year=year, lines=[(f"Cours {n}", "300.00")])
        cache.clear()  # both measured cold: the grid's rules read each time
        found[size], response = statement_queries(parent)
        assert response.text.count("3 échéances") >= size
    assert found[1] == found[3]
    # Session and account; years; invoices (with their plan), payments,
    # refunds, instalments; the payment service; the plans (2); the grid, its
    # terms, bands, zones, communes, items, prices, reductions (and their
    # families) and the family priced (with its guardians, students, their
    # enrollments, its quotient); the creditor and the mandate.
    # Cold, one more: the site's version, the key of the grid's rules.
    assert found[3] <= 25, found
    # Again: the statement, its table and the estimate from the cache; left are
    # the session and account, the years, the payment service, the plans (2),
    # the creditor and the mandate.
    client = Client()
    client.force_login(parent)
    statement_queries(parent, client)
    again, _response = statement_queries(parent, client)
    assert again <= 7, again


STUDENT_PAGES = [
    "students:detail",
    "students:courses",
    "students:history",
    "reenrollment:documents",
    "reenrollment:wishes",
    "reenrollment:validation",
]


def student_page_counts(parent):
    """Queries of each page about the family's first student, the cache cold (the fee
    grid's rules are cached per site, so the second family would find them)."""
    cache.clear()
    client = Client()
    client.force_login(parent)
    student = parent.family.students.order_by("pk").first()
    result = {}
    for name in STUDENT_PAGES:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse(name, args=[student.pk]))
        assert response.status_code == 200, name
        result[name] = len(queries)
    return result


@pytest.mark.django_db
def test_student_and_reenrollment_steps_query_counts_do_not_grow(combs):
    data = factories.campaign(combs)
    factories.fee_grid(combs, data["next_year"])
    courses = data["courses"]
    small = factories.make_parent(combs, username="petite", family_name="Petite")
    large = factories.make_parent(combs, username="grande", family_name="Grande")
    for parent, size in ((small, 1), (large, 4)):
        factories.payer(parent.family)
        for n in range(size):
            factories.student(parent.family, f"Élève {n}", courses=[courses[0], courses[2]])
    assert student_page_counts(small) == student_page_counts(large)
    # The session's and the account's, the student, then: this year and its enrollments,
    # the kinds a student may send (the checklist and the upload form's choices from one
    # read) and the documents (fiche élève); the campaign, the request, the years, the
    # enrollments and both checklists (each step); the estimate reads the grid once.
    most = {
        "students:detail": 7,
        "students:courses": 5,
        "students:history": 4,
        "reenrollment:documents": 11,
        "reenrollment:wishes": 13,
        # Cold: the grid read, then the rules and the estimate written to the suite's
        # database cache (its own queries; none with Redis).
        "reenrollment:validation": 36,
    }
    counts = student_page_counts(large)
    assert {name: n for name, n in counts.items() if n > most[name]} == {}, counts
