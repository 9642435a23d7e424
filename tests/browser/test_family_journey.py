import re

import pytest
from playwright.sync_api import Page, expect

from documents.models import DocumentKind
from families.models import Guardian
from tests import files

from .conftest import axe_violations, page_width, sign_in, tab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def family_portal(portal, combs):
    from extranet.models import User

    parent = User.objects.get(site=combs, username="demo")
    Guardian.objects.create(
        family=parent.family,
        civility="MME",
        first_name="Claire",
        last_name="Martin",
        address_line1="12 rue des Tilleuls",
        postal_code="77380",
        city="Combs-la-Ville",
        mobile_phone="+33612345678",
    )
    DocumentKind.objects.create(
        site=combs, name="Justificatif de domicile", required=True, proves_address=True
    )
    return portal


def test_edit_a_guardian_and_upload_a_document_on_a_phone(page: Page, family_portal, tmp_path):
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, family_portal)
    tab(page, "Famille")
    expect(page.get_by_role("heading", name="Famille Martin")).to_be_visible()
    assert axe_violations(page) == []
    assert page_width(page) <= 360

    page.get_by_role("link", name=re.compile("Modifier.*Claire Martin")).click()
    assert axe_violations(page) == []
    page.get_by_label("Code postal").fill("7738")
    page.get_by_role("button", name="Enregistrer").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("5 chiffres")
    expect(summary).to_be_focused()
    assert axe_violations(page) == []
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Code postal")).to_be_focused()

    page.get_by_label("Code postal").fill("77000")
    page.get_by_role("textbox", name=re.compile(r"^Ville")).fill("Melun")
    page.get_by_label("Profession", exact=True).fill("Pianiste")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", name="Éléments modifiés")).to_be_visible()
    expect(page.get_by_role("cell", name="Melun")).to_be_visible()
    expect(page.get_by_text("justificatif de domicile").first).to_be_visible()
    assert axe_violations(page) == []

    page.get_by_role("link", name="Retour à la fiche").click()
    pdf = tmp_path / "justificatif.pdf"
    pdf.write_bytes(files.pdf())
    page.get_by_label("Type de document").select_option(label="Justificatif de domicile")
    page.get_by_label(re.compile("Fichier")).set_input_files(str(pdf))
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_role("status")).to_contain_text("reçu")
    row = page.get_by_role("row", name=re.compile("Justificatif de domicile"))
    expect(row).to_contain_text("À valider")
    expect(row.get_by_role("link", name="justificatif.pdf")).to_be_visible()
    assert axe_violations(page) == []


def test_family_pages_pass_axe_on_desktop(page: Page, family_portal):
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, family_portal)
    for path in ["/famille/", "/famille/modifier/", "/famille/responsables/ajouter/"]:
        page.goto(family_portal + path)
        assert axe_violations(page) == [], path
    page.goto(family_portal + "/famille/responsables/ajouter/")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page) == [], "guardian form with errors"
