"""Rejected direct debits: the camt.054 the bank returns, and a rejection
recorded by hand. The batches and debits are built here with the ORM, as
the batch side leaves them once the bank has collected."""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from email.header import decode_header, make_header
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from billing import ledger
from billing.instalments import OVERDUE, coverage
from billing.models import Invoice, Payment, Reversal
from billing.statement import statement
from directdebit import rejections, returns
from directdebit.models import Batch, Debit, Mandate, ReturnFile

from . import clock
from .factories import (
    creditor,
    instalment_plans,
    issued,
    make_parent,
    mandate,
    school_year,
    signed_in,
    staff,
)
from .mail_sink import SMTPSink
from .test_billing import run_together

DATA = Path(__file__).resolve().parent / "data"
PERMISSIONS = [
    "view_returnfile",
    "add_returnfile",
    "view_debit",
    "change_debit",
    "view_familyaccount",
    "view_invoice",
]


# Builders.


def collected_batch(site, debits, collection_date, message_id="EXT-0001-BATCH-1"):
    """A batch the bank collected: a Debit per (instalment, mandate,
    end-to-end id), each with its payment recorded as the batch side does."""
    batch = Batch.objects.create(
        site=site,
        collection_date=collection_date,
        message_id=message_id,
        count=len(debits),
        total=sum((i.amount for i, _m, _e in debits), Decimal(0)),
        collected_at=timezone.now(),
    )
    made = []
    for instalment, signed, end_to_end_id in debits:
        payment = ledger.record_payment(
            signed.family,
            instalment.amount,
            Payment.Mode.DIRECT_DEBIT,
            [(instalment.invoice, instalment.amount)],
            reference=end_to_end_id,
            date=collection_date,
        )
        made.append(
            Debit.objects.create(
                batch=batch,
                mandate=signed,
                instalment=instalment,
                amount=instalment.amount,
                end_to_end_id=end_to_end_id,
                sequence=Debit.Sequence.FIRST,
                status=Debit.Status.COLLECTED,
                payment=payment,
            )
        )
    return made


@pytest.fixture
def world(combs):
    """Two families of Combs paying by direct debit, each with one
    instalment collected (37,50 € and 23,25 €), the site charging 5 € a
    rejection; the clock moved to 20 days after the collection."""
    creditor(combs, rejection_fee=Decimal("5.00"))
    instalment_plans(combs)
    year = school_year(combs)
    martin = make_parent(combs, email="claire.martin@example.org")
    durand = make_parent(combs, username="durand", family_name="Durand")
    invoices = {
        "martin": issued(martin.family, lines=[("Piano", "37.50")], school_year=year),
        "durand": issued(durand.family, lines=[("Formation musicale", "23.25")], school_year=year),
    }
    collection = invoices["martin"].instalments.get().due_date
    later = datetime.combine(collection + timedelta(days=20), time(10), tzinfo=clock.PARIS)
    with time_machine.travel(later, tick=True):
        debits = collected_batch(
            combs,
            [
                (invoices["martin"].instalments.get(), mandate(martin.family), "EXT-TEST-0001"),
                (invoices["durand"].instalments.get(), mandate(durand.family), "EXT-TEST-0002"),
            ],
            collection,
        )
        yield {
            "site": combs,
            "martin": martin,
            "durand": durand,
            "invoices": invoices,
            "debits": debits,
            "collection": collection,
            "booked": collection + timedelta(days=5),
            "secretary": staff(combs, PERMISSIONS),
        }


def sample(world, name="camt054_returns.xml", **changes):
    """The sample file, its dates moved to the world's collection."""
    text = (DATA / name).read_text()
    text = text.replace("2026-12-05", world["collection"].isoformat())
    text = text.replace("2026-12-10", world["booked"].isoformat())
    text = text.replace("2026-12-11", (world["booked"] + timedelta(days=1)).isoformat())
    for old, new in changes.items():
        text = text.replace(old, new)
    return text.encode()


def snapshot():
    return (
        list(Debit.objects.order_by("pk").values_list("status", "rejected_on", "reason_code")),
        Reversal.objects.count(),
        Invoice.objects.count(),
        ReturnFile.objects.count(),
    )


def subject(message):
    return str(make_header(decode_header(message["Subject"])))


def left(invoice):
    return ledger.remaining(ledger.remaining_of(Invoice.objects.filter(pk=invoice.pk)).get())


# Reading the file.


