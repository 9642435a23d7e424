"""The whole re-enrollment, in Chromium on a phone: a family fills both its
students' requests, the secretariat marks one incomplete and validates the
other in the admin, and the e-mails arrive at a real SMTP server."""

import re
from email.header import decode_header, make_header

import pytest
from playwright.sync_api import Page, expect

from tests import clock, factories, files
from tests.factories import PASSWORD
from tests.mail_sink import SMTPSink

from .conftest import axe_violations, page_width, sign_in, tab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
NEXT_STEP = re.compile("Étape suivante.+souhaits")
ACCEPT = re.compile("J.accepte le règlement intérieur")


@pytest.fixture
def campaign_portal(portal, combs):
    from extranet.models import User
    from families.models import FamilyDocument

    family = User.objects.get(site=combs, username="demo").family
    family.reference_email = "famille.martin@example.org"
    family.save()
    data = factories.campaign(combs)
    courses = data["courses"]
    factories.student(family, "Léa", courses=[courses[0], courses[2]])  # FM and dance.
    factories.student(family, "Hugo", courses=[courses[1]], sex="M")  # Piano.
    for kind in [data["proof"], data["insurance"]]:
        FamilyDocument.objects.create(
            family=family,
            kind=kind,
            file="x.pdf",
            original_name=f"{kind.name}.pdf",
            content_type="application/pdf",
            size=1,
            status=FamilyDocument.Status.ACCEPTED,
        )
    User.objects.create_user(
        site=combs,
        username="secretariat",
        password=PASSWORD,
        email="secretariat@example.org",
        is_staff=True,
        is_superuser=True,
    )
    return portal


def subject(message):
    return str(make_header(decode_header(message["Subject"])))


def check_page(page):
    assert page_width(page) <= PHONE["width"]
    assert axe_violations(page) == []


def test_two_requests_from_the_phone_to_the_secretariats_decisions(
    page: Page, campaign_portal, settings, free_port, run_worker, tmp_path
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port, "timeout": 5},
        }
    }
    url = campaign_portal
    page.set_viewport_size(PHONE)
    sign_in(page, url)

    # Léa: the dance certificate is missing; it is uploaded from the first step.
    tab(page, "Réinscription")
    expect(page.get_by_text("Vérifiez les pièces, indiquez vos souhaits, validez.")).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="Réinscrire Léa").click()
    expect(page.get_by_role("cell", name="Manquant")).to_be_visible()
    check_page(page)
    certificate = tmp_path / "certificat.pdf"
    certificate.write_bytes(files.pdf())
    page.get_by_label("Type de document").select_option(label="Certificat médical (danse)")
    page.get_by_label(re.compile("Fichier")).set_input_files(str(certificate))
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_role("cell", name="À valider")).to_be_visible()
    check_page(page)
    page.get_by_role("link", name=NEXT_STEP).click()
    check_page(page)
    lea_fm = page.get_by_role("group", name=re.compile("Formation musicale"))
    expect(lea_fm.get_by_label("Poursuivre")).to_be_checked()
    page.get_by_label("Premier choix").select_option(label="Piano")
    page.get_by_label("Niveau de formation musicale proposé").select_option(
        label="Cycle 1 – 3e année"
    )
    page.get_by_label("Commentaire pour le secrétariat").fill("Piano le mercredi si possible.")
    page.get_by_role("button", name="Enregistrer les souhaits").click()

    # Validation: the rules must be accepted.
    expect(page.get_by_role("heading", name="Règlement intérieur")).to_be_visible()
    expect(page.get_by_text("Article 1 – Respect des horaires.")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("alert")).to_contain_text("règlement intérieur")
    check_page(page)
    page.get_by_label(ACCEPT).check()
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", name="Votre demande a été envoyée")).to_be_visible()
    check_page(page)

    # Hugo: piano continued, nothing missing.
    page.get_by_role("link", name="Retour à tous les élèves").first.click()
    page.get_by_role("link", name="Réinscrire Hugo").click()
    expect(page.get_by_text("Certificat médical")).to_have_count(0)
    page.get_by_role("link", name=NEXT_STEP).click()
    page.get_by_role("button", name="Enregistrer les souhaits").click()
    page.get_by_label(ACCEPT).check()
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", name="Votre demande a été envoyée")).to_be_visible()
    tab(page, "Déconnexion", role="button")

    # The secretariat, in the admin (a desktop).
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, url, username="secretariat")
    page.goto(f"{url}/admin/reenrollment/reenrollmentrequest/")
    page.get_by_role("link", name="Léa Martin").click()
    expect(page.get_by_text("Certificat médical (danse)")).to_be_visible()
    page.get_by_label(re.compile("incomplète")).check()
    page.get_by_label("Ce qui manque").fill("Le certificat doit être signé par le médecin.")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.locator(".messagelist")).to_be_visible()

    page.get_by_role("link", name="Hugo Martin").click()
    courses = page.get_by_label(re.compile("Cours de l.an prochain"))
    expect(courses.locator("option:checked")).to_have_count(1)
    page.get_by_label(re.compile("valider avec les cours")).check()
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.locator(".messagelist")).to_be_visible()

    # The family sees the secretariat's note on the tab, on the phone.
    page.context.clear_cookies()
    page.set_viewport_size(PHONE)
    sign_in(page, url)
    tab(page, "Réinscription")
    expect(page.get_by_text("Le certificat doit être signé par le médecin.")).to_be_visible()
    check_page(page)

    with SMTPSink(free_port) as sink:
        run_worker()
    messages = {(m["To"], subject(m)): m for m in sink.messages}
    subjects = sorted(subject for _, subject in messages)
    assert len(sink.messages) == 6, subjects  # 2 × (family + secretariat), incomplete, validated.

    def body(message):
        part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
        return part.get_payload(decode=True).decode()

    family_mails = [m for (to, _), m in messages.items() if to == "famille.martin@example.org"]
    secretariat_mails = [
        m for (to, _), m in messages.items() if to == "conservatoire.combs@example.org"
    ]
    assert len(family_mails) == 4 and len(secretariat_mails) == 2
    incomplete = next(m for m in family_mails if "incomplet" in subject(m))
    assert "Le certificat doit être signé par le médecin." in body(incomplete)
    validated = body(next(m for m in family_mails if "validée" in subject(m)))
    assert "Piano" in validated and "Auditorium" in validated
    meeting = factories.parent_meeting(clock.THIS_YEAR + 1)  # In September.
    assert any(
        meeting.strftime(form) in validated for form in ["%d/%m/%Y", f"{meeting.day} septembre %Y"]
    )
    lea_summary = body(next(m for m in secretariat_mails if "Léa" in subject(m)))
    assert "Piano le mercredi si possible." in lea_summary
    assert "/admin/reenrollment/reenrollmentrequest/" in lea_summary
