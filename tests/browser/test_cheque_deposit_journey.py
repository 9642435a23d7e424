"""A secretary gathers the cheques to deposit on a slip, with the keyboard
and the mouse, in a real browser; every page passes axe-core."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import Page, expect

from billing import ledger
from billing.demo import SECRETARIAT_PERMISSIONS
from billing.models import ChequeDeposit, Payment
from extranet.models import User
from tests import factories
from tests.clock import TODAY

from .conftest import axe_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cheques(portal, combs):
    family = User.objects.get(site=combs, username="demo").family
    found = []
    for amount, number, bank in [
        ("1000.00", "1111111", "La Banque Postale"),
        ("186.00", "2222222", ""),
    ]:
        invoice = factories.issued(family, lines=[("Piano", amount)])
        found.append(
            ledger.record_payment(
                family,
                Decimal(amount),
                Payment.Mode.CHEQUE,
                [(invoice, Decimal(amount))],
                reference=number,
                bank=bank,
                date=TODAY - timedelta(days=2),
            )
        )
    secretary = User.objects.create_user(
        site=combs,
        username="secretariat",
        password=factories.PASSWORD,
        email="secretariat@example.org",
        is_staff=True,
    )
    secretary.user_permissions.set(Permission.objects.filter(codename__in=SECRETARIAT_PERMISSIONS))
    return found


def normalised(text):
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def test_the_secretary_makes_a_slip_of_the_cheques_to_deposit(page: Page, portal, cheques):
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, portal, username="secretariat")
    page.goto(f"{portal}/admin/billing/chequedeposit/")
    assert axe_violations(page) == []
    page.locator(".object-tools").get_by_role("link", name=re.compile("Ajouter")).click()
    expect(page).to_have_url(re.compile(r"/admin/billing/payment/\?remise=no$"))
    page.get_by_role("checkbox", name=re.compile("Sélectionner tous")).check()
    action = "Faire un bordereau de remise de chèques"
    page.locator("select[name=action]").select_option(label=action)
    page.get_by_role("button", name="Exécuter").click()
    expect(
        page.get_by_role("heading", name="Faire un bordereau de remise de chèques")
    ).to_be_visible()
    assert "1 186,00 €" in normalised(page.locator("table.billing-deposit").inner_text())
    assert axe_violations(page) == []
    page.get_by_label("Banque").fill("DGFiP – Trésor public")
    page.get_by_role("button", name="Faire le bordereau").click()
    expect(page.locator(".messagelist")).to_contain_text("2 chèques")
    assert axe_violations(page) == []
    deposit = ChequeDeposit.objects.get()
    expect(page.get_by_role("heading", name=re.compile(deposit.number))).to_be_visible()
    link = page.get_by_role("link", name="Imprimer le bordereau (PDF)")
    pdf = page.request.get(portal + link.get_attribute("href"))
    assert pdf.headers["content-type"] == "application/pdf" and pdf.body()[:5] == b"%PDF-"
