"""A SEPA mandate signed on a phone: the form (with a typing mistake first),
the code read from a real SMTP server, the confirmation, the mandate box."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.mail_sink import SMTPSink

from .conftest import axe_violations, page_width, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def mandate_portal(portal, combs):
    from extranet.models import User

    family = User.objects.get(site=combs, username="demo").family
    family.reference_email = "famille.martin@example.org"
    family.save()
    factories.payer(family)
    factories.creditor(combs)
    return portal


def check_page(page):
    assert page_width(page) <= PHONE["width"]
    assert axe_violations(page) == []


def test_sign_a_mandate_on_a_phone(page: Page, mandate_portal, settings, free_port, run_worker):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port, "timeout": 5},
        }
    }
    page.set_viewport_size(PHONE)
    sign_in(page, mandate_portal)
    page.goto(f"{mandate_portal}/facturation/prelevement/")
    expect(page.get_by_role("heading", name="Payer par prélèvement", level=1)).to_be_visible()
    expect(page.get_by_label("Titulaire du compte")).to_have_value("Claire Martin")
    expect(page.get_by_text(re.compile("En signant ce formulaire de mandat"))).to_be_visible()
    check_page(page)

    # A typing mistake: told next to the field, nothing recorded.
    page.get_by_label("IBAN").fill("FR76 3000 6000 0112 3456 7890 188")
    page.get_by_role("button", name="Continuer : recevoir le code").click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.get_by_text(re.compile("Cet IBAN n.est pas valide")).first).to_be_visible()
    check_page(page)

    page.get_by_label("IBAN").fill("fr76 3000 6000 0112 3456 7890 189")
    page.get_by_role("button", name="Continuer : recevoir le code").click()
    expect(page.get_by_role("heading", name="Signer le mandat", level=1)).to_be_visible()
    expect(page.get_by_text("FR76 3000 6000 0112 3456 7890 189")).to_be_visible()
    expect(page.get_by_text("FR72ZZZ123456")).to_be_visible()
    check_page(page)

    with SMTPSink(free_port) as sink:
        run_worker()
    (message,) = sink.messages
    body = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    code = re.search(r"^(\d{6})\r?$", body.get_payload(decode=True).decode(), re.M).group(1)

    page.get_by_label("Code reçu par e-mail").fill(code)
    page.get_by_role("button", name="Signer le mandat").click()
    expect(page.get_by_text("Votre mandat est signé")).to_be_visible()
    box = page.locator(".mandate-box")
    expect(box.get_by_text("Claire Martin")).to_be_visible()
    expect(box.get_by_text(re.compile(r"EXT-\d{4}-\d{6}-\d{4}"))).to_be_visible()
    for link in ["Télécharger le mandat (PDF)", "Changer de compte bancaire", "Révoquer le mandat"]:
        expect(box.get_by_role("link", name=link)).to_be_visible()
    check_page(page)

    pdf = page.request.get(
        mandate_portal
        + box.get_by_role("link", name="Télécharger le mandat (PDF)").get_attribute("href")
    )
    assert pdf.headers["content-type"] == "application/pdf" and pdf.body()[:5] == b"%PDF-"

    # The revocation asks first.
    box.get_by_role("link", name="Révoquer le mandat").click()
    expect(page.get_by_role("heading", name="Révoquer le mandat", level=1)).to_be_visible()
    check_page(page)


def test_choose_ten_instalments_sign_a_mandate_and_see_the_schedule(
    page: Page, mandate_portal, combs, settings, free_port, run_worker
):
    """The whole path of a family paying by direct debit, on a phone: the
    plan on the Facturation tab, the mandate signed with the e-mailed code,
    then the invoice's schedule, each instalment to be debited."""
    from billing import ledger
    from extranet.models import User

    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port, "timeout": 5},
        }
    }
    family = User.objects.get(site=combs, username="demo").family
    year = factories.school_year(combs)
    factories.instalment_plans(combs)
    page.set_viewport_size(PHONE)
    sign_in(page, mandate_portal)
    page.goto(f"{mandate_portal}/facturation/")
    expect(page.get_by_role("heading", name="Modalités de paiement")).to_be_visible()
    check_page(page)
    page.get_by_label(re.compile("10 prélèvements mensuels")).check()
    page.get_by_role("button", name="Enregistrer la formule").click()
    expect(
        page.get_by_text(re.compile("Votre formule de paiement est enregistrée"))
    ).to_be_visible()
    check_page(page)

    page.get_by_role("link", name="Payer par prélèvement").click()
    page.get_by_label("IBAN").fill("FR7630006000011234567890189")
    page.get_by_role("button", name="Continuer : recevoir le code").click()
    with SMTPSink(free_port) as sink:
        run_worker()
    body = next(p for p in sink.messages[0].walk() if p.get_content_type() == "text/plain")
    code = re.search(r"^(\d{6})\r?$", body.get_payload(decode=True).decode(), re.M).group(1)
    page.get_by_label("Code reçu par e-mail").fill(code)
    page.get_by_role("button", name="Signer le mandat").click()
    expect(page.get_by_text("Votre mandat est signé")).to_be_visible()

    # The secretariat issues the year's invoice: ten instalments at most, from today.
    invoice = ledger.issue(
        factories.draft(family, lines=(("Cotisation", "1186.00"),), school_year=year)
    )
    count = invoice.instalments.count()
    assert 1 <= count <= 10
    page.goto(f"{mandate_portal}/facturation/")
    schedule = page.locator("table.schedule")
    expect(schedule.locator("caption")).to_contain_text(invoice.number)
    expect(schedule.locator("tbody tr")).to_have_count(count)
    expect(schedule.locator("tbody tr").first).to_contain_text("à venir")
    expect(page.locator(".mandate-box")).to_contain_text("FR76")
    check_page(page)
