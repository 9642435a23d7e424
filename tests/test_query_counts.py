"""Every family page answers in a bounded number of queries, the same for a
small family and a large one."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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
    # The home page gathers what every tab would say is to do (invoices and
    # instalments, the payment service, family and student documents, the
    # re-enrollment campaign and requests, the week's lessons and closures,
    # the news): about twice a tab's queries, still the same for 1 and 5
    # students (tests/test_home.py).
    assert large_counts.pop("home") <= 16, counts(large)
    assert max(large_counts.values()) <= 8, large_counts
