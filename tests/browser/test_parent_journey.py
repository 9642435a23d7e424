import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, make_parent

from .conftest import axe_violations, page_width, sign_in, tab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_parent_signs_in_sets_preferences_and_signs_out(page: Page, portal, viewport):
    page.set_viewport_size(viewport)
    sign_in(page, portal)
    expect(page.get_by_role("heading", name="Bienvenue", exact=True)).to_be_visible()
    expect(page.get_by_text("Famille Martin")).to_be_visible()
    expect(page.get_by_text("Bienvenue à Combs-la-Ville.")).to_be_visible()
    # Nothing sticks out sideways on a phone.
    assert page_width(page) <= viewport["width"]

    tab(page, "Accessibilité")
    normal_size = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    page.get_by_label("Texte agrandi").check()
    page.get_by_label("Contraste renforcé").check()
    page.get_by_label(re.compile("Police adaptée")).check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("enregistrées")

    tab(page, "Accueil")
    html = page.locator("html")
    expect(html).to_have_class(re.compile("pref-large-text"))
    expect(html).to_have_class(re.compile("pref-high-contrast"))
    # The new page's stylesheet may still be on its way on a busy machine.
    page.wait_for_load_state("load")
    larger = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert larger >= normal_size * 1.2
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "OpenDyslexic" in font
    # The font file itself is served from this site (waiting for it: a busy machine is slow).
    assert page.evaluate(
        "document.fonts.load('16px OpenDyslexic').then("
        "faces => faces.length > 0 && document.fonts.check('16px OpenDyslexic'))"
    )
    assert axe_violations(page) == []

    tab(page, "Déconnexion", role="button")
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
    page.goto(f"{portal}/")
    expect(page).to_have_url(re.compile(r"/connexion/"))


def test_right_credentials_on_the_wrong_site_are_refused(page: Page, portal, combs):
    make_parent(combs, username="martin-seul", family_name="Martin seul")
    sign_in(page, portal, site="Centre culturel de Ploufragan", username="martin-seul")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("incorrect")
    assert axe_violations(page) == []
    # The same identifiant and password on its own site open the family.
    sign_in(page, portal, username="martin-seul")
    expect(page.get_by_text("Famille Martin seul")).to_be_visible()


def test_keyboard_only_sign_in(page: Page, portal):
    page.goto(f"{portal}/connexion/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Site")).to_be_focused()
    page.keyboard.type("Conservatoire")  # Type-ahead selects the site.
    page.keyboard.press("Tab")
    page.keyboard.type("demo")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_text("Famille Martin")).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_axe_finds_no_violation_on_any_page(page: Page, portal, viewport):
    page.set_viewport_size(viewport)
    public = [
        "/connexion/",
        "/mot-de-passe-perdu/",
        "/mot-de-passe-perdu/envoye/",
        "/declaration-accessibilite/combs-la-ville/",
        "/nouveau-mot-de-passe/MQ/bad-token/",
        "/bienvenue/MQ/bad-token/",
    ]
    for path in public:
        page.goto(portal + path)
        assert axe_violations(page) == [], path
    # A form with errors, its summary and messages.
    page.goto(portal + "/connexion/")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page) == [], "login with errors"

    sign_in(page, portal)
    for path in ["/", "/accessibilite/", "/mot-de-passe/"]:
        page.goto(portal + path)
        assert axe_violations(page) == [], path
    page.goto(portal + "/mot-de-passe/")
    page.get_by_role("button", name="Enregistrer").click()
    # The page with errors, loaded: not the one being left.
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page) == [], "password change with errors"


def test_language_switch(page: Page, portal):
    page.goto(f"{portal}/connexion/")
    page.get_by_label("Langue").select_option("en")
    page.get_by_role("button", name="Changer").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_axe_check_detects_a_real_violation(page: Page):
    # Guards the checks above against passing vacuously.
    page.set_content('<html lang="fr"><body><img src="x.png"><input type="text"></body></html>')
    found = {violation_id for violation_id, _help, _nodes in axe_violations(page)}
    assert {"image-alt", "label"} <= found
