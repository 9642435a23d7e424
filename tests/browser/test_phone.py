"""A parent on a 360 px phone: no page scrolls sideways, axe-core finds
nothing, the tabs sit behind a keyboard-friendly « Menu » button (all of them
shown on a desktop), and the statement is a list of cards (a table on a
desktop)."""

import re
from datetime import time, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests import clock, factories

from .conftest import axe_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
TABS = ["Accueil", "Famille", "Élèves", "Réinscription", "Facturation", "Accessibilité"]


@pytest.fixture
def family_portal(portal, combs):
    """The demo family with two students (courses this year, a past year with
    results), an open re-enrollment campaign, and an account with an overdue
    invoice, a paid one and a cheque."""
    from billing import ledger
    from billing.models import Payment
    from extranet.models import User
    from students.models import Course, Enrollment

    family = User.objects.get(site=combs, username="demo").family
    family.reference_email = "famille.martin@example.org"
    family.save()
    data = factories.campaign(combs)
    courses = data["courses"]
    lea = factories.student(family, "Léa", courses=[courses[0], courses[2]])
    factories.student(family, "Hugo", courses=[courses[1]], sex="M")
    last_year = factories.school_year(combs, clock.THIS_YEAR - 1)
    past = Course.objects.create(
        site=combs,
        school_year=last_year,
        discipline=courses[0].discipline,
        weekday=2,
        start_time=time(17),
        end_time=time(18),
        level="Cycle 1 – 1re année",
        teacher=courses[0].teacher,
        room=courses[0].room,
    )
    Enrollment.objects.create(
        student=lea,
        course=past,
        result="Admise en 2e année",
        appreciation="Très bon travail, une écoute remarquable en classe.",
    )
    today = clock.TODAY
    factories.payer(family)
    late = ledger.issue(
        factories.draft(
            family,
            label="Cotisations – Léa et Hugo Martin, formation musicale, piano, danse",
            lines=[("Piano", "1186.00")],
            due_date=today - timedelta(days=10),
        ),
        today=today - timedelta(days=40),
    )
    paid = factories.issued(family, label="Adhésion")
    ledger.record_payment(
        family,
        Decimal("186.00"),
        Payment.Mode.CHEQUE,
        [(paid, Decimal("186.00"))],
        reference="0001234567",
    )
    return {"url": portal, "student": lea, "late": late}


def fits(page, what):
    page.wait_for_load_state("load")
    overflow = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]",
    )
    assert overflow[0] <= overflow[1], (what, overflow)
    assert axe_violations(page) == [], what


def test_every_parent_page_fits_a_phone(page: Page, family_portal):
    url, student = family_portal["url"], family_portal["student"]
    page.set_viewport_size(PHONE)
    sign_in(page, url)
    paths = [
        "/",
        "/famille/",
        "/famille/modifier/",
        "/famille/responsables/ajouter/",
        f"/famille/responsables/{student.family.guardians.first().pk}/modifier/",
        "/eleves/",
        f"/eleves/{student.pk}/",
        f"/eleves/{student.pk}/cours/",
        f"/eleves/{student.pk}/historique/",
        "/reinscription/",
        f"/reinscription/{student.pk}/",
        f"/reinscription/{student.pk}/souhaits/",
        f"/reinscription/{student.pk}/validation/",
        "/facturation/",
        "/facturation/?q=piano&du=32/13/2026",
        "/accessibilite/",
        "/mot-de-passe/",
    ]
    for path in paths:
        response = page.goto(url + path)
        assert response.ok, path
        fits(page, path)
    # The history as cards: the discipline first, each value with its visible label.
    page.goto(f"{url}/eleves/{student.pk}/historique/")
    card = page.locator("table.table-cards tbody tr").first
    expect(card.get_by_text("Professeur", exact=True)).to_be_visible()
    expect(card.get_by_text("Admise en 2e année")).to_be_visible()
    # A form sent with errors still fits.
    page.goto(url + "/famille/modifier/")
    page.locator("#id_reference_email").fill("pas-un-email")
    page.get_by_role("button", name="Enregistrer").first.click()
    fits(page, "family form with errors")


