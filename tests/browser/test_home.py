"""The to-do home page on a phone and on a desktop: each item shows while
its cause exists and goes once resolved, no sideways scrolling, axe-core
finds nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import clock, factories

from .conftest import axe_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def home_portal(portal, combs, ploufragan):
    from extranet.models import User
    from home.models import News

    family = User.objects.get(site=combs, username="demo").family
    data = factories.campaign(combs)
    factories.payer(family)
    factories.simulator(combs)
    lea = factories.student(family, "Léa", courses=data["courses"])
    invoice = factories.issued(family, due_date=clock.TODAY - timedelta(days=5))
    News.objects.create(
        site=combs,
        title="Concert de Noël des élèves",
        body="Mercredi à 19 h, à l’auditorium.",
        publish_from=clock.TODAY,
    )
    News.objects.create(
        site=ploufragan, title="Spectacle à Ploufragan", body="x", publish_from=clock.TODAY
    )
    return {"url": portal, "family": family, "data": data, "lea": lea, "invoice": invoice}


def no_sideways_scroll(page):
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", [360, 1280])
def test_the_todo_home_then_resolved(page: Page, home_portal, width):
    from billing import ledger
    from billing.models import Payment
    from families.models import FamilyDocument
    from reenrollment.models import ReenrollmentRequest
    from students.models import StudentDocument

    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, home_portal["url"])
    expect(page.get_by_role("heading", name="À faire")).to_be_visible()
    todo = page.locator("section", has=page.get_by_role("heading", name="À faire"))
    expect(todo.get_by_role("heading", name="Factures à payer")).to_be_visible()
    expect(todo.get_by_text("En retard\u00a0: 186,00\u00a0€.")).to_be_visible()
    expect(todo.get_by_role("button", name="Payer")).to_be_visible()
    expect(todo.get_by_text("Justificatif de domicile").first).to_be_visible()
    expect(todo.get_by_text("Certificat médical (danse)").first).to_be_visible()
    expect(todo.get_by_role("link", name="Réinscrire Léa")).to_be_visible()
    expect(page.get_by_role("heading", name="Cette semaine")).to_be_visible()
    expect(page.get_by_role("heading", name="Concert de Noël des élèves")).to_be_visible()
    expect(page.get_by_text("Spectacle à Ploufragan")).to_have_count(0)
    assert no_sideways_scroll(page)
    assert axe_violations(page) == []

    # Resolved: paid, documents sent, the request sent.
    family, data, lea = home_portal["family"], home_portal["data"], home_portal["lea"]
    invoice = home_portal["invoice"]
    ledger.record_payment(family, invoice.total, Payment.Mode.CHEQUE, [(invoice, invoice.total)])
    for kind in [data["proof"]]:
        FamilyDocument.objects.create(
            family=family,
            kind=kind,
            file="x.pdf",
            original_name="x.pdf",
            content_type="application/pdf",
            size=1,
        )
    StudentDocument.objects.create(
        student=lea,
        kind=data["medical"],
        file="x.pdf",
        original_name="x.pdf",
        content_type="application/pdf",
        size=1,
    )
    ReenrollmentRequest.objects.create(
        campaign=data["campaign"],
        student=lea,
        status=ReenrollmentRequest.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )
    assert invoice.total > Decimal(0)
    page.reload()
    expect(page.get_by_text("Rien à faire pour le moment.")).to_be_visible()
    expect(page.get_by_role("heading", name="Factures à payer")).to_have_count(0)
    expect(page.get_by_role("link", name="Réinscrire Léa")).to_have_count(0)
    assert no_sideways_scroll(page)
    assert axe_violations(page) == []


def test_pay_from_the_home_page_reaches_the_bank(page: Page, home_portal):
    page.set_viewport_size({"width": 360, "height": 800})
    sign_in(page, home_portal["url"])
    page.get_by_role("button", name="Payer").click()
    page.wait_for_load_state("load")
    assert "/facturation/banque-simulee/" in page.url, page.url
