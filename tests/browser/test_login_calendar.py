"""The login page (show password with the keyboard, the site remembered and a
site's own address) and the family's week with its calendar link, at 360 px."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests import factories

from .conftest import axe_violations, page_width, sign_in, tab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLOUFRAGAN = "Centre culturel de Ploufragan"


def test_show_password_with_the_keyboard(page: Page, portal):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{portal}/connexion/")
    password = page.locator("#id_password")
    password.fill("Un secret")
    toggle = page.get_by_role("button", name="Afficher le mot de passe")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    password.focus()
    page.keyboard.press("Tab")
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(password).to_have_attribute("type", "text")
    page.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(password).to_have_attribute("type", "password")
    assert page_width(page) <= 360
    assert axe_violations(page) == []


def test_the_site_is_remembered_and_carried_to_lost_password(page: Page, portal):
    page.goto(f"{portal}/connexion/")
    page.get_by_label("Site").select_option(label=PLOUFRAGAN)
    lost = page.get_by_role("link", name="Mot de passe perdu ?")
    expect(lost).to_have_attribute("href", re.compile(r"\?site=ploufragan$"))
    lost.click()
    expect(page.get_by_label("Site")).to_have_value("ploufragan")
    # Signed in once on a site, the browser offers it next time.
    sign_in(page, portal, site=PLOUFRAGAN)
    expect(page.get_by_text("Famille Le Goff")).to_be_visible()
    tab(page, "Déconnexion", role="button")
    page.goto(f"{portal}/connexion/")
    expect(page.get_by_label("Site")).to_have_value("ploufragan")
    assert axe_violations(page) == []


def test_a_sites_own_login_address(page: Page, portal):
    page.goto(f"{portal}/connexion/ploufragan/")
    expect(page.get_by_label("Site")).to_have_value("ploufragan")
    assert axe_violations(page) == []
    page.get_by_label("Identifiant").fill("demo")
    page.locator("#id_password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_text("Famille Le Goff")).to_be_visible()


@pytest.fixture
def week_portal(portal, combs):
    from extranet.models import User

    family = User.objects.get(site=combs, username="demo").family
    year = factories.school_year(combs)
    courses = factories.structure(combs, year)["courses"]
    factories.student(family, "Léa", courses=[courses[0], courses[2]])
    factories.student(family, "Hugo-Alexandre-Maximilien", courses=[courses[1]])
    return portal


@pytest.mark.parametrize("width", [360, 1280])
def test_the_week_and_the_calendar_link(page: Page, week_portal, width):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, week_portal)
    page.goto(f"{week_portal}/eleves/emploi-du-temps/")
    expect(page.get_by_role("heading", name=re.compile(r"^Semaine du "))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Mercredi \d+ "))).to_be_visible()
    assert page_width(page) <= width
    assert axe_violations(page) == []
    page.get_by_role("button", name="Créer mon lien").click()
    link = page.get_by_label("Votre lien privé")
    expect(link).to_have_value(re.compile(r"^http://.+/calendrier/.+\.ics$"))
    feed_url = link.input_value()
    subscribe = page.get_by_role("link", name="M’abonner dans mon agenda")
    expect(subscribe).to_have_attribute("href", "webcal://" + feed_url.split("://", 1)[1])
    copy = page.get_by_role("button", name="Copier le lien")
    copy.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Lien copié.")
    assert page.evaluate("navigator.clipboard.readText()") == feed_url
    page.get_by_text("Apple Calendrier").click()
    expect(page.get_by_text("Ajouter un calendrier avec abonnement")).to_be_visible()
    assert page_width(page) <= width
    assert axe_violations(page) == []
    page.get_by_role("link", name="Semaine suivante").click()
    expect(page).to_have_url(re.compile(r"\?semaine=\d{4}-\d{2}-\d{2}$"))
    assert page_width(page) <= width