def test_menu_button_with_the_keyboard_on_a_phone(page: Page, family_portal):
    url = family_portal["url"]
    page.set_viewport_size(PHONE)
    sign_in(page, url)
    button = page.get_by_role("button", name="Menu")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_have_attribute("aria-controls", "portal-menu")
    for name in TABS:
        expect(page.get_by_role("link", name=name, exact=True)).to_be_hidden()
    # Tab from the top: the skip link, then the menu button, with a visible focus.
    page.locator("body").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(button).to_be_focused()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Accueil", exact=True)).to_be_focused()
    for name in TABS[1:]:
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name=name, exact=True)).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert axe_violations(page) == []
    # Escape closes it and gives the focus back to the button.
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()
    # Enter again, then a tab followed.
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Facturation", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Facturation", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")


def test_without_javascript_every_tab_shows(browser, family_portal):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    sign_in(page, family_portal["url"])
    expect(page.get_by_role("button", name="Menu")).to_have_count(0)
    for name in TABS:
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()


def test_full_nav_on_a_desktop(page: Page, family_portal):
    page.set_viewport_size(DESKTOP)
    sign_in(page, family_portal["url"])
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    for name in TABS:
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Déconnexion")).to_be_visible()


def display_of(page, selector):
    return page.locator(selector).first.evaluate("element => getComputedStyle(element).display")


def test_statement_cards_on_a_phone_table_on_a_desktop(page: Page, family_portal):
    url, late = family_portal["url"], family_portal["late"]
    page.set_viewport_size(PHONE)
    sign_in(page, url)
    page.goto(url + "/facturation/")
    assert display_of(page, "table.statement tr") == "block"
    # One card holds the line's date, label, amount and PDF link together.
    card = page.locator("table.statement tbody tr", has_text=late.number)
    expect(card.get_by_text("Date", exact=True)).to_be_visible()
    expect(
        card.get_by_text((clock.TODAY - timedelta(days=40)).strftime("%d/%m/%Y"))
    ).to_be_visible()
    expect(card.get_by_role("link", name=re.compile("FACTURE – Cotisations"))).to_be_visible()
    expect(card.get_by_text(re.compile(r"1\s186,00\s€"))).to_be_visible()
    expect(card.get_by_text("en retard")).to_be_visible()
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    fits(page, "statement, phone")

    page.set_viewport_size(DESKTOP)
    page.reload()
    assert display_of(page, "table.statement tr") == "table-row"
    expect(page.locator("table.statement thead")).to_be_visible()
    expect(page.locator("table.statement .cell-label").first).to_be_hidden()
    headers = page.locator("table.statement thead th").all_inner_texts()
    assert headers[:4] == ["Date", "Mode de règlement", "Numéro d’opération", "Libellé"]
    fits(page, "statement, desktop")


def test_statement_search_in_the_browser(page: Page, family_portal):
    url, late = family_portal["url"], family_portal["late"]
    page.set_viewport_size(PHONE)
    sign_in(page, url)
    page.goto(url + "/facturation/")
    page.get_by_label("Recherche").fill("adhésion")
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_role("status")).to_contain_text("1 ligne trouvée")
    expect(page.locator("table.statement tbody tr")).to_have_count(1)
    page.get_by_label("Du", exact=True).fill("2020-01-01")
    page.get_by_label("Au", exact=True).fill("2019-01-01")
    page.get_by_role("button", name="Afficher").click()
    field = page.get_by_label("Au", exact=True)
    expect(field).to_have_accessible_description(re.compile("antérieure à la date de début"))
    fits(page, "search with a bad range")
    page.get_by_role("link", name="Effacer la recherche").click()
    expect(page.locator("table.statement tbody tr", has_text=late.number)).to_have_count(1)
