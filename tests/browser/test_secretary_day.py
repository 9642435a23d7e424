"""A secretary's day on a 1280 px screen, in Chromium: from « Aujourd'hui » she
reviews a document, validates a re-enrollment request, issues an invoice,
records the cheque that pays it and prints the deposit slip. Each page passes
axe-core and fits the screen."""

import io
import re

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from billing.models import ChequeDeposit, Invoice, Payment
from families.models import FamilyDocument
from reenrollment.models import ReenrollmentRequest
from tests import factories
from tests.factories import PASSWORD
from tests.test_dashboard import day_of_work
from workspace import roles

from .conftest import axe_violations, page_width, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREEN = {"width": 1280, "height": 800}


def normalised(text):
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def check(page):
    assert axe_violations(page) == []
    assert page_width(page) <= SCREEN["width"]


def figure(page, label):
    """The dashboard's figure whose label matches `label`."""
    return page.locator(".today-figures a").filter(has_text=re.compile(label))


@pytest.fixture
def day(live_server, combs, ploufragan):
    data = day_of_work(combs)
    day_of_work(ploufragan)  # Never seen from Combs-la-Ville.
    secretary = factories.member(combs, roles.SECRETARIAT, roles.CASH_OFFICE)
    secretary.set_password(PASSWORD)
    secretary.save()
    family = data["campaign"].requests.first().student.family
    draft = factories.draft(family, label="Stage de printemps", lines=[("Stage", "186.00")])
    return {"url": live_server.url, "family": family, "draft": draft, **data}


def test_the_secretarys_day(page: Page, day, combs):
    url, family = day["url"], day["family"]
    page.set_viewport_size(SCREEN)
    sign_in(page, url, username="secretariat")

    # « Aujourd'hui »: two family documents and one student document to check.
    page.goto(f"{url}/admin/")
    expect(page.get_by_role("heading", name="Aujourd’hui")).to_be_visible()
    check(page)
    documents = figure(page, "Documents de famille")
    expect(documents.locator(".today-count")).to_have_text("2")
    documents.click()

    # The oldest document first: she accepts it.
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    check(page)
    page.locator("#result_list tbody tr").first.locator("a").first.click()
    page.get_by_label("Statut").select_option(label="Accepté")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.locator(".messagelist")).to_be_visible()
    pending = FamilyDocument.objects.filter(
        family__site=combs, status=FamilyDocument.Status.PENDING
    )
    assert pending.count() == 1
    page.goto(f"{url}/admin/")
    expect(documents.locator(".today-count")).to_have_text("1")

    # A request sent by a family: she validates it with next year's courses.
    sent = figure(page, "Envoyée").first
    sent.click()
    check(page)
    page.get_by_role("link", name=re.compile("Paul")).first.click()
    check(page)
    page.get_by_label(re.compile("valider avec les cours")).check()
    # The civil liability certificate is still missing: she knows, and validates anyway.
    page.get_by_label("Valider bien que des documents manquent ou soient refusés").check()
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.locator(".messagelist")).to_be_visible()
    paul = ReenrollmentRequest.objects.get(student__first_name="Paul", campaign=day["campaign"])
    assert paul.status == ReenrollmentRequest.Status.VALIDATED

    # The family at a glance, then its draft invoice, issued from its own page.
    page.goto(f"{url}/admin/famille/{family.pk}/")
    expect(page.get_by_role("heading", name=f"Famille {family.name}")).to_be_visible()
    check(page)
    page.get_by_role("link", name="Stage de printemps").click()
    check(page)
    page.get_by_role("button", name="Émettre…").click()
    expect(page.get_by_role("heading", name="Émettre le brouillon")).to_be_visible()
    check(page)
    page.get_by_role("button", name="Émettre la facture").click()
    expect(page.locator(".messagelist")).to_contain_text("1 facture émise")
    invoice = Invoice.objects.get(pk=day["draft"].pk)
    assert invoice.number

    # The family's cheque, recorded from the overview against that invoice.
    page.goto(f"{url}/admin/famille/{family.pk}/")
    page.get_by_role("link", name="Enregistrer un règlement").click()
    check(page)
    page.get_by_label("Mode de règlement :", exact=True).select_option(label="chèque")
    page.locator("#id_reference").fill("7654321")
    page.locator("#id_drawer").fill("M. Signée")
    page.locator("#id_amount").fill("186.00")
    allocation = page.locator("#allocations-group tbody tr.form-row").first
    allocation.locator(".select2-selection").click()
    page.locator(".select2-search__field").fill(invoice.number)
    page.locator(".select2-results__option", has_text=invoice.number).click()
    allocation.locator("input[name$='-amount']").fill("186.00")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.locator(".messagelist")).to_be_visible()
    cheque = Payment.objects.get(reference="7654321")
    assert cheque.mode == Payment.Mode.CHEQUE and cheque.deposit is None

    # The cheques to deposit, on a slip she prints.
    page.goto(f"{url}/admin/billing/payment/?remise=no")
    check(page)
    # Hers, and the two the family's earlier cheques left waiting (30,00 € and 20,50 €).
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    page.get_by_role("checkbox", name=re.compile("Sélectionner tous")).check()
    page.locator("select[name=action]").select_option(
        label="Faire un bordereau de remise de chèques"
    )
    page.get_by_role("button", name="Exécuter").click()
    check(page)
    page.get_by_label("Banque").fill("DGFiP – Trésor public")
    page.get_by_role("button", name="Faire le bordereau").click()
    expect(page.locator(".messagelist")).to_contain_text("3 chèques")
    check(page)
    cheque.refresh_from_db()
    deposit = cheque.deposit
    assert deposit == ChequeDeposit.objects.filter(site=combs).latest("pk")
    link = page.get_by_role("link", name="Imprimer le bordereau (PDF)")
    pdf = page.request.get(url + link.get_attribute("href"))
    assert pdf.headers["content-type"] == "application/pdf"
    text = normalised(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages))
    assert deposit.number in text and "7654321" in text and "186,00 €" in text
    assert "236,50 €" in text  # The slip's total.
    assert deposit.cheques.count() == 3


def test_the_payments_list_shows_its_amounts_on_a_1280_screen(page: Page, day, combs):
    page.set_viewport_size(SCREEN)
    sign_in(page, day["url"], username="secretariat")
    page.goto(f"{day['url']}/admin/billing/payment/?remise=no")
    amounts = page.locator("#result_list td.field-amount_display")
    expect(amounts.first).to_be_visible()
    box = amounts.first.bounding_box()
    assert box["x"] + box["width"] <= SCREEN["width"]
    assert page.evaluate("document.querySelector('.results').scrollWidth") <= page.evaluate(
        "document.querySelector('.results').clientWidth"
    )
    check(page)
