"""Cached fragments of the parent pages never show stale data: after a change by any
path (a parent's form, the admin, a bulk update as tasks and imports make, the
secretariat changing the fee grid), the next page shows it. With the test suite's
database cache and with Redis, as in production."""

import os
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from families.demo import SECRETARIAT_PERMISSIONS as FAMILIES
from fees.models import FamilyIncome, Price
from fees.permissions import SECRETARIAT_PERMISSIONS
from students.models import Enrollment

from . import factories

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


@pytest.fixture(params=["database", "redis"], autouse=True)
def page_cache(request, settings):
    if request.param == "redis":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_URL,
                "KEY_PREFIX": "test-page-cache",
            }
        }
    cache.clear()
    yield request.param
    cache.clear()


def plain(response):
    assert response.status_code == 200
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def data(combs):
    return factories.campaign(combs)


@pytest.fixture
def family(parent):
    factories.payer(parent.family)
    return parent.family


@pytest.fixture
def hugo(family, data):
    """Piano this year: 260 € at T3 in the agglomeration."""
    return factories.student(family, "Hugo", courses=[data["courses"][1]], sex="M")


@pytest.fixture
def grid(combs, data):
    return factories.fee_grid(combs, data["this_year"])["grid"]


def statement(client):
    return plain(client.get(reverse("billing:statement")))


def piano_t3(grid):
    return Price.objects.filter(
        item__grid=grid, item__name="Instrument seul", band__code="T3", zone__name="Agglomération"
    )


def test_the_estimate_is_served_from_the_cache(parent_client, family, hugo, grid):
    assert "Total pour Hugo 260,00 €" in statement(parent_client)
    # Changed behind the versions' back (raw SQL): the cached fragment shows.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE fees_price SET amount = 1 WHERE id = %s", [piano_t3(grid).get().pk])
    assert "Total pour Hugo 260,00 €" in statement(parent_client)


def test_a_parents_income_form_shows_at_once(parent_client, family, hugo, grid, data):
    assert "Sans quotient familial" in statement(parent_client)
    edit = reverse("fees:income_edit", args=[data["this_year"].pk])
    response = parent_client.post(edit, {"reference_income": "3000", "parts": "1"})
    assert response.status_code == 302
    shown = statement(parent_client)
    assert "Sans quotient familial" not in shown
    assert "à vérifier" in shown


def test_the_secretariat_changing_a_price_in_the_admin_shows_at_once(
    parent_client, family, hugo, grid, combs
):
    assert "Total pour Hugo 260,00 €" in statement(parent_client)
    price = piano_t3(grid).select_related("item", "band", "zone").get()
    secretary = factories.signed_in(factories.staff(combs, SECRETARIAT_PERMISSIONS + FAMILIES))
    name = f"price-{price.item_id}-{price.band_id}-{price.zone_id}"
    prices = reverse("admin:fees_feegrid_prices", args=[grid.pk])
    assert secretary.post(prices, {name: "300"}).status_code == 302
    assert "Total pour Hugo 300,00 €" in statement(parent_client)


def test_a_bulk_update_of_the_grid_shows_at_once(parent_client, family, hugo, grid):
    assert "Total pour Hugo 260,00 €" in statement(parent_client)
    piano_t3(grid).update(amount=Decimal("280.00"))
    assert "Total pour Hugo 280,00 €" in statement(parent_client)


def test_enrollments_made_in_bulk_show_at_once(parent_client, family, hugo, grid, data):
    assert "Danse" not in statement(parent_client).partition("Estimation des frais")[2]
    # As the enrollments import makes them.
    Enrollment.objects.bulk_create([Enrollment(student=hugo, course=data["courses"][2])])
    assert "Danse" in statement(parent_client).partition("Estimation des frais")[2]
    Enrollment.objects.filter(student=hugo, course=data["courses"][2]).delete()
    assert "Danse" not in statement(parent_client).partition("Estimation des frais")[2]


def test_the_secretariat_verifying_an_income_shows_at_once(parent_client, family, hugo, grid, data):
    factories.income(family, data["this_year"], reference_income="3000", parts="1")
    assert "à vérifier" in statement(parent_client)
    income = FamilyIncome.objects.get(family=family)
    income.verified = True
    income.save()
    assert "à vérifier" not in statement(parent_client)


