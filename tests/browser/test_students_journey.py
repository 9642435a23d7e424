import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests import factories

from .conftest import axe_violations, page_width, sign_in, tab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def students_portal(portal, combs):
    from extranet.models import User

    family = User.objects.get(site=combs, username="demo").family
    year = factories.school_year(combs)
    structure = factories.structure(combs, year)
    courses = structure["courses"]
    factories.student(family, "Léa", courses=[courses[0], courses[2]])
    factories.student(family, "Hugo", courses=[courses[1]])
    return portal


def test_student_courses_week_and_medical_form_on_a_phone(page: Page, students_portal):
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, students_portal)
    tab(page, "Élèves")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Léa Martin").click()
    expect(page.get_by_role("heading", name="Léa Martin")).to_be_visible()
    assert axe_violations(page) == []

    page.get_by_role("link", name="Cours", exact=True).click()
    expect(page.get_by_role("rowheader", name="Danse classique")).to_be_visible()
    assert page_width(page) <= 360
    assert axe_violations(page) == []

    page.get_by_role("link", name="La semaine de la famille").click()
    expect(page.get_by_role("heading", name="Mercredi")).to_be_visible()
    expect(page.get_by_text("Hugo").first).to_be_visible()
    assert page_width(page) <= 360
    assert axe_violations(page) == []
    page.get_by_role("button", name="Créer mon lien").click()
    expect(page.get_by_label("Votre lien privé")).to_have_value(re.compile(r"/calendrier/.+\.ics$"))
    assert axe_violations(page) == []

    tab(page, "Élèves")
    page.get_by_role("link", name="Léa Martin").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Certificat médical à imprimer")).click()
    download = download_info.value
    assert download.suggested_filename == "certificat-medical-lea-martin.pdf"
    assert Path(download.path()).read_bytes()[:5] == b"%PDF-"

    page.get_by_role("link", name="Historique", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Historique de Léa"))).to_be_visible()
    assert axe_violations(page) == []
