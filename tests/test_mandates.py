"""The SEPA mandate signed online by the family: the form and its IBAN/BIC
checks, the one-time code, the signed PDF and e-mails, the change of account,
the revocation, the lapse, the secretariat's admin."""

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from billing.models import Instalment
from directdebit import mandates
from directdebit.models import Batch, Debit, Mandate

from . import clock, factories
from .factories import make_parent
from .html_fields import assert_error_next_to_field
from .mail_sink import SMTPSink

# The worker sends what the views queue after their commit: real transactions.
pytestmark = pytest.mark.django_db(transaction=True)

FR_IBAN = "FR7630006000011234567890189"  # Crédit Agricole: AGRIFRPP.
OTHER_IBAN = "FR1420041010050500013M02606"  # La Banque Postale: PSSTFRPP.
THIRD_IBAN = "DE89370400440532013000"  # Commerzbank: COBADEFF.
BE_IBAN = "BE68539007547034"  # A bank schwifty cannot name: the BIC is asked.


def pdf_text(content):
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def response_bytes(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def family(parent, combs):
    family = parent.family
    family.reference_email = "famille.martin@example.org"
    family.save()
    factories.payer(family)
    factories.creditor(combs)
    return family


@pytest.fixture
def stranger(combs):
    """Another family of the same site, with its own mandate."""
    user = make_parent(combs, username="durand", family_name="Durand")
    return user


@pytest.fixture
def stranger_client(stranger):
    return factories.signed_in(stranger)


def form_data(**fields):
    return {
        "holder_name": "Claire Martin",
        "holder_address": "12 rue des Tilleuls\n77380 Combs-la-Ville",
        "iban": FR_IBAN,
        "bic": "",
        **fields,
    }


def last_code():
    message = mail.outbox[-1]
    return re.search(r"\b(\d{6})\b", message.subject).group(1)


def start(client, run_worker, **fields):
    response = client.post(reverse("directdebit:mandate"), form_data(**fields))
    assert response.status_code == 302, response.context["form"].errors
    pending = Mandate.objects.filter(status=Mandate.Status.PENDING).latest("pk")
    assert response["Location"] == reverse("directdebit:confirm", args=[pending.pk])
    run_worker()
    return pending


def sign(client, run_worker, **fields):
    pending = start(client, run_worker, **fields)
    response = client.post(reverse("directdebit:confirm", args=[pending.pk]), {"code": last_code()})
    assert response.status_code == 302
    pending.refresh_from_db()
    return pending


# The form.


def test_the_form_is_prefilled_from_the_payer_and_shows_creditor_and_legal_text(
    parent_client, family
):
    page = parent_client.get(reverse("directdebit:mandate"))
    assert page.status_code == 200
    form = page.context["form"]
    assert form["holder_name"].value() == "Claire Martin"
    assert form["holder_address"].value() == "12 rue des Tilleuls\n77380 Combs-la-Ville"
    text = page.text
    assert "Régie du conservatoire" in text and "FR72ZZZ123456" in text
    assert "En signant ce formulaire de mandat, vous autorisez (A) Régie du conservatoire" in text
    assert "dans les 8 semaines" in text and "13 mois" in text


def test_no_creditor_no_form(parent_client, parent):
    page = parent_client.get(reverse("directdebit:mandate"))
    assert page.context["form"] is None
    assert "ne propose pas le paiement par prélèvement" in page.text
    assert parent_client.post(reverse("directdebit:mandate"), form_data()).status_code == 200
    assert not Mandate.objects.exists()


@pytest.mark.parametrize(
    "iban, message",
    [
        ("FR76 3000", "Cet IBAN n’est pas valide"),
        ("bonjour", "Cet IBAN n’est pas valide"),
        ("FR7730006000011234567890189", "Cet IBAN n’est pas valide"),  # Checksum.
        ("BR1800360305000010009795493C1", "pays de la zone SEPA"),  # Brazil.
        ("", "Saisissez l’IBAN."),
    ],
)
def test_bad_ibans_are_refused_next_to_the_field(parent_client, family, iban, message):
    page = parent_client.post(reverse("directdebit:mandate"), form_data(iban=iban))
    assert page.status_code == 200
    errors = page.context["form"].errors["iban"]
    assert any(message in error for error in errors), errors
    assert "aria-describedby" in page.text and message in page.text
    assert_error_next_to_field(page.text, "iban")
    assert not Mandate.objects.exists() and mail.outbox == []


def test_spaces_and_lower_case_are_accepted_and_the_bic_found(parent_client, family, run_worker):
    pending = start(parent_client, run_worker, iban="  fr76 3000 6000 0112 3456 7890 189 ")
    assert (pending.iban, pending.bic) == (FR_IBAN, "AGRIFRPPXXX")
    assert pending.rum.startswith(f"EXT-{family.site_id:04d}-") and len(pending.rum) <= 35


def test_a_typed_bic_must_be_the_ibans_bank(parent_client, family, run_worker):
    page = parent_client.post(reverse("directdebit:mandate"), form_data(bic="BNPAFRPP"))
    assert page.context["form"].errors["bic"] == [
        "Ce BIC ne correspond pas à la banque de cet IBAN."
    ]
    page = parent_client.post(reverse("directdebit:mandate"), form_data(bic="xyz"))
    assert "Ce BIC n’est pas valide" in page.context["form"].errors["bic"][0]
    assert not Mandate.objects.exists()
    pending = start(parent_client, run_worker, bic="agri frpp 882")  # Its regional bank.
    assert pending.bic == "AGRIFRPP882"


def test_the_bic_is_asked_when_the_iban_does_not_tell_it(parent_client, family, run_worker):
    page = parent_client.post(reverse("directdebit:mandate"), form_data(iban=BE_IBAN))
    assert "Saisissez le BIC" in page.context["form"].errors["bic"][0]
    pending = start(parent_client, run_worker, iban=BE_IBAN, bic="GKCCBEBB")
    assert (pending.iban, pending.bic) == (BE_IBAN, "GKCCBEBB")


def test_a_family_without_email_cannot_sign(parent_client, parent, combs):
    factories.creditor(combs)
    parent.email = ""
    parent.save()
    page = parent_client.get(reverse("directdebit:mandate"))
    assert page.context["form"] is None and "onglet Famille" in page.text


# The code.


def test_the_code_is_sent_after_the_commit_by_the_worker_and_signs(
    parent_client, parent, family, run_worker
):
    response = parent_client.post(reverse("directdebit:mandate"), form_data())
    pending = Mandate.objects.get()
    assert pending.status == Mandate.Status.PENDING and pending.code_hash == ""
    assert mail.outbox == []  # Sent by the worker, after the commit.
    run_worker()
    (message,) = mail.outbox
    assert message.to == ["famille.martin@example.org"]
    code = last_code()
    assert code in message.body
    assert FR_IBAN not in message.body and pending.iban_masked in message.body
    pending.refresh_from_db()
    assert pending.code_hash and code not in pending.code_hash
    page = parent_client.get(response["Location"])
    assert "FR76 3000 6000 0112 3456 7890 189" in page.text and pending.rum in page.text
    response = parent_client.post(response["Location"], {"code": code}, REMOTE_ADDR="192.0.2.7")
    assert response["Location"] == reverse("directdebit:mandate")
    pending.refresh_from_db()
    assert pending.status == Mandate.Status.ACTIVE
    assert (pending.signed_by, pending.signed_from) == (parent, "192.0.2.7")
    assert pending.signed_at is not None and pending.code_hash == ""
    # The PDF and the confirmation, by the worker.
    run_worker()
    pending.refresh_from_db()
    assert pending.pdf
    confirmation = mail.outbox[-1]
    assert pending.rum in confirmation.subject and "signé" in confirmation.subject
    assert FR_IBAN not in confirmation.body and "•" in confirmation.body
    assert not confirmation.attachments
    assert reverse("directdebit:pdf", args=[pending.pk]) in confirmation.body
    # The code cannot sign twice.
    page = parent_client.get(reverse("directdebit:mandate"))
    assert "Télécharger le mandat (PDF)" in page.text


def test_a_wrong_code_signs_nothing(parent_client, family, run_worker):
    pending = start(parent_client, run_worker)
    wrong = f"{(int(last_code()) + 1) % 10**6:06d}"
    page = parent_client.post(reverse("directdebit:confirm", args=[pending.pk]), {"code": wrong})
    assert page.context["form"].errors["code"] == [
        "Ce n’est pas le code envoyé. Il reste 4 essais."
    ]
    page = parent_client.post(reverse("directdebit:confirm", args=[pending.pk]), {"code": "12"})
    assert page.context["form"].errors["code"] == ["Le code a 6 chiffres."]
    pending.refresh_from_db()
    assert pending.status == Mandate.Status.PENDING and pending.code_tries == 1


def test_an_expired_code_signs_nothing(parent_client, family, run_worker):
    pending = start(parent_client, run_worker)
    code = last_code()
    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=5)):
        page = parent_client.post(reverse("directdebit:confirm", args=[pending.pk]), {"code": code})
    assert "Ce code a expiré" in page.context["form"].errors["code"][0]
    pending.refresh_from_db()
    assert pending.status == Mandate.Status.PENDING


