"""On a phone: a parent leaves the bank's page, comes back, resumes the
payment, then abandons another one at once and pays again; the return page
shows the payment it returns from."""

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
    factories.issued(family, label="Cotisations", lines=[("Piano", "117.00")])
    factories.issued(family, label="Location", lines=[("Violon", "60.00")])
    return portal


def normalised(text):
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def test_resume_abandon_and_pay_again_on_a_phone(page: Page, billing_portal):
    from billing.models import OnlinePayment

    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, billing_portal)
    tab(page, "Facturation")
    page.get_by_role("button", name="Payer en ligne").click()
    expect(page.get_by_role("heading", name="Banque simulée")).to_be_visible()
    # The parent leaves the bank's page and comes back to the portal.
    page.goto(billing_portal + "/facturation/")
    pending = OnlinePayment.objects.get()
    expect(page.get_by_role("heading", name="Paiement en cours")).to_be_visible()
    expect(
        page.get_by_text(re.compile(f"Paiement {pending.short_reference} de 177"))
    ).to_be_visible()
    assert page_width(page) <= 360
    assert axe_violations(page) == []

    # Resumed: the same transaction at the bank.
    page.get_by_role("button", name=re.compile("Reprendre le paiement")).click()
    expect(page.get_by_role("heading", name="Banque simulée")).to_be_visible()
    assert pending.transaction_id in page.url

    # Left again, then abandoned at once; a new payment starts immediately.
    page.goto(billing_portal + "/facturation/")
    page.get_by_role("button", name=re.compile("Abandonner")).click()
    expect(page.get_by_text(re.compile("est abandonné"))).to_be_visible()
    expect(page.get_by_role("heading", name="Paiement en cours")).to_have_count(0)
    assert axe_violations(page) == []
    page.get_by_role("checkbox", name=re.compile("FAC0001")).uncheck()
    page.get_by_role("button", name="Payer en ligne").click()
    expect(page.get_by_role("heading", name="Banque simulée")).to_be_visible()
    assert "60,00 €" in normalised(page.locator("main").inner_text())
    page.get_by_role("button", name="Payer", exact=True).click()

    # The return page shows this 60 € payment, not another.
    paid = OnlinePayment.objects.get(status=OnlinePayment.Status.PAID)
    main = normalised(page.locator("main").inner_text())
    assert "60,00 €" in main and "117,00" not in main and paid.short_reference in main
    assert page_width(page) <= 360
    assert axe_violations(page) == []
