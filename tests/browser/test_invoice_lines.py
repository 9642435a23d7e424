"""The invoice lines editor on a secretary's 1280 × 800 screen: each line,
up to its amount, is seen without scrolling sideways; then the draft is
issued from its own page."""

import re

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import Page, expect

from billing.demo import SECRETARIAT_PERMISSIONS
from billing.models import Invoice
from extranet.models import User
from tests import factories

from .conftest import axe_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREEN = {"width": 1280, "height": 800}


@pytest.fixture
def draft(portal, combs):
    family = User.objects.get(site=combs, username="demo").family
    factories.payer(family)
    hugo = factories.student(family, "Hugo")
    invoice = factories.draft(
        family,
        lines=[("Cursus complet – piano, formation musicale et orchestre", "1186.00")],
    )
    line = invoice.lines.get()
    line.student = hugo
    line.explanation = "Tranche T2 (quotient familial 612 €), commune de l’agglomération"
    line.save()
    secretary = User.objects.create_user(
        site=combs,
        username="secretariat",
        password=factories.PASSWORD,
        email="secretariat@example.org",
        is_staff=True,
    )
    secretary.user_permissions.set(Permission.objects.filter(codename__in=SECRETARIAT_PERMISSIONS))
    return invoice


def right_edge(locator):
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"]


def test_the_lines_fit_a_1280_screen_and_the_draft_is_issued_from_its_page(
    page: Page, portal, draft
):
    page.set_viewport_size(SCREEN)
    sign_in(page, portal, username="secretariat")
    page.goto(f"{portal}/admin/billing/invoice/{draft.pk}/change/")
    expect(page.locator("#lines-group")).to_be_visible()
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREEN["width"]
    # Nor inside the inline's own scrolling box.
    table = page.locator("#lines-group div.wrapper")
    assert table.evaluate("e => e.scrollWidth <= e.clientWidth"), table.evaluate(
        "e => [e.scrollWidth, e.clientWidth]"
    )
    rows = page.locator("#lines-group tr.form-row:not(.empty-form)")
    assert rows.count() == 2  # The line and an empty one.
    for index in range(rows.count()):
        row = rows.nth(index)
        for name in ["quantity", "unit_price"]:
            field = row.locator(f"input[name$='-{name}']")
            expect(field).to_be_visible()
            assert right_edge(field) <= SCREEN["width"], (index, name)
        amount = row.locator("td.field-amount_display")
        assert right_edge(amount) <= SCREEN["width"], index
    first = rows.first
    assert first.locator("input[name$='-unit_price']").input_value() == "1186.00"
    amount = first.locator("td.field-amount_display").inner_text()
    assert amount.replace("\u202f", " ").replace("\u00a0", " ") == "1 186,00 €"
    assert axe_violations(page) == []

    # « Émettre » saves the draft, shows what will be issued, then issues it.
    page.get_by_role("button", name="Émettre…").click()
    expect(page.get_by_role("heading", name="Émettre le brouillon")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Émettre la facture").click()
    expect(page.locator(".messagelist")).to_contain_text("1 facture émise.")
    draft.refresh_from_db()
    assert draft.status == Invoice.Status.ISSUED
    expect(page.get_by_text(re.compile(re.escape(draft.number)))).not_to_have_count(0)
    expect(page.get_by_role("button", name="Émettre…")).to_have_count(0)