def test_the_sample_is_read_whole():
    notice = returns.parse((DATA / "camt054_returns.xml").read_bytes())
    assert notice.message_id == "CAMT054-20261210-000184"
    assert notice.ibans == ["FR7630001007941234567890185"]
    assert notice.creditor_ids == ["FR72ZZZ123456"]
    assert notice.ignored == 1  # The collection's credit is no return.
    assert [(r.end_to_end_id, r.amount, str(r.date), r.reason_code) for r in notice.returns] == [
        ("EXT-TEST-0001", Decimal("37.50"), "2026-12-10", "AM04"),
        ("EXT-TEST-0002", Decimal("23.25"), "2026-12-10", "AC04"),
    ]
    later = returns.parse((DATA / "camt054_returns_v08_unknown.xml").read_bytes())
    assert [(r.end_to_end_id, r.amount, r.reason_code) for r in later.returns] == [
        ("EXT-TEST-0001", Decimal("37.50"), "MS02"),
        ("EXT-OTHER-4242", Decimal("50.00"), "AM04"),
    ]
    assert later.creditor_ids == ["FR72ZZZ123456"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"%PDF-1.7 not xml", "n’est pas un fichier XML"),
        (b"<a><b></a>", "n’est pas un fichier XML"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"/>',
            "n’est pas une notification camt.054",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">&x;</Document>',
            "DTD",
        ),
    ],
)
def test_what_is_not_a_camt054_is_refused(content, message):
    with pytest.raises(ValidationError) as error:
        returns.parse(content)
    assert message in " ".join(error.value.messages)


# Importing it.


def test_a_camt054_rejects_the_debits_it_lists(world, django_capture_on_commit_callbacks):
    martin, durand = world["debits"]
    invoice = world["invoices"]["martin"]
    assert left(invoice) == Decimal("0.00")
    with django_capture_on_commit_callbacks(execute=True):
        returned = returns.import_file(sample(world), "retours.xml", world["site"])
    assert [row["end_to_end_id"] for row in returned.report["applied"]] == [
        "EXT-TEST-0001",
        "EXT-TEST-0002",
    ]
    assert returned.report["skipped"] == [] and returned.report["ignored"] == 1
    martin.refresh_from_db()
    assert martin.status == Debit.Status.REJECTED
    assert (martin.rejected_on, martin.reason_code) == (world["booked"], "AM04")
    assert martin.payment.reversal.reason == "Provision insuffisante"
    # The instalment is due again, the invoice's remaining back.
    instalment = martin.instalment
    instalment.refresh_from_db()
    assert not instalment.debit_pending
    assert left(invoice) == Decimal("37.50")
    current = ledger.remaining_of(Invoice.objects.filter(pk=invoice.pk)).get()
    rows = coverage([instalment], current.paid, timezone.localdate())
    assert rows[0].status == OVERDUE
    # The statement: the debit as it was, then its rejection, and the fee.
    data = statement(invoice.family)
    labels = [(line.label, line.debit, line.credit) for line in data["lines"]]
    assert ("RÈGLEMENT", None, Decimal("37.50")) in labels
    assert ("REJET DE PRÉLÈVEMENT – Provision insuffisante", Decimal("37.50"), None) in labels
    assert ("FACTURE – Frais de rejet de prélèvement", Decimal("5.00"), None) in labels
    assert data["balance"] == Decimal("-42.50")
    # The account closed: the mandate is not presented again.
    durand.refresh_from_db()
    assert durand.mandate.status == Mandate.Status.REVOKED
    assert martin.mandate.status == Mandate.Status.ACTIVE


def test_the_same_returns_are_never_recorded_twice(world):
    returns.import_file(sample(world), "retours.xml", world["site"])
    before = snapshot()
    # The same file again: refused as a whole.
    with pytest.raises(ValidationError) as error:
        returns.import_file(sample(world), "retours.xml", world["site"])
    assert "déjà été importé" in " ".join(error.value.messages)
    assert snapshot() == before
    # Another file naming the same debits: each is left aside, and said so.
    again = returns.import_file(
        sample(world, **{"CAMT054-20261210-000184": "CAMT054-RESENT"}), "bis.xml", world["site"]
    )
    assert again.report["applied"] == []
    assert {row["why"] for row in again.report["skipped"]} == {"déjà enregistré comme rejeté"}
    assert snapshot()[:3] == before[:3]


