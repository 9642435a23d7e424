"""The secretariat writes to the families of a course in Chromium, previews
who receives it and who must be phoned, sends it, reads the log; then the
waiting list of a full course. Every page passes axe-core."""

import re

import pytest
from playwright.sync_api import Page, expect

from reenrollment import workflow
from reenrollment.models import ReenrollmentRequest, Wish
from tests import factories
from tests.factories import PASSWORD

from .conftest import axe_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def secretariat_portal(portal, combs):
    from extranet.models import User

    data = factories.campaign(combs)
    fm = data["courses"][0]
    martin = User.objects.get(site=combs, username="demo").family
    factories.student(martin, "Léa", courses=[fm, data["courses"][2]])
    durand = factories.make_parent(combs, username="durand", family_name="Durand", email="")
    factories.payer(durand.family, first_name="Paul", mobile_phone="+33612345678")
    factories.student(durand.family, "Zoé", courses=[fm])
    # Next year's dance class full, Léa on its waiting list.
    dance = data["next"]["dance"]
    dance.capacity = 1
    dance.save()
    other = factories.make_parent(combs, username="petit", family_name="Petit")
    factories.student(other.family, "Inès", courses=[dance])
    request = ReenrollmentRequest.objects.create(
        campaign=data["campaign"], student=martin.students.get(), status="submitted"
    )
    Wish.objects.create(
        request=request, choice=Wish.Choice.CONTINUE, discipline=data["dance"], rank=1
    )
    workflow.validate(request, [dance], None, "http://testserver", when_full=workflow.WAITING_LIST)
    User.objects.create_user(
        site=combs, username="secretariat", password=PASSWORD, is_staff=True, is_superuser=True
    )
    return portal, fm


def test_a_message_to_a_course_then_the_waiting_list(page: Page, secretariat_portal):
    url, fm = secretariat_portal
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, url, username="secretariat")
    page.goto(f"{url}/admin/messaging/message/add/")
    assert axe_violations(page) == []
    page.get_by_label("Objet").fill("Concert de Noël")
    page.get_by_label("Texte").fill("Le concert a lieu samedi.\n\nhttps://example.org/concert")
    page.get_by_label("les familles d’un cours").check()
    page.get_by_label(re.compile("^Cours")).select_option(value=str(fm.pk))
    page.get_by_role("button", name="Enregistrer", exact=True).click()

    # The preview: one family by e-mail, one to phone.
    expect(page.get_by_role("heading", name="2 familles")).to_be_visible()
    phones = page.get_by_role("table", name=re.compile("sans e-mail, à appeler"))
    expect(phones.get_by_role("row", name=re.compile("Durand"))).to_contain_text("06 12 34 56 78")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Envoyer à 1 famille").click()

    # Sent: read only, with its log.
    expect(page.locator(".messagelist")).to_contain_text("Le message part vers 1 famille.")
    expect(page.get_by_text("pas d’e-mail\u00a0: à appeler")).to_be_visible()
    expect(page.get_by_role("button", name="Enregistrer", exact=True)).to_have_count(0)
    assert axe_violations(page) == []
    page.goto(f"{url}/admin/messaging/message/")
    assert axe_violations(page) == []

    # The waiting list of next year's dance class.
    page.goto(f"{url}/admin/reenrollment/reenrollmentrequest/")
    page.get_by_role("link", name="Listes d’attente").click()
    table = page.get_by_role("table", name=re.compile("Danse classique"))
    expect(table).to_contain_text("1/1 places occupées")
    expect(table.get_by_role("row", name=re.compile("Léa Martin"))).to_contain_text("1")
    assert axe_violations(page) == []
    page.goto(f"{url}/admin/students/course/")
    expect(page.get_by_role("cell", name="1/1")).to_be_visible()
    assert axe_violations(page) == []