def test_five_wrong_tries_void_the_code_and_a_new_code_works(parent_client, family, run_worker):
    pending = start(parent_client, run_worker)
    code = last_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    url = reverse("directdebit:confirm", args=[pending.pk])
    for _ in range(5):
        parent_client.post(url, {"code": wrong})
    page = parent_client.post(url, {"code": code})
    assert "Trop d’essais" in page.context["form"].errors["code"][0]
    response = parent_client.post(reverse("directdebit:new_code", args=[pending.pk]))
    assert response["Location"] == url
    run_worker()
    new = last_code()
    if new != code:  # One chance in a million that they are equal.
        assert (
            "pas le code"
            in parent_client.post(url, {"code": code}).context["form"].errors["code"][0]
        )
    assert parent_client.post(url, {"code": new}).status_code == 302
    pending.refresh_from_db()
    assert pending.status == Mandate.Status.ACTIVE


def test_codes_are_rate_limited_per_family(parent_client, family, run_worker, settings):
    settings.MANDATE_CODES_PER_FAMILY = "3/h"
    pending = start(parent_client, run_worker)
    url = reverse("directdebit:new_code", args=[pending.pk])
    parent_client.post(url)
    parent_client.post(url)
    page = parent_client.post(url, follow=True)
    assert "Trop de tentatives" in page.text
    page = parent_client.post(reverse("directdebit:mandate"), form_data())
    assert "Trop de tentatives" in page.context["form"].non_field_errors()[0]
    run_worker()
    assert len(mail.outbox) == 3