@pytest.mark.django_db(transaction=True)
def test_two_imports_at_once_record_each_rejection_once(combs):
    # The world, by hand: this test commits for real.
    creditor(combs)
    instalment_plans(combs)
    parent = make_parent(combs)
    invoice = issued(parent.family, lines=[("Piano", "37.50")])
    collection = timezone.localdate()
    collected_batch(
        combs, [(invoice.instalments.get(), mandate(parent.family), "EXT-TEST-0001")], collection
    )
    text = (DATA / "camt054_returns.xml").read_text()
    text = text.replace("2026-12-10", collection.isoformat()).replace(
        "2026-12-05", collection.isoformat()
    )
    # Only the first return: the second is another family's, not built here.
    text = re.sub(
        r"<TxDtls>\s*<Refs>\s*<MsgId>[^<]*</MsgId>\s*<PmtInfId>[^<]*</PmtInfId>"
        r"\s*<EndToEndId>EXT-TEST-0002.*?</TxDtls>",
        "",
        text,
        flags=re.S,
    )
    files = [
        text.encode(),
        text.replace("CAMT054-20261210-000184", "CAMT054-OTHER").encode(),
    ]
    errors = run_together(
        [lambda content=content: returns.import_file(content, "r.xml", combs) for content in files]
    )
    assert Reversal.objects.count() == 1
    assert Debit.objects.get().status == Debit.Status.REJECTED
    applied = [len(f.report["applied"]) for f in ReturnFile.objects.all()]
    assert sum(applied) == 1 and len(applied) + len(errors) == 2


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"FR7630001007941234567890185</IBAN>": "FR1420041010050500013M02606</IBAN>"},
            "un autre compte",
        ),
        ({"FR72ZZZ123456": "FR44ZZZ654321"}, "un autre créancier"),
        ({"EXT-TEST-0002": "EXT-OTHER-4242"}, "EXT-OTHER-4242"),
        ({"<Document": "<Documnt", "</Document>": "</Documnt>"}, "camt.054"),
    ],
)
def test_a_file_of_another_creditor_or_with_unknown_ids_changes_nothing(world, changes, message):
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        returns.import_file(sample(world, **changes), "retours.xml", world["site"])
    assert message in " ".join(error.value.messages)
    assert snapshot() == before


def test_the_v08_sample_with_an_unknown_id_changes_nothing(world):
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        returns.import_file(
            sample(world, "camt054_returns_v08_unknown.xml"), "v08.xml", world["site"]
        )
    assert "EXT-OTHER-4242" in " ".join(error.value.messages)
    assert snapshot() == before
    # Without the stranger, the same file is applied.
    content = sample(
        world, "camt054_returns_v08_unknown.xml", **{"EXT-OTHER-4242": "EXT-TEST-0002"}
    )
    content = content.replace(b"50.00</Amt>", b"23.25</Amt>")
    returned = returns.import_file(content, "v08.xml", world["site"])
    assert [r["reason_code"] for r in returned.report["applied"]] == ["MS02", "AM04"]


def test_an_amount_that_differs_is_left_aside(world):
    returned = returns.import_file(
        sample(world, **{'<Amt Ccy="EUR">23.25</Amt>': '<Amt Ccy="EUR">32.25</Amt>'}),
        "retours.xml",
        world["site"],
    )
    assert [r["end_to_end_id"] for r in returned.report["applied"]] == ["EXT-TEST-0001"]
    (skipped,) = returned.report["skipped"]
    assert skipped["end_to_end_id"] == "EXT-TEST-0002" and "32,25" in skipped["why"]
    assert world["debits"][1].__class__.objects.get(pk=world["debits"][1].pk).status == "collected"


# Rejection by hand, and its rules.


def test_a_rejection_is_refused_the_second_time(world):
    debit = world["debits"][0]
    rejections.reject(debit, world["booked"], "AM04")
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        rejections.reject(debit, world["booked"], "MS02")
    assert "déjà" in " ".join(error.value.messages)
    assert snapshot() == before


def test_a_debit_still_at_the_bank_is_rejected_without_a_payment(world):
    parent = world["martin"]
    invoice = issued(parent.family, lines=[("FM", "60.00")])
    instalment = invoice.instalments.get()
    instalment.debit_pending = True
    instalment.save()
    batch = Batch.objects.create(
        site=world["site"], collection_date=timezone.localdate(), message_id="EXT-PENDING"
    )
    debit = Debit.objects.create(
        batch=batch,
        mandate=parent.family.mandates.get(),
        instalment=instalment,
        amount=instalment.amount,
        end_to_end_id="EXT-TEST-0099",
        sequence=Debit.Sequence.RECURRENT,
    )
    rejections.reject(debit, timezone.localdate(), "AC06")
    debit.refresh_from_db()
    instalment.refresh_from_db()
    assert debit.status == Debit.Status.REJECTED and debit.payment is None
    assert not instalment.debit_pending and not Reversal.objects.exists()