def test_another_familys_change_keeps_this_familys_fragment(
    parent_client, family, hugo, grid, combs, data
):
    statement(parent_client)
    other = factories.make_parent(combs, username="other", family_name="Durand").family
    before = type(family).objects.get(pk=family.pk).content_version
    factories.student(other, "Zoé", courses=[data["courses"][1]])
    assert type(family).objects.get(pk=family.pk).content_version == before


# The Famille tab: its people (contacts, guardians) and its documents' checklist.


def family_page(client):
    response = client.get(reverse("families:family"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_familys_people_are_served_from_the_cache(parent_client, family):
    assert "Claire" in family_page(parent_client)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE families_guardian SET first_name = 'Raw' WHERE family_id = %s", [family.pk]
        )
    assert "Claire" in family_page(parent_client)


def test_a_parents_contact_form_shows_at_once(parent_client, family):
    family_page(parent_client)
    response = parent_client.post(
        reverse("families:edit"),
        {
            "reference_email": "nouvelle.adresse@example.org",
            "reference_mobile": "0612345678",
            "version": type(family).objects.get(pk=family.pk).version,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "nouvelle.adresse@example.org" in family_page(parent_client)


def test_a_guardian_changed_by_the_secretariat_shows_at_once(parent_client, family):
    assert "Claire" in family_page(parent_client)
    guardian = family.guardians.get()
    guardian.first_name = "Mathilde"
    guardian.save()
    assert "Mathilde" in family_page(parent_client)
    family.guardians.update(city="Melun")
    assert "Melun" in family_page(parent_client)


def test_documents_uploaded_then_accepted_in_bulk_show_at_once(parent_client, family, combs):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from documents.models import DocumentKind
    from families.models import FamilyDocument

    from . import files

    kind = DocumentKind.objects.create(
        site=combs, name="Justificatif de domicile", scope=DocumentKind.Scope.FAMILY
    )
    assert "Justificatif de domicile" in family_page(parent_client)
    assert "edf.pdf" not in family_page(parent_client)
    upload = SimpleUploadedFile("edf.pdf", files.pdf(), "application/pdf")
    parent_client.post(reverse("families:document_upload"), {"kind": kind.pk, "file": upload})
    page = family_page(parent_client)
    assert "edf.pdf" in page
    assert "doc-state-accepted" not in page
    # As the admin's « accept » action does.
    FamilyDocument.objects.filter(family=family).update(status=FamilyDocument.Status.ACCEPTED)
    assert "doc-state-accepted" in family_page(parent_client)


# The Facturation tab's statement: its lines, totals and overdue marks.


def test_a_payment_recorded_by_the_secretariat_shows_at_once(parent_client, family):
    from billing import ledger
    from billing.models import Payment

    invoice = factories.issued(family)
    page = statement(parent_client)
    assert invoice.number in page
    assert "RÈGLEMENT" not in page
    ledger.record_payment(
        family, Decimal("50.00"), Payment.Mode.CASH, [(invoice, Decimal("50.00"))]
    )
    assert "RÈGLEMENT" in statement(parent_client)


def test_an_invoice_falls_overdue_the_next_day_without_any_change(parent_client, parent, family):
    from datetime import datetime, time, timedelta

    import time_machine
    from django.utils import timezone

    invoice = factories.issued(family)
    response = parent_client.get(reverse("billing:statement"))
    assert 'class="overdue"' not in response.content.decode()
    later = datetime.combine(invoice.due_date + timedelta(days=1), time(10))
    with time_machine.travel(timezone.make_aware(later), tick=False):
        parent_client.force_login(parent)  # the session would have expired
        response = parent_client.get(reverse("billing:statement"))
    assert 'class="overdue"' in response.content.decode()


def test_a_search_is_never_answered_from_the_cache(parent_client, family):
    first = factories.issued(family, label="Cotisations piano")
    second = factories.issued(family, label="Location d’instrument")
    page = statement(parent_client)
    assert first.number in page and second.number in page
    searched = plain(parent_client.get(reverse("billing:statement"), {"q": "Location"}))
    assert "1 ligne trouvée" in searched
    table = searched.partition("Relevé de compte, du plus récent")[2].partition(
        "Montant total facturé"
    )[0]
    assert second.number in table
    assert first.number not in table