def test_the_code_goes_through_a_real_smtp_server_and_works(
    parent_client, family, run_worker, settings, free_port
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port, "timeout": 5},
        }
    }
    parent_client.post(reverse("directdebit:mandate"), form_data())
    pending = Mandate.objects.get()
    with SMTPSink(free_port) as sink:
        run_worker()
    (received,) = sink.messages
    assert received["To"] == "famille.martin@example.org"
    body = next(p for p in received.walk() if p.get_content_type() == "text/plain")
    text = body.get_payload(decode=True).decode()
    assert FR_IBAN not in text
    code = re.search(r"^(\d{6})\r?$", text, re.MULTILINE).group(1)
    parent_client.post(reverse("directdebit:confirm", args=[pending.pk]), {"code": code})
    pending.refresh_from_db()
    assert pending.status == Mandate.Status.ACTIVE


# The signed PDF.


def test_the_signed_pdf_holds_rum_ics_holder_iban_and_legal_text(parent_client, family, run_worker):
    signed = sign(parent_client, run_worker)
    response = parent_client.get(reverse("directdebit:pdf", args=[signed.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    text = pdf_text(response_bytes(response))
    for expected in [
        signed.rum,
        "FR72ZZZ123456",
        "Claire Martin",
        "FR76 3000 6000 0112 3456 7890 189",
        "En signant ce formulaire de mandat, vous autorisez (A) Régie du conservatoire",
        "dans les 8 semaines suivant la date de débit de votre compte",
        "Récurrent",
    ]:
        assert expected in text, expected


def test_the_pdf_is_rendered_on_demand_when_the_worker_has_not_run(parent_client, family):
    signed = factories.mandate(family)
    response = parent_client.get(reverse("directdebit:pdf", args=[signed.pk]))
    assert signed.rum in pdf_text(response_bytes(response))
    signed.refresh_from_db()
    stored = signed.pdf.name
    parent_client.get(reverse("directdebit:pdf", args=[signed.pk]))
    signed.refresh_from_db()
    assert signed.pdf.name == stored


# Change of account.


def amend(client, run_worker, iban, bic=""):
    response = client.post(reverse("directdebit:amend"), {"iban": iban, "bic": bic})
    assert response["Location"] == reverse("directdebit:amend_confirm"), response.context[
        "form"
    ].errors
    run_worker()
    code = last_code()
    return client.post(reverse("directdebit:amend_confirm"), {"code": code})


def test_a_new_account_keeps_the_rum_and_what_the_bank_knew(parent_client, family, run_worker):
    signed = sign(parent_client, run_worker)
    run_worker()
    first_pdf = Mandate.objects.get(pk=signed.pk).pdf.name
    page = parent_client.get(reverse("directdebit:amend"))
    assert signed.iban_masked in page.text
    same = parent_client.post(reverse("directdebit:amend"), {"iban": FR_IBAN})
    assert same.context["form"].errors["iban"] == ["C’est déjà le compte de votre mandat."]
    bad = parent_client.post(
        reverse("directdebit:amend"), {"iban": "BR1800360305000010009795493C1"}
    )
    assert "zone SEPA" in bad.context["form"].errors["iban"][0]

    response = amend(parent_client, run_worker, OTHER_IBAN)
    assert response["Location"] == reverse("directdebit:mandate")
    changed = Mandate.objects.get(pk=signed.pk)
    assert changed.status == Mandate.Status.ACTIVE and changed.rum == signed.rum
    assert (changed.iban, changed.bic) == (OTHER_IBAN, "PSSTFRPP")
    assert (changed.original_iban, changed.original_bic) == (FR_IBAN, "AGRIFRPPXXX")
    assert changed.amended_at is not None and not changed.pdf
    run_worker()
    changed.refresh_from_db()
    assert changed.pdf and changed.pdf.name != first_pdf
    assert "0260 6" in pdf_text(changed.pdf.open("rb").read()) or "M02606" in pdf_text(
        changed.pdf.open("rb").read()
    ).replace(" ", "")
    assert "modifié" in mail.outbox[-1].subject and OTHER_IBAN not in mail.outbox[-1].body

    # A second change before any bank file keeps the first original.
    amend(parent_client, run_worker, THIRD_IBAN)
    changed.refresh_from_db()
    assert changed.iban == THIRD_IBAN and changed.original_iban == FR_IBAN
    assert Mandate.objects.filter(family=family).count() == 1


def test_a_wrong_code_changes_no_account(parent_client, family, run_worker):
    signed = factories.mandate(family)
    parent_client.post(reverse("directdebit:amend"), {"iban": OTHER_IBAN})
    run_worker()
    wrong = f"{(int(last_code()) + 1) % 10**6:06d}"
    page = parent_client.post(reverse("directdebit:amend_confirm"), {"code": wrong})
    assert "pas le code" in page.context["form"].errors["code"][0]
    assert "FR14 2004 1010 0505 0001 3M02 606" in page.text  # The new account, shown in full.
    signed.refresh_from_db()
    assert signed.iban == FR_IBAN and signed.original_iban == ""


def test_amending_without_asking_first_goes_back_to_the_form(parent_client, family):
    factories.mandate(family)
    response = parent_client.get(reverse("directdebit:amend_confirm"))
    assert response["Location"] == reverse("directdebit:amend")


# Revocation.


def submitted_debit(mandate, collection_date, amount="118.60"):
    invoice = factories.issued(mandate.family)
    instalment = Instalment.objects.create(
        invoice=invoice, position=9, due_date=collection_date, amount=Decimal(amount)
    )
    batch = Batch.objects.create(
        site_id=mandate.site_id, collection_date=collection_date, message_id=f"MSG-{mandate.pk}"
    )
    return Debit.objects.create(
        batch=batch,
        mandate=mandate,
        instalment=instalment,
        amount=Decimal(amount),
        end_to_end_id=f"E2E-{mandate.pk}",
        sequence=Debit.Sequence.FIRST,
    )


def test_revoking_says_what_the_bank_already_has_and_leaves_it(parent_client, family):
    signed = factories.mandate(family)
    debit = submitted_debit(signed, date(clock.THIS_YEAR + 1, 1, 5))
    notice = (
        f"Le prélèvement du 5 janvier {clock.THIS_YEAR + 1} (118,60 €) a déjà été transmis à la "
        "banque : il sera encaissé. Les échéances suivantes seront à régler autrement."
    )
    page = parent_client.get(reverse("directdebit:revoke"))
    assert notice in page.text.replace("\u202f", " ").replace("\u00a0", " ")
    response = parent_client.post(reverse("directdebit:revoke"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("billing:statement")
    shown = [
        str(m).replace("\u202f", " ").replace("\u00a0", " ") for m in response.context["messages"]
    ]
    assert notice in shown
    signed.refresh_from_db()
    assert signed.status == Mandate.Status.REVOKED and signed.ended_at is not None
    debit.refresh_from_db()
    assert debit.status == Debit.Status.SUBMITTED and debit.amount == Decimal("118.60")
    assert parent_client.get(reverse("directdebit:revoke")).status_code == 404
    # The revoked mandate's PDF stays available to the family.
    assert parent_client.get(reverse("directdebit:pdf", args=[signed.pk])).status_code == 200


def test_revoking_without_debit_at_the_bank(parent_client, family):
    signed = factories.mandate(family)
    page = parent_client.get(reverse("directdebit:revoke"))
    assert "déjà été transmis" not in page.text
    parent_client.post(reverse("directdebit:revoke"))
    signed.refresh_from_db()
    assert signed.status == Mandate.Status.REVOKED
    # Direct debit can be chosen again.
    assert parent_client.get(reverse("directdebit:mandate")).context["form"] is not None


# Lapse.


def test_mandates_unused_for_36_months_lapse(family, combs):
    today = clock.TODAY
    old = factories.mandate(family)
    Mandate.objects.filter(pk=old.pk).update(
        signed_at=timezone.now() - timedelta(days=3 * 365 + 10)
    )
    others = [make_parent(combs, username=f"p{n}", family_name=f"F{n}").family for n in range(3)]
    recent = factories.mandate(others[0])
    Mandate.objects.filter(pk=recent.pk).update(signed_at=timezone.now() - timedelta(days=900))
    used = factories.mandate(others[1])
    Mandate.objects.filter(pk=used.pk).update(
        signed_at=timezone.now() - timedelta(days=2000),
        last_debit_on=mandates.months_before(today, 35),
    )
    unused = factories.mandate(others[2])
    Mandate.objects.filter(pk=unused.pk).update(
        signed_at=timezone.now() - timedelta(days=2000),
        last_debit_on=mandates.months_before(today, 37),
    )
    out = io.StringIO()
    call_command("lapse_mandates", stdout=out)
    status = dict(Mandate.objects.values_list("pk", "status"))
    assert status == {
        old.pk: "lapsed",
        recent.pk: "active",
        used.pk: "active",
        unused.pk: "lapsed",
    }
    assert "2 mandate(s) lapsed." in out.getvalue()
    assert Mandate.objects.get(pk=old.pk).ended_at is not None
    # A month later, run again: the recent one is still in use.
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        call_command("lapse_mandates", stdout=io.StringIO())
    assert Mandate.objects.get(pk=recent.pk).status == "active"


def test_months_before_keeps_the_end_of_month():
    assert mandates.months_before(date(2027, 3, 31), 36) == date(2024, 3, 31)
    assert mandates.months_before(date(2027, 2, 28), 12) == date(2026, 2, 28)
    assert mandates.months_before(date(2028, 2, 29), 36) == date(2025, 2, 28)
    assert mandates.months_before(date(2027, 1, 15), 1) == date(2026, 12, 15)


def test_unconfirmed_signatures_are_forgotten_after_a_week(parent_client, family, run_worker):
    pending = start(parent_client, run_worker)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        call_command("lapse_mandates", stdout=io.StringIO())
    assert not Mandate.objects.filter(pk=pending.pk).exists()


# Owners and strangers.


@pytest.fixture
def both_signed(family, stranger, combs):
    mine = factories.mandate(family)
    theirs = factories.mandate(stranger.family, iban=OTHER_IBAN, bic="PSSTFRPP")
    return mine, theirs


def test_strangers_get_404_for_another_familys_mandate(parent_client, both_signed, stranger):
    mine, theirs = both_signed
    pending = Mandate.objects.create(
        site_id=stranger.family.site_id,
        family=stranger.family,
        rum="EXT-PENDING",
        holder_name="X",
        holder_address="Y",
        iban=OTHER_IBAN,
        bic="PSSTFRPP",
    )
    assert parent_client.get(reverse("directdebit:pdf", args=[theirs.pk])).status_code == 404
    assert parent_client.get(reverse("directdebit:confirm", args=[pending.pk])).status_code == 404
    assert (
        parent_client.post(reverse("directdebit:confirm", args=[pending.pk]), {"code": "123456"})
    ).status_code == 404
    assert parent_client.post(reverse("directdebit:new_code", args=[pending.pk])).status_code == 404
    assert parent_client.get(reverse("directdebit:pdf", args=[mine.pk])).status_code == 200
    # Revoking or changing acts on one's own mandate only.
    parent_client.post(reverse("directdebit:revoke"))
    theirs.refresh_from_db()
    assert theirs.status == Mandate.Status.ACTIVE
    pending.refresh_from_db()
    assert pending.status == Mandate.Status.PENDING and pending.code_tries == 0


def test_other_sites_families_get_404(both_signed, other_parent):
    mine, _theirs = both_signed
    client = factories.signed_in(other_parent)
    assert client.get(reverse("directdebit:pdf", args=[mine.pk])).status_code == 404
    assert client.get(reverse("directdebit:amend")).status_code == 404  # No mandate there.
    assert client.get(reverse("directdebit:revoke")).status_code == 404
    page = client.get(reverse("directdebit:mandate"))
    assert mine.rum not in page.text and page.context["form"] is None  # No creditor there.


@pytest.mark.parametrize(
    "name, args",
    [
        ("directdebit:mandate", []),
        ("directdebit:confirm", [1]),
        ("directdebit:new_code", [1]),
        ("directdebit:amend", []),
        ("directdebit:amend_confirm", []),
        ("directdebit:amend_new_code", []),
        ("directdebit:revoke", []),
        ("directdebit:pdf", [1]),
    ],
)
def test_not_signed_in_goes_to_login(client, name, args):
    for method in (client.get, client.post):
        response = method(reverse(name, args=args))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_staff_without_family_get_404(combs):
    user = factories.staff(combs, [])
    client = factories.signed_in(user)
    assert client.get(reverse("directdebit:mandate")).status_code == 404


# The box of the Facturation tab.


def render_box(family):
    from django.template import Context, Template

    return Template("{% load directdebit_tags %}{% mandate_box family %}").render(
        Context({"family": family})
    )


def test_the_box_tells_the_state(parent, combs, family):
    offered = render_box(family)
    assert "Payer par prélèvement" in offered and reverse("directdebit:mandate") in offered
    signed = factories.mandate(family)
    box = render_box(family)
    for expected in [
        "Claire Martin",
        "FR76 •••• •••• •••• •••• •••• 0189"[:9],
        signed.rum,
        "Télécharger le mandat (PDF)",
        "Changer de compte bancaire",
        "Révoquer le mandat",
        reverse("directdebit:pdf", args=[signed.pk]),
    ]:
        assert expected in box, expected
    assert FR_IBAN not in box


def test_the_box_is_empty_without_creditor(parent):
    assert render_box(parent.family).strip() == ""


# HTML validity and query counts.


def test_mandate_pages_are_valid_html(parent_client, family, run_worker, tmp_path):
    from .test_html_valid import validate

    pages = {"form": parent_client.get(reverse("directdebit:mandate")).text}
    pages["form-errors"] = parent_client.post(
        reverse("directdebit:mandate"), form_data(iban="FR76", holder_name="")
    ).text
    pending = start(parent_client, run_worker)
    url = reverse("directdebit:confirm", args=[pending.pk])
    pages["confirm"] = parent_client.get(url).text
    pages["confirm-errors"] = parent_client.post(url, {"code": "1"}).text
    parent_client.post(url, {"code": last_code()})
    pages["mandate"] = parent_client.get(reverse("directdebit:mandate"), follow=True).text
    pages["amend"] = parent_client.get(reverse("directdebit:amend")).text
    pages["amend-errors"] = parent_client.post(reverse("directdebit:amend"), {"iban": ""}).text
    parent_client.post(reverse("directdebit:amend"), {"iban": OTHER_IBAN})
    pages["amend-confirm"] = parent_client.get(reverse("directdebit:amend_confirm")).text
    submitted_debit(Mandate.objects.get(status="active"), date(clock.THIS_YEAR + 1, 1, 5))
    pages["revoke"] = parent_client.get(reverse("directdebit:revoke")).text
    pages["box"] = (
        '<!DOCTYPE html><html lang="fr"><head><title>x</title></head><body><main>'
        f"{render_box(family)}</main></body></html>"
    )
    assert validate(pages, tmp_path) == []


def test_mail_html_is_valid(parent_client, family, run_worker, tmp_path):
    from .test_html_valid import validate

    sign(parent_client, run_worker)
    run_worker()
    amend(parent_client, run_worker, OTHER_IBAN)
    run_worker()
    pages = {f"mail-{n}": m.alternatives[0][0] for n, m in enumerate(mail.outbox)}
    assert len(pages) == 4
    assert validate(pages, tmp_path) == []


@pytest.mark.parametrize("debits", [1, 3])
def test_query_counts_are_bounded(
    parent_client, family, run_worker, django_assert_max_num_queries, debits
):
    signed = factories.mandate(family)
    for n in range(debits):
        submitted_debit(signed, date(clock.THIS_YEAR + 1, n + 1, 5), amount="10.00")
        Debit.objects.filter(end_to_end_id=f"E2E-{signed.pk}").update(
            end_to_end_id=f"E2E-{signed.pk}-{n}"
        )
        Batch.objects.filter(message_id=f"MSG-{signed.pk}").update(
            message_id=f"MSG-{signed.pk}-{n}"
        )
    for name in ["directdebit:mandate", "directdebit:amend", "directdebit:revoke"]:
        with django_assert_max_num_queries(8):
            assert parent_client.get(reverse(name)).status_code == 200
    with django_assert_max_num_queries(4):
        render_box(family)
    mandates.revoke(signed)
    with django_assert_max_num_queries(8):
        assert parent_client.get(reverse("directdebit:mandate")).status_code == 200
    pending = start(parent_client, run_worker)
    with django_assert_max_num_queries(8):
        assert (
            parent_client.get(reverse("directdebit:confirm", args=[pending.pk])).status_code == 200
        )


# The secretariat.


@pytest.fixture
def secretariat(combs):
    return factories.signed_in(
        factories.staff(combs, ["view_mandate", "change_mandate"], username="secretariat")
    )


def test_admin_lists_searches_and_filters_masked(secretariat, both_signed, other_parent):
    mine, theirs = both_signed
    elsewhere = factories.mandate(other_parent.family)
    page = secretariat.get(reverse("admin:directdebit_mandate_changelist"))
    assert mine.rum in page.text and theirs.rum in page.text
    assert elsewhere.rum not in page.text
    assert FR_IBAN not in page.text and mine.iban_masked in page.text
    found = secretariat.get(reverse("admin:directdebit_mandate_changelist"), {"q": "Durand"})
    assert theirs.rum in found.text and mine.rum not in found.text
    found = secretariat.get(reverse("admin:directdebit_mandate_changelist"), {"q": mine.rum})
    assert mine.rum in found.text and theirs.rum not in found.text
    mandates.revoke(theirs)
    active = secretariat.get(
        reverse("admin:directdebit_mandate_changelist"), {"status__exact": "active"}
    )
    assert mine.rum in active.text and theirs.rum not in active.text


def test_admin_detail_is_read_only_with_the_pdf_of_its_site_only(
    secretariat, both_signed, other_parent
):
    mine, _theirs = both_signed
    elsewhere = factories.mandate(other_parent.family)
    page = secretariat.get(reverse("admin:directdebit_mandate_change", args=[mine.pk]))
    assert page.status_code == 200
    assert 'name="holder_name"' not in page.text and FR_IBAN not in page.text
    pdf_url = reverse("admin:directdebit_mandate_pdf", args=[mine.pk])
    assert pdf_url in page.text
    response = secretariat.get(pdf_url)
    assert response["Content-Type"] == "application/pdf"
    assert mine.rum in pdf_text(response_bytes(response))
    assert (
        secretariat.get(reverse("admin:directdebit_mandate_pdf", args=[elsewhere.pk])).status_code
        == 404
    )
    assert (
        secretariat.get(
            reverse("admin:directdebit_mandate_change", args=[elsewhere.pk])
        ).status_code
        == 302  # Django's "does not exist" redirect to the admin index.
    )
    assert secretariat.get(reverse("admin:directdebit_mandate_add")).status_code == 403
    parent_client = Client()
    parent_client.force_login(mine.family.accounts.get())
    assert parent_client.get(pdf_url).status_code == 302  # Families never reach the admin.


def test_admin_revokes_after_confirmation(secretariat, both_signed):
    mine, theirs = both_signed
    submitted_debit(mine, date(clock.THIS_YEAR + 1, 1, 5))
    url = reverse("admin:directdebit_mandate_changelist")
    data = {"action": "revoke_mandates", "_selected_action": [mine.pk]}
    page = secretariat.post(url, data)
    assert page.status_code == 200 and "Déjà transmis à la banque" in page.text
    mine.refresh_from_db()
    assert mine.status == Mandate.Status.ACTIVE
    response = secretariat.post(url, {**data, "confirm": "yes"})
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == Mandate.Status.REVOKED and theirs.status == Mandate.Status.ACTIVE
    assert Debit.objects.get().status == Debit.Status.SUBMITTED


def test_staff_of_another_site_cannot_revoke(both_signed, ploufragan):
    mine, _theirs = both_signed
    client = factories.signed_in(
        factories.staff(ploufragan, ["view_mandate", "change_mandate"], username="sec-plou")
    )
    client.post(
        reverse("admin:directdebit_mandate_changelist"),
        {"action": "revoke_mandates", "_selected_action": [mine.pk], "confirm": "yes"},
    )
    mine.refresh_from_db()
    assert mine.status == Mandate.Status.ACTIVE


def test_staff_without_change_permission_cannot_revoke(both_signed, combs):
    mine, _theirs = both_signed
    client = factories.signed_in(factories.staff(combs, ["view_mandate"], username="reader"))
    client.post(
        reverse("admin:directdebit_mandate_changelist"),
        {"action": "revoke_mandates", "_selected_action": [mine.pk], "confirm": "yes"},
    )
    mine.refresh_from_db()
    assert mine.status == Mandate.Status.ACTIVE