def test_the_rejection_fee_is_an_invoice_of_its_own(world):
    rejections.reject(world["debits"][0], world["booked"], "AM04")
    fee = Invoice.objects.get(label="Frais de rejet de prélèvement")
    assert fee.is_issued and fee.total == Decimal("5.00")
    assert fee.family == world["martin"].family
    assert "EXT" not in fee.lines.get().label and world["invoices"]["martin"].number in (
        fee.lines.get().label
    )


def test_no_fee_when_the_site_charges_none(world):
    world["site"].creditor.rejection_fee = Decimal("0")
    world["site"].creditor.save()
    rejections.reject(world["debits"][0], world["booked"], "AM04")
    assert not Invoice.objects.filter(label="Frais de rejet de prélèvement").exists()


def test_every_reason_code_reads_in_french():
    assert rejections.reason_of("am04") == "Provision insuffisante"
    assert rejections.reason_of("MD01") == "Pas de mandat"
    assert rejections.reason_of("ZZ99") == "Code motif ZZ99"


# E-mails, through the real worker and a real SMTP server.


@pytest.mark.django_db(transaction=True)
def test_the_families_are_told_after_the_commit(combs, settings, run_worker, free_port):
    creditor(combs, rejection_fee=Decimal("5.00"))
    instalment_plans(combs)
    martin = make_parent(combs, email="claire.martin@example.org")
    durand = make_parent(combs, username="durand", family_name="Durand", email="paul@example.org")
    first = issued(martin.family, lines=[("Piano", "37.50")])
    second = issued(durand.family, lines=[("FM", "23.25")])
    collection = timezone.localdate()
    collected_batch(
        combs,
        [
            (first.instalments.get(), mandate(martin.family), "EXT-TEST-0001"),
            (second.instalments.get(), mandate(durand.family), "EXT-TEST-0002"),
        ],
        collection,
    )
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port, "timeout": 5},
        }
    }
    text = (DATA / "camt054_returns.xml").read_text().replace("2026-12-10", collection.isoformat())
    with SMTPSink(free_port) as sink:
        run_worker()  # The receipts of the collection.
        sink.messages.clear()
        returns.import_file(
            text.replace("2026-12-05", collection.isoformat()).encode(), "r.xml", combs
        )
        run_worker()
    rejected = {
        m["To"]: m.get_payload(0).get_payload(decode=True).decode()
        for m in sink.messages
        if "Prélèvement rejeté" in subject(m)
    }
    assert set(rejected) == {"claire.martin@example.org", "paul@example.org"}
    body = rejected["claire.martin@example.org"]
    assert "37,50" in body and "Provision insuffisante (AM04)" in body
    assert "onglet Facturation" in body and "présenté à nouveau" in body
    assert "5,00" in body and first.number in body
    closed = rejected["paul@example.org"]
    assert "Compte clôturé (AC04)" in closed and "nouveau mandat" in closed
    # The fee invoices, e-mailed as any invoice.
    assert sum(subject(m).startswith("Facture") for m in sink.messages) == 2


def test_the_rejection_email_is_valid_html(world, tmp_path):
    from .test_html_valid import validate

    debit = rejections.reject(world["debits"][1], world["booked"], "AC04")
    fee = Invoice.objects.get(label="Frais de rejet de prélèvement")
    message = rejections.rejection_message(debit, fee, "http://testserver")
    html = message.alternatives[0][0]
    assert validate({"rejection": html}, tmp_path) == []
    assert "Compte clôturé" in message.body and "5,00" in message.body


# The secretariat's pages.


def test_the_secretary_imports_a_file_and_reads_the_report(world, django_assert_max_num_queries):
    client = signed_in(world["secretary"])
    changelist = client.get(reverse("admin:directdebit_returnfile_changelist"))
    url = reverse("admin:directdebit_returnfile_import")
    assert url in changelist.text
    assert client.get(url).status_code == 200
    bad = client.post(url, {"file": SimpleUploadedFile("x.xml", b"not xml")})
    assert bad.status_code == 200 and "pas un fichier XML" in bad.text
    assert bad.context["form"].errors["file"]
    response = client.post(url, {"file": SimpleUploadedFile("retours.xml", sample(world))})
    returned = ReturnFile.objects.get()
    assert response.status_code == 302 and str(returned.pk) in response["Location"]
    with django_assert_max_num_queries(12):
        page = client.get(response["Location"])
    assert "EXT-TEST-0001" in page.text and "37,50" in page.text
    assert "Provision insuffisante" in page.text
    assert returned.imported_by == world["secretary"]


