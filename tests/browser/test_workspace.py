"""The secretariat's "Aujourd'hui" in Chromium: at 1280 px and on a phone,
with no accessibility violation, and the site switcher used as a secretary
working for two sites would."""

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.factories import PASSWORD
from tests.test_dashboard import day_of_work
from workspace import roles

from .conftest import axe_violations, page_width, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}


def test_the_dashboard_and_the_site_switcher(page: Page, live_server, combs, ploufragan):
    day_of_work(combs)
    day_of_work(ploufragan)
    secretary = factories.member(combs, roles.SECRETARIAT, roles.CASH_OFFICE)
    secretary.set_password(PASSWORD)
    secretary.save()
    secretary.other_sites.add(ploufragan)

    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, username="secretariat")
    page.goto(f"{live_server.url}/admin/")
    expect(page.get_by_role("heading", name="Aujourd’hui")).to_be_visible()
    expect(page.locator(".today-intro")).to_contain_text(combs.name)
    assert axe_violations(page) == []
    assert page_width(page) <= 1280

    page.get_by_label("Vous travaillez pour").select_option(label=ploufragan.name)
    page.get_by_role("button", name="Changer de site").click()
    expect(page.get_by_text("Vous travaillez maintenant pour Centre culturel")).to_be_visible()
    page.get_by_role("link", name="2 Familles sans compte").click()
    expect(page.get_by_role("link", name="Sans compte", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Fermée", exact=True)).to_be_visible()
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.get_by_label("Vous travaillez pour")).to_have_value(str(ploufragan.pk))

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/admin/")
    expect(page.get_by_role("heading", name="Documents")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    assert axe_violations(page) == []
