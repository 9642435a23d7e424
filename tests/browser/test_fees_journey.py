"""The fee estimate on a phone: a family saves its re-enrollment wishes and reads
next year's estimate on the validation step, then this year's on the Facturation
tab; both fit a 360 px screen and pass axe-core."""

import re

import pytest
from playwright.sync_api import Page, expect

from fees.models import FeeGrid
from tests import factories

from .conftest import axe_violations, page_width, sign_in, tab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def fees_portal(portal, combs):
    from extranet.models import User

    family = User.objects.get(site=combs, username="demo").family
    factories.payer(family)
    data = factories.campaign(combs)
    courses = data["courses"]
    factories.student(family, "Léa", courses=[courses[0], courses[2]])  # FM and dance.
    factories.student(family, "Hugo", courses=[courses[1]], sex="M")  # Piano.
    factories.fee_grid(combs, data["this_year"])
    factories.fee_grid(combs, data["next_year"], billing=FeeGrid.Billing.TERMS)
    factories.income(family, data["next_year"])  # Declared: 742 €, T2.
    return portal, data


def check_page(page):
    assert page_width(page) <= PHONE["width"]
    assert axe_violations(page) == []


def test_the_family_reads_its_estimates_on_a_phone(page: Page, fees_portal):
    url, data = fees_portal
    page.set_viewport_size(PHONE)
    sign_in(page, url)
    tab(page, "Réinscription")
    page.get_by_role("link", name="Réinscrire Léa").click()
    page.get_by_role("link", name=re.compile("Étape suivante.+souhaits")).click()
    page.get_by_role("button", name="Enregistrer les souhaits").click()

    # Next year, T2 declared: Hugo's piano (counted as continued) 180 €; Léa's dance
    # 120 − 10 % = 108 €, her formation musicale 90 − 50 % − 10 % = 40,50 €; fee 20 €.
    next_year = data["next_year"].name
    expect(page.get_by_role("heading", name=f"Estimation des frais {next_year}")).to_be_visible()
    expect(page.get_by_text("à vérifier par le secrétariat")).to_be_visible()
    expect(page.get_by_text("Les souhaits de Hugo ne sont pas encore enregistrés")).to_be_visible()
    lea = page.get_by_role("region", name=f"Estimation des frais {next_year} : Pour Léa")
    expect(lea.get_by_role("row", name=re.compile("Total pour Léa"))).to_contain_text(
        "148,50\u00a0€"
    )
    expect(lea).to_contain_text("2e enfant : −10 %")
    total = page.locator("dd", has_text="348,50")
    expect(total).to_be_visible()
    expect(page.get_by_text(re.compile("Trimestre 1, à régler le 15/11/"))).to_be_visible()
    check_page(page)

    # This year, on the Facturation tab, no quotient given: the highest band, 478 €.
    tab(page, "Facturation")
    this_year = data["this_year"].name
    expect(page.get_by_role("heading", name=f"Estimation des frais {this_year}")).to_be_visible()
    expect(
        page.get_by_text("Sans quotient familial, le tarif le plus élevé s’applique.")
    ).to_be_visible()
    expect(page.locator("dd", has_text="478,00")).to_be_visible()
    check_page(page)


def test_the_family_enters_its_quotient_and_sends_the_notice_then_reads_the_estimate(
    page: Page, portal, combs
):
    from documents.models import DocumentKind
    from extranet.models import User

    family = User.objects.get(site=combs, username="demo").family
    factories.payer(family)
    data = factories.campaign(combs)
    courses = data["courses"]
    factories.student(family, "Léa", courses=[courses[0], courses[2]])  # FM and dance.
    factories.fee_grid(combs, data["next_year"], billing=FeeGrid.Billing.TERMS)
    DocumentKind.objects.create(site=combs, name="Avis d'imposition", proves_income=True)
    next_year = data["next_year"].name
    page.set_viewport_size(PHONE)
    sign_in(page, portal)

    # From the re-enrollment's documents step to the quotient familial page.
    tab(page, "Réinscription")
    page.get_by_role("link", name="Réinscrire Léa").click()
    page.get_by_role("link", name="Voir ou saisir le quotient familial").click()
    check_page(page)
    page.get_by_role("link", name=f"Saisir le quotient familial {next_year}").click()
    page.get_by_label("Revenu fiscal de référence", exact=False).fill("22 260")
    page.get_by_label("Nombre de parts").fill("2,5")
    page.get_by_role("button", name="Enregistrer").click()
    # 22 260 ÷ 12 ÷ 2,5 = 742 €: band T2, to be checked by the secretariat.
    section = page.get_by_role("region", name=f"Année scolaire {next_year}")
    expect(section).to_contain_text("742,00")
    expect(section).to_contain_text("T2")
    expect(section).to_contain_text("à vérifier")
    check_page(page)

    page.get_by_label("Type de document").select_option(label="Avis d'imposition")
    page.get_by_label("Fichier (PDF, JPEG ou PNG)").set_input_files(
        files=[{"name": "avis.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}]
    )
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_role("status")).to_contain_text("Document reçu")
    expect(page.get_by_role("region", name=re.compile("Documents"))).to_contain_text("À valider")
    check_page(page)

    # The estimate of the validation step uses the declared band (T2), marked to be checked:
    # Léa's dance 120 €, her formation musicale 90 − 50 % = 45 €, the fee 20 €.
    tab(page, "Réinscription")
    page.get_by_role("link", name="Réinscrire Léa").click()
    page.get_by_role("link", name=re.compile("Étape suivante.+souhaits")).click()
    page.get_by_role("button", name="Enregistrer les souhaits").click()
    expect(page.get_by_role("heading", name=f"Estimation des frais {next_year}")).to_be_visible()
    expect(page.get_by_text("à vérifier par le secrétariat")).to_be_visible()
    expect(
        page.get_by_role("region", name=re.compile(f"Estimation des frais {next_year} : Pour Léa"))
    ).to_contain_text("T2")
    expect(page.locator("dd", has_text="185,00")).to_be_visible()
    check_page(page)


def pdf_bytes():
    from tests import files

    return files.pdf()
