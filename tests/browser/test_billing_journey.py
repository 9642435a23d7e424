"""The Facturation tab on a phone: the statement, an invoice's PDF, and two
invoices paid at once through the simulated bank."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests import factories

from .conftest import axe_violations, page_width, sign_in, tab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def billing_portal(portal, combs):
    from extranet.models import User

    family = User.objects.get(site=combs, username="demo").family
    family.reference_email = "famille.martin@example.org"
    family.save()
    factories.payer(family)
    factories.simulator(combs)
    factories.issued(family, label="Cotisations", lines=[("Piano", "1186.00")])
    factories.issued(family, label="Location", lines=[("Violon", "60.00")])
    return portal


def normalised(text):
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def test_statement_invoice_pdf_and_online_payment_on_a_phone(page: Page, billing_portal):
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, billing_portal)
    tab(page, "Facturation")
    expect(page.get_by_role("heading", name="Facturation", level=1)).to_be_visible()
    assert "-1 246,00 €" in normalised(page.locator("dl.totals").inner_text())
    assert page_width(page) <= 360
    assert axe_violations(page) == []

    # An invoice line opens its PDF (a plain link, reachable with the keyboard).
    link = page.get_by_role("link", name=re.compile("Ouvrir la facture .*FAC0001"))
    link.focus()
    expect(link).to_be_focused()
    pdf = page.request.get(billing_portal + link.get_attribute("href"))
    assert pdf.headers["content-type"] == "application/pdf" and pdf.body()[:5] == b"%PDF-"

    # Both invoices paid in one transaction.
    expect(page.get_by_role("checkbox")).to_have_count(2)
    page.get_by_role("button", name="Payer en ligne").click()
    expect(page.get_by_role("heading", name="Banque simulée")).to_be_visible()
    assert "1 246,00 €" in normalised(page.locator("main").inner_text())
    assert axe_violations(page) == []
    page.get_by_role("button", name="Payer", exact=True).click()
    expect(
        page.get_by_text(re.compile("votre règlement de 1.246,00.€ est enregistré", re.IGNORECASE))
    ).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name=re.compile("Retour au relevé")).click()
    assert "0,00 €" in normalised(page.locator("dl.totals").inner_text())
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("cell", name="carte bancaire en ligne")).to_be_visible()
    assert axe_violations(page) == []