def test_an_oversized_file_is_refused_next_to_the_field(world, monkeypatch):
    monkeypatch.setattr(returns, "MAX_BYTES", 100)
    client = signed_in(world["secretary"])
    response = client.post(
        reverse("admin:directdebit_returnfile_import"),
        {"file": SimpleUploadedFile("retours.xml", sample(world))},
    )
    assert "trop volumineux" in " ".join(response.context["form"].errors["file"])
    assert not ReturnFile.objects.exists()


def test_the_secretary_records_a_rejection_by_hand(world, django_assert_max_num_queries):
    debit = world["debits"][0]
    client = signed_in(world["secretary"])
    url = reverse("admin:directdebit_debit_reject", args=[debit.pk])
    with django_assert_max_num_queries(10):
        page = client.get(url)
    assert page.status_code == 200 and "AM04 – Provision insuffisante" in page.text
    future = client.post(
        url, {"reason_code": "AM04", "date": (timezone.localdate() + timedelta(1)).isoformat()}
    )
    assert "dans le futur" in " ".join(future.context["form"].errors["date"])
    unknown = client.post(url, {"reason_code": "XX00", "date": world["booked"].isoformat()})
    assert unknown.context["form"].errors["reason_code"]
    assert Debit.objects.get(pk=debit.pk).status == Debit.Status.COLLECTED
    done = client.post(url, {"reason_code": "MD06", "date": world["booked"].isoformat()})
    assert done.status_code == 302
    debit.refresh_from_db()
    assert debit.status == Debit.Status.REJECTED and debit.reason_code == "MD06"
    assert debit.payment.reversal.recorded_by == world["secretary"]
    # Again: nothing more to record.
    again = client.post(url, {"reason_code": "AM04", "date": world["booked"].isoformat()})
    assert again.status_code == 200 and "rien de plus" in again.text
    assert Reversal.objects.count() == 1


def test_the_admin_pages_are_valid_html(world, tmp_path):
    from .test_html_valid import validate

    client = signed_in(world["secretary"])
    returned = returns.import_file(sample(world), "retours.xml", world["site"])
    pages = {
        "import": client.get(reverse("admin:directdebit_returnfile_import")).text,
        "report": client.get(
            reverse("admin:directdebit_returnfile_change", args=[returned.pk])
        ).text,
        "reject": client.get(
            reverse("admin:directdebit_debit_reject", args=[world["debits"][0].pk])
        ).text,
    }
    assert validate(pages, tmp_path) == []


def test_another_sites_staff_sees_nothing(world, ploufragan):
    returned = returns.import_file(sample(world), "retours.xml", world["site"])
    debit = world["debits"][0]
    stranger = signed_in(staff(ploufragan, PERMISSIONS, username="secretariat-plou"))
    change = reverse("admin:directdebit_returnfile_change", args=[returned.pk])
    assert stranger.get(change).status_code == 302  # The admin's "not found".
    listing = stranger.get(reverse("admin:directdebit_returnfile_changelist"))
    assert "retours.xml" not in listing.text
    reject = reverse("admin:directdebit_debit_reject", args=[world["debits"][1].pk])
    assert stranger.get(reject).status_code == 404
    assert stranger.post(reject, {"reason_code": "AM04", "date": "2026-01-01"}).status_code == 404
    # Her own site has no creditor: a file of Combs is not hers to import.
    response = stranger.post(
        reverse("admin:directdebit_returnfile_import"),
        {"file": SimpleUploadedFile("retours.xml", sample(world))},
    )
    assert response.status_code == 200 and response.context["form"].errors["file"]
    assert Debit.objects.get(pk=debit.pk).status == Debit.Status.REJECTED  # Combs' import.
    assert ReturnFile.objects.count() == 1


def test_without_the_permissions_the_pages_are_closed(world):
    reader = signed_in(staff(world["site"], ["view_returnfile"], username="lectrice"))
    assert reader.get(reverse("admin:directdebit_returnfile_import")).status_code == 403
    url = reverse("admin:directdebit_debit_reject", args=[world["debits"][0].pk])
    assert reader.get(url).status_code == 403


def test_a_family_never_reaches_these_pages(world):
    family = signed_in(world["martin"])
    response = family.get(reverse("admin:directdebit_returnfile_import"))
    assert response.status_code == 302 and "login" in response["Location"]
