"""The secretariat's overview of a family, in a real browser: on a 1280 px
screen and on a phone, nothing scrolls sideways and axe-core finds nothing;
an action is a button that says what it did."""

import pytest
from playwright.sync_api import Page, expect

from extranet.models import User
from tests import factories
from tests.test_family_overview import PERMISSIONS, fill

from .conftest import axe_violations, page_width, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


def test_the_overview_on_a_desktop_and_a_phone(page: Page, portal, combs):
    family = User.objects.get(site=combs, username="demo").family
    family.reference_mobile = "+33612345678"
    family.save()
    fill(family, factories.campaign(combs), 2)
    secretary = factories.staff(combs, PERMISSIONS)
    secretary.set_password(factories.PASSWORD)
    secretary.save()
    page.set_viewport_size(DESKTOP)
    sign_in(page, portal, username="secretariat")
    page.goto(f"{portal}/admin/families/family/")
    page.get_by_role("link", name="Vue d’ensemble – Martin").click()
    expect(page.get_by_role("heading", name="Famille Martin 1", level=1)).to_be_visible()
    for heading in ["Responsables", "Élèves et cours", "Documents", "Relevé et solde", "Comptes"]:
        expect(page.get_by_role("heading", name=heading, exact=False).first).to_be_visible()
    assert page_width(page) <= DESKTOP["width"]
    assert axe_violations(page) == []

    page.get_by_role("button", name="Lien de réinitialisation du mot de passe – demo").click()
    expect(page.locator(".messagelist")).to_contain_text("part à demo.combs-la-ville@example.org")
    assert axe_violations(page) == []

    page.set_viewport_size(PHONE)
    page.reload()
    assert page_width(page) <= PHONE["width"]
    assert axe_violations(page) == []
