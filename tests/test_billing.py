import io
import re
import threading
import time
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from billing import ledger, online
from billing.models import Invoice, InvoiceLine, OnlinePayment, Payment, PaymentGateway
from billing.statement import statement
from extranet.money import money

from . import billing_data
from .factories import make_parent


def pdf_text(content):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def response_bytes(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


# Numbers, freezing, credit notes, rounding.


def test_numbers_follow_each_other_per_site_and_year(parent, other_parent):
    first = billing_data.issued(parent.family)
    second = billing_data.issued(parent.family)
    elsewhere = billing_data.issued(other_parent.family)
    year = timezone.localdate().year
    assert (first.number, second.number) == (f"{year}FAC0001", f"{year}FAC0002")
    assert elsewhere.number == f"{year}FAC0001"  # Each site its own sequence.


def test_a_failed_issue_leaves_no_gap(parent):
    empty = Invoice.objects.create(site=parent.family.site, family=parent.family, label="Vide")
    with pytest.raises(ValidationError):
        ledger.issue(empty)
    assert billing_data.issued(parent.family).number.endswith("FAC0001")


@pytest.mark.django_db(transaction=True)
def test_fifty_invoices_issued_in_parallel_get_fifty_consecutive_numbers(combs):
    parent = make_parent(combs)
    drafts = [billing_data.draft(parent.family, label=f"F{n}") for n in range(50)]
    errors = []

    def issue(invoice):
        try:
            ledger.issue(invoice)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    if connection.vendor == "postgresql":
        threads = [threading.Thread(target=issue, args=(d,)) for d in drafts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:  # SQLite serialises writers: the same check, one after the other.
        for invoice in drafts:
            issue(invoice)
    assert errors == []
    numbers = sorted(Invoice.objects.issued().values_list("number", flat=True))
    year = timezone.localdate().year
    assert numbers == [f"{year}FAC{n:04d}" for n in range(1, 51)]


def test_an_issued_invoice_refuses_changes_and_deletion(parent):
    invoice = billing_data.issued(parent.family)
    invoice.label = "Autre chose"
    with pytest.raises(ValidationError):
        invoice.save()
    with pytest.raises(ValidationError):
        Invoice.objects.get(pk=invoice.pk).delete()
    with pytest.raises(ValidationError):
        Invoice.objects.filter(pk=invoice.pk).update(label="Autre")
    with pytest.raises(ValidationError):
        Invoice.objects.filter(pk=invoice.pk).delete()
    line = invoice.lines.get()
    line.unit_price = Decimal("1.00")
    with pytest.raises(ValidationError):
        line.save()
    with pytest.raises(ValidationError):
        line.delete()
    with pytest.raises(ValidationError):
        InvoiceLine.objects.create(invoice=invoice, label="Ajout", unit_price=Decimal(1))
    assert Invoice.objects.get(pk=invoice.pk).total == Decimal("186.00")


def test_names_and_addresses_are_copied_at_issue(parent):
    guardian = billing_data.payer(parent.family)
    invoice = billing_data.issued(parent.family)
    guardian.address_line1 = "1 place de la Mairie"
    guardian.save()
    parent.family.site.name = "Nouveau nom"
    parent.family.site.save()
    invoice.refresh_from_db()
    assert "12 rue des Tilleuls" in invoice.family_address
    assert invoice.site_name == "Conservatoire Maurice Ohana – Combs-la-Ville"


def test_rounding_is_to_the_cent_half_up(parent):
    invoice = billing_data.issued(
        parent.family,
        lines=[("Un tiers", "10.00", "0.33"), ("Demi-cent", "0.125"), ("Cours", "62.005")],
    )
    amounts = list(invoice.lines.values_list("amount", flat=True))
    assert amounts == [Decimal("3.30"), Decimal("0.13"), Decimal("62.01")]
    assert invoice.total == Decimal("65.44")
    assert money("2.675") == Decimal("2.68") and money(Decimal("-2.675")) == Decimal("-2.68")


def test_credit_note_flow(parent):
    invoice = billing_data.issued(parent.family)
    note = billing_data.draft(
        parent.family,
        label="Avoir",
        lines=[("Remise", "50.00")],
        kind=Invoice.Kind.CREDIT_NOTE,
        credited_invoice=invoice,
    )
    note.full_clean()
    note = ledger.issue(note)
    year = timezone.localdate().year
    assert note.number == f"{year}AV0001"
    current = ledger.remaining_of(Invoice.objects.filter(pk=invoice.pk)).get()
    assert ledger.remaining(current) == Decimal("136.00")
    too_much = billing_data.draft(
        parent.family,
        lines=[("Trop", "200.00")],
        kind=Invoice.Kind.CREDIT_NOTE,
        credited_invoice=invoice,
    )
    with pytest.raises(ValidationError):
        ledger.issue(too_much)
    data = statement(parent.family)
    assert data["billed"] == Decimal("136.00") and data["balance"] == Decimal("-136.00")


def test_make_credit_note_copies_the_lines_of_an_issued_invoice(parent):
    from tests import students_data

    lea = students_data.student(parent.family, "Léa")
    invoice = billing_data.draft(
        parent.family, lines=[("Piano", "186.00"), ("Location", "20.00", "1.5")]
    )
    invoice.lines.filter(label="Piano").update(student=lea)
    invoice = ledger.issue(invoice)
    note = ledger.make_credit_note(invoice)
    assert (note.kind, note.status, note.credited_invoice_id, note.family_id, note.total) == (
        Invoice.Kind.CREDIT_NOTE,
        Invoice.Status.DRAFT,
        invoice.pk,
        parent.family.pk,
        Decimal("216.00"),
    )
    assert invoice.number in note.label
    copied = ["label", "student_id", "quantity", "unit_price", "amount", "position"]
    assert list(note.lines.values_list(*copied)) == list(invoice.lines.values_list(*copied))
    # Brought down to what is credited, then issued.
    note.lines.filter(label="Location").delete()
    ledger.issue(note)
    current = ledger.remaining_of(Invoice.objects.filter(pk=invoice.pk)).get()
    assert ledger.remaining(current) == Decimal("30.00")


def test_make_credit_note_refuses_what_cannot_be_credited(parent):
    draft_invoice = billing_data.draft(parent.family)
    invoice = billing_data.issued(parent.family)
    note = ledger.issue(ledger.make_credit_note(invoice))
    for target, code in [
        (draft_invoice, "not_issued"),
        (note, "not_issued"),
        (invoice, "credited"),
    ]:  # Wholly credited already.
        with pytest.raises(ValidationError) as refused:
            ledger.make_credit_note(target)
        assert refused.value.code == code
    assert Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE).count() == 1


def test_a_credit_note_must_correct_an_issued_invoice_of_the_family(parent, other_parent):
    draft_invoice = billing_data.draft(parent.family)
    foreign = billing_data.issued(other_parent.family)
    for credited in [draft_invoice, foreign, None]:
        note = Invoice(
            site=parent.family.site,
            family=parent.family,
            label="Avoir",
            kind=Invoice.Kind.CREDIT_NOTE,
            credited_invoice=credited,
        )
        with pytest.raises(ValidationError):
            note.full_clean()


# Payments and the statement.


def test_statement_totals_and_balance(parent):
    first = billing_data.issued(parent.family, lines=[("Piano", "186.00"), ("FM", "1000.00")])
    second = billing_data.issued(parent.family, lines=[("Danse", "120.00")])
    ledger.record_payment(
        parent.family,
        Decimal("1000.00"),
        Payment.Mode.CHEQUE,
        [(first, Decimal("900.00")), (second, Decimal("100.00"))],
        reference="0001234",
    )
    ledger.record_payment(
        parent.family, Decimal("20.00"), Payment.Mode.CASH, [(second, Decimal("20.00"))]
    )
    data = statement(parent.family)
    assert data["billed"] == Decimal("1306.00")
    assert data["paid"] == Decimal("1020.00")
    assert data["balance"] == Decimal("-286.00")
    assert [i.number for i in data["unpaid"]] == [first.number]
    assert data["unpaid"][0].remaining == Decimal("286.00")


def test_a_payment_cannot_settle_more_than_is_left_or_another_familys_invoice(parent, other_parent):
    invoice = billing_data.issued(parent.family)
    foreign = billing_data.issued(other_parent.family)
    with pytest.raises(ValidationError):
        ledger.record_payment(
            parent.family, Decimal("500"), Payment.Mode.CHEQUE, [(invoice, Decimal("200.00"))]
        )
    with pytest.raises(ValidationError):
        ledger.record_payment(
            parent.family, Decimal("10"), Payment.Mode.CHEQUE, [(foreign, Decimal("10.00"))]
        )
    with pytest.raises(ValidationError):
        ledger.record_payment(
            parent.family, Decimal("10"), Payment.Mode.CHEQUE, [(invoice, Decimal("20.00"))]
        )
    assert not Payment.objects.exists()


def test_statement_page_in_french_money_format(parent_client, parent):
    invoice = billing_data.issued(parent.family, lines=[("Cours", "1186.00")])
    page = parent_client.get(reverse("billing:statement"), HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 200
    text = page.text.replace("\u202f", " ").replace("\u00a0", " ")
    assert "1 186,00 €" in text
    assert reverse("billing:invoice_pdf", args=[invoice.pk]) in page.text


def test_statement_filtered_by_school_year(parent_client, parent, combs):
    from tests import students_data

    this = students_data.school_year(combs)
    last = students_data.school_year(combs, this.start_date.year - 1)
    billing_data.issued(parent.family, label="Cette année", school_year=this)
    billing_data.issued(parent.family, label="L'an dernier", school_year=last)
    page = parent_client.get(reverse("billing:statement"), {"annee": last.pk})
    labels = [line.label for line in page.context["lines"]]
    assert len(labels) == 1 and "L'an dernier" in labels[0]


# PDFs, read back.


def test_invoice_pdf_holds_number_lines_totals_and_copied_addresses(
    parent_client, parent, run_worker
):
    billing_data.payer(parent.family)
    invoice = billing_data.issued(
        parent.family, lines=[("Piano – Hugo", "186.00"), ("Adhésion", "15.00")]
    )
    response = parent_client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response_bytes(response)).replace("\u202f", " ").replace("\u00a0", " ")
    for expected in [
        invoice.number,
        "Piano – Hugo",
        "Adhésion",
        "201,00 €",
        "186,00 €",
        "12 rue des Tilleuls",
        "Combs-la-Ville",
    ]:
        assert expected in text, expected


def test_the_issued_pdf_is_served_from_storage(parent_client, parent):
    invoice = billing_data.issued(parent.family)
    first = response_bytes(parent_client.get(reverse("billing:invoice_pdf", args=[invoice.pk])))
    invoice.refresh_from_db()
    stored = invoice.pdf.name
    assert stored
    second = response_bytes(parent_client.get(reverse("billing:invoice_pdf", args=[invoice.pk])))
    invoice.refresh_from_db()
    assert invoice.pdf.name == stored and first == second


def test_receipt_and_attestation_pdfs(parent_client, parent):
    from tests import students_data

    lea = students_data.student(parent.family, "Léa")
    hugo = students_data.student(parent.family, "Hugo")
    invoice = billing_data.draft(parent.family)
    invoice.lines.all().delete()
    InvoiceLine.objects.create(
        invoice=invoice, label="Danse", student=lea, unit_price=Decimal("100.00")
    )
    InvoiceLine.objects.create(
        invoice=invoice, label="Piano", student=hugo, unit_price=Decimal("200.00")
    )
    invoice = ledger.issue(invoice)
    payment = ledger.record_payment(
        parent.family, Decimal("150.00"), Payment.Mode.ANCV, [(invoice, Decimal("150.00"))]
    )
    receipt = pdf_text(
        response_bytes(parent_client.get(reverse("billing:receipt_pdf", args=[payment.pk])))
    )
    assert payment.receipt_number in receipt and invoice.number in receipt
    year = payment.date.year
    attestation = pdf_text(
        response_bytes(parent_client.get(reverse("billing:attestation", args=[year])))
    )
    attestation = attestation.replace("\u202f", " ").replace("\u00a0", " ")
    # 150 € shared as the invoice's lines: a third for Léa, two thirds for Hugo.
    assert re.search(r"Léa Martin\s+50,00 €", attestation)
    assert re.search(r"Hugo Martin\s+100,00 €", attestation)


# Another family, another site.


@pytest.mark.parametrize("view", ["billing:invoice_pdf", "billing:receipt_pdf"])
def test_another_familys_documents_are_a_404(parent, other_parent, view):
    invoice = billing_data.issued(other_parent.family)
    payment = ledger.record_payment(
        other_parent.family, Decimal("10"), Payment.Mode.CASH, [(invoice, Decimal("10"))]
    )
    neighbour = make_parent(parent.family.site, username="voisin", family_name="Voisin")
    for user in [parent, neighbour]:
        client = Client()
        client.force_login(user)
        target = invoice if view == "billing:invoice_pdf" else payment
        assert client.get(reverse(view, args=[target.pk])).status_code == 404
    # The owner reaches them.
    client = Client()
    client.force_login(other_parent)
    target = invoice if view == "billing:invoice_pdf" else payment
    assert client.get(reverse(view, args=[target.pk])).status_code == 200


def test_a_draft_invoice_is_not_shown_to_the_family(parent_client, parent):
    draft_invoice = billing_data.draft(parent.family)
    assert (
        parent_client.get(reverse("billing:invoice_pdf", args=[draft_invoice.pk])).status_code
        == 404
    )
    assert draft_invoice.label not in parent_client.get(reverse("billing:statement")).text


def test_no_attestation_for_a_year_without_payment(parent_client):
    assert parent_client.get(reverse("billing:attestation", args=[2020])).status_code == 404


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("billing:statement"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# Online payment through the simulated bank (eopayment's dummy backend).


def start_payment(client, invoices):
    response = client.post(reverse("billing:pay"), {"invoices": [i.pk for i in invoices]})
    assert response.status_code == 302, response
    return OnlinePayment.objects.latest("created_at"), response["Location"]


def notify(client, site, **fields):
    return client.post(
        reverse("billing:payment_notification", args=[site.slug]),
        urlencode(fields),
        content_type="application/x-www-form-urlencoded",
    )


@pytest.fixture
def two_invoices(parent, combs):
    billing_data.simulator(combs)
    return [
        billing_data.issued(parent.family, lines=[("Piano", "186.00")]),
        billing_data.issued(parent.family, lines=[("Location", "60.00")]),
    ]


def test_online_payment_success_records_once(
    parent_client, parent, combs, two_invoices, django_capture_on_commit_callbacks
):
    started, location = start_payment(parent_client, two_invoices)
    assert started.amount == Decimal("246.00") and started.status == OnlinePayment.Status.PENDING
    assert reverse("billing:simulated_bank") in location
    bank = Client()
    fields = {
        "transaction_id": started.transaction_id,
        "signed": "1",
        "ok": "1",
        "amount": "246.00",
    }
    with django_capture_on_commit_callbacks() as callbacks:
        assert notify(bank, combs, **fields).status_code == 200
    assert len(callbacks) == 1  # The receipt, rendered and e-mailed by the worker.
    assert notify(bank, combs, **fields).status_code == 200  # Replayed.
    assert Payment.objects.count() == 1
    payment = Payment.objects.get()
    assert payment.mode == Payment.Mode.ONLINE_CARD and payment.amount == Decimal("246.00")
    assert statement(parent.family)["balance"] == Decimal("0.00")
    page = parent_client.get(reverse("billing:payment_result", args=[started.reference]))
    assert page.context["online"].status == OnlinePayment.Status.PAID
    # The bank's own return query string names the same payment.
    page = parent_client.get(
        reverse("billing:payment_return"), {"transaction_id": started.transaction_id, "signed": "1"}
    )
    assert page.context["online"] == started


def test_refused_payment_records_nothing(parent_client, combs, two_invoices):
    started, _ = start_payment(parent_client, two_invoices)
    notify(Client(), combs, transaction_id=started.transaction_id, signed="1", amount="246.00")
    started.refresh_from_db()
    assert started.status == OnlinePayment.Status.REFUSED and not Payment.objects.exists()


@pytest.mark.parametrize(
    "fields, why",
    [
        ({"ok": "1", "amount": "246.00"}, "not signed"),
        ({"ok": "1", "signed": "1", "amount": "1.00"}, "wrong amount"),
        ({"ok": "1", "signed": "1", "amount": "246.00", "transaction_id": "forged"}, "unknown"),
    ],
)
def test_tampered_notifications_record_nothing(parent_client, combs, two_invoices, fields, why):
    started, _ = start_payment(parent_client, two_invoices)
    values = {"transaction_id": started.transaction_id, **fields}
    assert notify(Client(), combs, **values).status_code == 400, why
    assert not Payment.objects.exists()
    started.refresh_from_db()
    # A paid notification for another amount is kept for the secretariat to check.
    expected = (
        OnlinePayment.Status.ANOMALY if why == "wrong amount" else OnlinePayment.Status.PENDING
    )
    assert started.status == expected


def test_the_return_page_never_records_a_payment(parent_client, combs, two_invoices):
    started, _ = start_payment(parent_client, two_invoices)
    page = parent_client.get(
        reverse("billing:payment_return"),
        {"transaction_id": started.transaction_id, "signed": "1", "ok": "1", "amount": "246.00"},
    )
    assert page.status_code == 200 and not Payment.objects.exists()


def test_abandoned_payments_expire_and_a_late_success_is_still_recorded(
    parent_client, combs, two_invoices
):
    started, _ = start_payment(parent_client, two_invoices)
    assert online.expire_abandoned(timezone.now() + timedelta(hours=1)) == 1
    started.refresh_from_db()
    assert started.status == OnlinePayment.Status.EXPIRED
    notify(
        Client(), combs, transaction_id=started.transaction_id, signed="1", ok="1", amount="246.00"
    )
    started.refresh_from_db()
    assert started.status == OnlinePayment.Status.PAID and Payment.objects.count() == 1


@pytest.mark.parametrize(
    "status, late, alert",
    [
        (OnlinePayment.Status.PAID, False, "alert-success"),
        (OnlinePayment.Status.REFUSED, False, "alert-danger"),
        (OnlinePayment.Status.EXPIRED, False, "alert-warning"),
        (OnlinePayment.Status.ABANDONED, False, "alert-warning"),
        (OnlinePayment.Status.PENDING, True, "alert-warning"),  # Past its time, not yet expired.
        (OnlinePayment.Status.PENDING, False, "alert-info"),
        (OnlinePayment.Status.ANOMALY, False, "alert-info"),
    ],
)
def test_the_return_page_tells_the_state_the_bank_left(parent_client, parent, status, late, alert):
    online = OnlinePayment.objects.create(
        site=parent.family.site,
        family=parent.family,
        status=status,
        reference="ref",
        backend=PaymentGateway.Backend.DUMMY,
        amount=Decimal("186.00"),
        expires_at=timezone.now() + timedelta(minutes=-1 if late else 30),
    )
    page = parent_client.get(reverse("billing:payment_result", args=[online.reference]))
    assert re.findall(r'class="alert (alert-\w+)"', page.text) == [alert]


def test_credit_note_pdf_says_so(parent_client, parent):
    invoice = billing_data.issued(parent.family)
    note = ledger.issue(ledger.make_credit_note(invoice))
    texts = {
        document.number: " ".join(
            pdf_text(
                response_bytes(
                    parent_client.get(reverse("billing:invoice_pdf", args=[document.pk]))
                )
            ).split()
        )
        for document in [invoice, note]
    }
    assert f"Facture n° {invoice.number}" in texts[invoice.number]
    assert "échéance" in texts[invoice.number]
    assert f"Avoir n° {note.number}" in texts[note.number]
    assert "échéance" not in texts[note.number]
    assert f"Avoir sur la facture n° {invoice.number}" in texts[note.number]
    assert "Total de l’avoir" in texts[note.number]


def test_a_family_cannot_pay_another_familys_invoice(
    parent_client, other_parent, combs, two_invoices
):
    foreign = billing_data.issued(other_parent.family)
    response = parent_client.post(
        reverse("billing:pay"), {"invoices": [two_invoices[0].pk, foreign.pk]}
    )
    assert response.status_code == 404 and not OnlinePayment.objects.exists()


def test_no_online_payment_without_a_service(parent_client, parent):
    invoice = billing_data.issued(parent.family)
    page = parent_client.get(reverse("billing:statement"))
    assert page.context["can_pay"] is False
    response = parent_client.post(reverse("billing:pay"), {"invoices": [invoice.pk]})
    assert response.status_code == 302 and not OnlinePayment.objects.exists()


def test_the_simulated_bank_is_off_unless_enabled(
    client, settings, combs, two_invoices, parent_client
):
    started, _ = start_payment(parent_client, two_invoices)
    settings.PAYMENT_SIMULATOR = False
    assert (
        parent_client.get(
            reverse("billing:simulated_bank"), {"transaction_id": started.transaction_id}
        ).status_code
        == 404
    )
    assert (
        notify(
            Client(),
            combs,
            transaction_id=started.transaction_id,
            signed="1",
            ok="1",
            amount="246.00",
        ).status_code
        == 400
    )
    assert not Payment.objects.exists()


# PayZen / SystemPay: notifications signed with the shop's key.

PAYZEN_KEY = "1234567890123456"


def payzen_notification(online_payment, amount_cents, status="AUTHORISED", key=PAYZEN_KEY):
    import base64
    import hashlib
    import hmac

    trans_date, trans_id = online_payment.transaction_id.split("_")
    fields = {
        "vads_amount": str(amount_cents),
        "vads_auth_result": "00",
        "vads_ctx_mode": "TEST",
        "vads_currency": "978",
        "vads_site_id": "12345678",
        "vads_trans_date": trans_date,
        "vads_trans_id": trans_id,
        "vads_trans_status": status,
        "vads_result": "00",
        "vads_order_id": online_payment.reference,
        "vads_auth_number": "3fe29a",
    }
    signed = "+".join(fields[k] for k in sorted(fields)) + "+" + key
    fields["signature"] = base64.b64encode(
        hmac.new(key.encode(), signed.encode(), hashlib.sha256).digest()
    ).decode()
    return fields


@pytest.fixture
def payzen(settings, combs, parent):
    from billing.models import PaymentGateway

    settings.PAYMENT_SECRETS = {combs.slug: {"secret_test": PAYZEN_KEY}}
    PaymentGateway.objects.create(
        site=combs,
        backend=PaymentGateway.Backend.SYSTEMPAY,
        options={
            "vads_site_id": "12345678",
            "vads_ctx_mode": "TEST",
            "signature_algo": "hmac_sha256",
        },
    )
    return [billing_data.issued(parent.family, lines=[("Piano", "186.00")])]


def test_payzen_signed_notification_is_recorded_once(parent_client, combs, payzen):
    response = parent_client.post(reverse("billing:pay"), {"invoices": [payzen[0].pk]})
    assert response.status_code == 200  # A form posted to the bank, with one button.
    assert b"Aller" in response.content or b"Go to the payment page" in response.content
    started = OnlinePayment.objects.get()
    fields = payzen_notification(started, 18600)
    assert notify(Client(), combs, **fields).status_code == 200
    assert notify(Client(), combs, **fields).status_code == 200
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("change", ["amount", "key", "field"])
def test_payzen_tampered_notifications_are_refused(parent_client, combs, payzen, change):
    parent_client.post(reverse("billing:pay"), {"invoices": [payzen[0].pk]})
    started = OnlinePayment.objects.get()
    if change == "amount":
        fields = payzen_notification(started, 100)  # Well signed, but not what was asked.
    elif change == "key":
        fields = payzen_notification(started, 18600, key="0" * 16)
    else:
        fields = payzen_notification(started, 18600)
        fields["vads_amount"] = "100"
    assert notify(Client(), combs, **fields).status_code == 400
    assert not Payment.objects.exists()


# Query counts: the same for 2 and 200 lines.


def without_cache(queries):
    return [q for q in queries if "extranet_cache" not in q["sql"] and "SAVEPOINT" not in q["sql"]]


def test_statement_query_count_does_not_grow(combs, django_assert_max_num_queries):
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size, username in [(1, "petite"), (100, "grande")]:
        parent = make_parent(combs, username=username, family_name=username.title())
        for _ in range(size):
            invoice = billing_data.issued(parent.family)
            ledger.record_payment(
                parent.family, Decimal("10.00"), Payment.Mode.CASH, [(invoice, Decimal("10.00"))]
            )
        client = Client()
        client.force_login(parent)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("billing:statement"))
        assert len(page.context["lines"]) == 2 * size
        # The cache's own reads and writes (and their savepoints) are Redis's in
        # production, not the database's.
        counts.append(len(without_cache(queries)))
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("billing:statement"))
        # Again, the statement and the estimate from the cache.
        counts.append(len(without_cache(queries)))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts
    assert counts[0] <= 10 and counts[1] <= 5, counts


# PayFiP: the notification only carries the operation's id; the result is
# asked of the DGFiP's web service (here a local stand-in).


@pytest.fixture
def payfip(settings, combs, parent, tmp_path):
    from billing.models import PaymentGateway

    from .payfip_service import PayFiPService

    with PayFiPService(tmp_path / "payfip") as service:
        settings.PAYFIP_WSDL_URL = service.wsdl_url
        PaymentGateway.objects.create(
            site=combs,
            backend=PaymentGateway.Backend.PAYFIP,
            options={"numcli": "012345", "saisie": "T"},
        )
        parent.family.reference_email = "famille.martin@example.org"
        parent.family.save()
        yield service, billing_data.issued(parent.family, lines=[("Piano", "186.00")])


def payfip_result(service, resultrans="P", montant=None):
    created = service.created[-1]
    # In the order of the DGFiP's schema.
    service.payments[created["idop"]] = {
        "dattrans": timezone.localtime().strftime("%d%m%Y"),
        "exer": str(timezone.localdate().year),
        "heurtrans": timezone.localtime().strftime("%H%M"),
        "idOp": created["idop"],
        "mel": "famille.martin@example.org",
        "montant": montant or created["montant"],
        "numauto": "112233",
        "numcli": "012345",
        "refdet": created["refdet"],
        "resultrans": resultrans,
        "saisie": "T",
    }
    return created["idop"]


def test_payfip_paid_is_confirmed_by_the_web_service_and_recorded_once(
    parent_client, combs, payfip
):
    service, invoice = payfip
    response = parent_client.post(reverse("billing:pay"), {"invoices": [invoice.pk]})
    assert response.status_code == 302 and "payfip.gouv.fr" in response["Location"]
    assert service.created[-1]["montant"] == "18600"
    idop = payfip_result(service, "P")
    for _ in range(2):  # Replayed: one payment.
        assert (
            Client()
            .post(
                reverse("billing:payment_notification", args=[combs.slug]),
                f"idop={idop}",
                content_type="application/x-www-form-urlencoded",
            )
            .status_code
            == 200
        )
    assert Payment.objects.get().amount == Decimal("186.00")


@pytest.mark.parametrize(
    "resultrans, montant, status",
    [
        ("R", None, 200),
        ("A", None, 200),
        ("P", "100", 400),
    ],
)
def test_payfip_refused_cancelled_or_wrong_amount_records_nothing(
    parent_client, combs, payfip, resultrans, montant, status
):
    service, invoice = payfip
    parent_client.post(reverse("billing:pay"), {"invoices": [invoice.pk]})
    idop = payfip_result(service, resultrans, montant)
    response = Client().post(
        reverse("billing:payment_notification", args=[combs.slug]),
        f"idop={idop}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == status
    assert not Payment.objects.exists()


def test_payfip_unknown_operation_records_nothing(parent_client, combs, payfip):
    service, invoice = payfip
    parent_client.post(reverse("billing:pay"), {"invoices": [invoice.pk]})
    payfip_result(service, "P")
    service.payments["forged"] = {**service.payments[service.created[-1]["idop"]], "idOp": "forged"}
    response = Client().post(
        reverse("billing:payment_notification", args=[combs.slug]),
        "idop=forged",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400 and not Payment.objects.exists()


def transaction_open(django_connection):
    """Whether this connection is inside an atomic block, or has a
    transaction open in the database itself (whatever opened it)."""
    raw = django_connection.connection
    if django_connection.vendor == "postgresql":
        from psycopg.pq import TransactionStatus

        in_database = raw.info.transaction_status != TransactionStatus.IDLE
    else:
        in_database = raw.in_transaction
    return django_connection.in_atomic_block or in_database


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("atomic_requests", [False, True])
def test_no_transaction_is_open_while_payfip_is_called(
    parent_client, combs, payfip, monkeypatch, atomic_requests
):
    service, invoice = payfip
    # The views' own connection, not the proxy: the stand-in answers from
    # another thread, while the view waits for it.
    django_connection = connections["default"]
    # Were requests made atomic one day, the views that call a bank opt out.
    monkeypatch.setitem(django_connection.settings_dict, "ATOMIC_REQUESTS", atomic_requests)
    calls = []
    service.on_call = lambda operation: calls.append(
        (operation, transaction_open(django_connection))
    )
    assert parent_client.post(reverse("billing:pay"), {"invoices": [invoice.pk]}).status_code == 302
    idop = payfip_result(service, "P")
    assert (
        Client()
        .post(
            reverse("billing:payment_notification", args=[combs.slug]),
            f"idop={idop}",
            content_type="application/x-www-form-urlencoded",
        )
        .status_code
        == 200
    )
    assert calls == [("creerPaiementSecurise", False), ("recupererDetailPaiementSecurise", False)]
    assert Payment.objects.get().amount == Decimal("186.00")
    assert OnlinePayment.objects.get().transaction_id == idop


def test_a_bank_out_of_reach_leaves_no_payment_in_progress(parent_client, combs, payfip):
    service, invoice = payfip
    service.down = True
    response = parent_client.post(reverse("billing:pay"), {"invoices": [invoice.pk]}, follow=True)
    (message,) = [str(m) for m in response.context["messages"]]
    assert "injoignable" in message
    failed = OnlinePayment.objects.get()
    assert failed.status == OnlinePayment.Status.REFUSED and not failed.transaction_id
    service.down = False  # Back: the family tries again at once.
    response = parent_client.post(reverse("billing:pay"), {"invoices": [invoice.pk]})
    assert response.status_code == 302 and "payfip.gouv.fr" in response["Location"]
    assert OnlinePayment.objects.filter(status=OnlinePayment.Status.PENDING).count() == 1


def test_an_e_mail_the_bank_refuses_is_said_not_a_server_error(parent_client, parent, payfip):
    _service, invoice = payfip
    # Valid for the portal, too long for PayFiP (80 characters at most).
    parent.family.reference_email = "famille." + "martin-durand." * 6 + "@example.org"
    parent.family.save()
    response = parent_client.post(reverse("billing:pay"), {"invoices": [invoice.pk]}, follow=True)
    assert response.status_code == 200
    (message,) = [str(m) for m in response.context["messages"]]
    assert "e-mail de référence" in message
    assert OnlinePayment.objects.get().status == OnlinePayment.Status.REFUSED


# The secretariat's side.


def secretary(site, username="secretariat"):
    from django.contrib.auth.models import Permission

    from billing.demo import SECRETARIAT_PERMISSIONS
    from extranet.models import User
    from families.demo import SECRETARIAT_PERMISSIONS as FAMILIES

    user = User.objects.create_user(
        username=username,
        password="x" * 16,
        site=site,
        is_staff=True,
        email=f"{username}@example.org",
    )
    user.user_permissions.set(
        Permission.objects.filter(codename__in=SECRETARIAT_PERMISSIONS + FAMILIES)
    )
    client = Client()
    client.force_login(user)
    return client


def test_secretary_drafts_and_issues_an_invoice_in_the_admin(parent, combs):
    staff = secretary(combs)
    add = reverse("admin:billing_invoice_add")
    response = staff.post(
        add,
        {
            "site": combs.pk,
            "family": parent.family.pk,
            "kind": "invoice",
            "label": "Cotisations",
            "due_date": "",
            "credited_invoice": "",
            "school_year": "",
            "lines-TOTAL_FORMS": "2",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "1000",
            "lines-0-position": "0",
            "lines-0-label": "Piano",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "186.00",
            "lines-1-position": "1",
            "lines-1-label": "FM",
            "lines-1-quantity": "0.5",
            "lines-1-unit_price": "50.01",
        },
    )
    assert response.status_code == 302, (
        response.context["adminform"].form.errors,
        [f.errors for f in response.context["inline_admin_formsets"][0].formset],
    )
    invoice = Invoice.objects.get()
    assert invoice.total == Decimal("211.01")  # 25.005 → 25.01
    assert invoice.status == Invoice.Status.DRAFT
    changelist = reverse("admin:billing_invoice_changelist")
    staff.post(changelist, {"action": "issue_invoices", "_selected_action": [invoice.pk]})
    invoice.refresh_from_db()
    assert invoice.is_issued and invoice.number.endswith("FAC0001")
    # Issued: shown, not changeable, not deletable.
    change = reverse("admin:billing_invoice_change", args=[invoice.pk])
    page = staff.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.text
    staff.post(change, {"label": "Autre"})
    assert Invoice.objects.get(pk=invoice.pk).label == "Cotisations"
    assert (
        staff.post(
            reverse("admin:billing_invoice_delete", args=[invoice.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_secretary_makes_a_credit_note(parent, combs):
    invoice = billing_data.issued(parent.family)
    staff = secretary(combs)
    response = staff.post(
        reverse("admin:billing_invoice_changelist"),
        {"action": "make_credit_note", "_selected_action": [invoice.pk]},
    )
    note = Invoice.objects.get(kind=Invoice.Kind.CREDIT_NOTE)
    assert response.status_code == 302 and str(note.pk) in response["Location"]
    assert note.credited_invoice == invoice and note.status == Invoice.Status.DRAFT
    assert note.lines.get().amount == Decimal("186.00")


def test_secretary_records_a_cheque_settling_two_invoices(
    parent, combs, django_capture_on_commit_callbacks
):
    first = billing_data.issued(parent.family, lines=[("Piano", "186.00")])
    second = billing_data.issued(parent.family, lines=[("FM", "100.00")])
    staff = secretary(combs)
    data = {
        "site": combs.pk,
        "family": parent.family.pk,
        "date": timezone.localdate().isoformat(),
        "mode": "cheque",
        "other_mode": "",
        "reference": "0001234",
        "amount": "250.00",
        "allocations-TOTAL_FORMS": "2",
        "allocations-INITIAL_FORMS": "0",
        "allocations-MIN_NUM_FORMS": "0",
        "allocations-MAX_NUM_FORMS": "1000",
        "allocations-0-invoice": first.pk,
        "allocations-0-amount": "186.00",
        "allocations-1-invoice": second.pk,
        "allocations-1-amount": "64.00",
    }
    add = reverse("admin:billing_payment_add")
    too_much = staff.post(add, {**data, "allocations-1-amount": "164.00"})
    assert too_much.status_code == 200 and not Payment.objects.exists()
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff.post(add, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    payment = Payment.objects.get()
    assert payment.receipt_number.endswith("REC0001") and len(callbacks) == 1
    assert statement(parent.family)["balance"] == Decimal("-36.00")


def test_past_due_filter_and_exports(parent, combs):
    import csv

    from openpyxl import load_workbook

    late = billing_data.issued(parent.family, due_date=timezone.localdate() - timedelta(days=1))
    billing_data.issued(parent.family)  # Not due yet.
    paid = billing_data.issued(parent.family, due_date=timezone.localdate() - timedelta(days=5))
    ledger.record_payment(parent.family, paid.total, Payment.Mode.CASH, [(paid, paid.total)])
    staff = secretary(combs)
    changelist = reverse("admin:billing_invoice_changelist")
    past_due = staff.get(changelist, {"reglement": "past_due"})
    assert [i.pk for i in past_due.context["cl"].result_list] == [late.pk]
    all_ids = list(Invoice.objects.values_list("pk", flat=True))
    response = staff.post(changelist, {"action": "export_csv", "_selected_action": all_ids})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 4 and rows[1][0].endswith("FAC0001")
    response = staff.post(
        reverse("admin:billing_payment_changelist"),
        {
            "action": "export_xlsx",
            "_selected_action": list(Payment.objects.values_list("pk", flat=True)),
        },
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert list(sheet.values)[1][-1] == 186


def test_staff_of_another_site_sees_nothing(parent, combs, ploufragan):
    invoice = billing_data.issued(parent.family)
    payment = ledger.record_payment(
        parent.family, Decimal("10"), Payment.Mode.CASH, [(invoice, Decimal("10"))]
    )
    other = secretary(ploufragan, "secretariat-plou")
    assert other.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).status_code == 302
    assert other.get(reverse("admin:billing_payment_change", args=[payment.pk])).status_code == 302
    assert other.get(reverse("admin:billing_invoice_pdf", args=[invoice.pk])).status_code == 404
    assert invoice.number not in other.get(reverse("admin:billing_invoice_changelist")).text
    # Nor can she settle this site's invoice with a payment of hers.
    other.post(
        reverse("admin:billing_payment_add"),
        {
            "site": ploufragan.pk,
            "family": parent.family.pk,
            "date": timezone.localdate().isoformat(),
            "mode": "cash",
            "amount": "10.00",
            "allocations-TOTAL_FORMS": "1",
            "allocations-INITIAL_FORMS": "0",
            "allocations-MIN_NUM_FORMS": "0",
            "allocations-MAX_NUM_FORMS": "1000",
            "allocations-0-invoice": invoice.pk,
            "allocations-0-amount": "10.00",
        },
    )
    assert Payment.objects.count() == 1


def test_gateway_secrets_are_refused_in_the_admin(combs, settings):
    staff = secretary(combs)
    from django.contrib.auth.models import Permission

    from extranet.models import User

    User.objects.get(username="secretariat").user_permissions.add(
        *Permission.objects.filter(codename__in=["add_paymentgateway"])
    )
    response = staff.post(
        reverse("admin:billing_paymentgateway_add"),
        {
            "site": combs.pk,
            "backend": "systempayv2",
            "is_active": "on",
            "options": '{"vads_site_id": "1", "secret_production": "abc"}',
        },
    )
    assert response.status_code == 200 and "PAYMENT_SECRETS" in response.text
    settings.PAYMENT_SIMULATOR = False
    response = staff.post(
        reverse("admin:billing_paymentgateway_add"),
        {"site": combs.pk, "backend": "dummy", "is_active": "on", "options": "{}"},
    )
    assert response.status_code == 200
    from billing.models import PaymentGateway

    assert not PaymentGateway.objects.exists()


def test_check_deploy_refuses_the_simulated_bank(settings):
    from billing.checks import simulated_bank_off_in_production

    settings.DEBUG = False
    settings.PAYMENT_SIMULATOR = True
    settings.PAYMENT_ALLOW_TEST = True
    assert [e.id for e in simulated_bank_off_in_production(None)] == [
        "billing.E001",
        "billing.W002",
    ]
    settings.PAYMENT_SIMULATOR = settings.PAYMENT_ALLOW_TEST = False
    assert simulated_bank_off_in_production(None) == []


def test_statement_pages_are_valid_html(parent_client, parent, combs, tmp_path):
    from .test_html_valid import validate

    billing_data.simulator(combs)
    invoice = billing_data.issued(parent.family)
    ledger.record_payment(
        parent.family,
        Decimal("10"),
        Payment.Mode.CHEQUE,
        [(invoice, Decimal("10"))],
        reference="123",
    )
    pages = {"statement": parent_client.get(reverse("billing:statement")).text}
    parent_client.post(reverse("billing:pay"), {"invoices": [invoice.pk]})
    started = OnlinePayment.objects.get()
    pages["return"] = parent_client.get(
        reverse("billing:payment_result", args=[started.reference])
    ).text
    # A payment waiting for the bank, and some credit.
    ledger.record_payment(parent.family, Decimal("60"), Payment.Mode.CASH, [])
    pages["pending"] = parent_client.get(reverse("billing:statement")).text
    assert (
        "Reprendre le paiement" in pages["pending"] and "Crédit en votre faveur" in pages["pending"]
    )
    pages["bank"] = parent_client.get(
        reverse("billing:simulated_bank"),
        {"transaction_id": started.transaction_id, "amount": "176.00", "origin": "Combs"},
    ).text
    assert validate(pages, tmp_path) == []


# What the review of the ledger asked to prove.


def test_an_old_copy_of_an_invoice_cannot_undo_its_issue(parent):
    stale = billing_data.draft(parent.family)
    ledger.issue(stale)
    stale.label = "Autre"
    with pytest.raises(ValidationError):
        stale.save()  # Still says "draft": the database says otherwise.
    with pytest.raises(ValidationError):
        stale.delete()
    fresh = Invoice.objects.get(pk=stale.pk)
    assert fresh.is_issued and fresh.number and fresh.label != "Autre"


def test_lines_of_an_issued_invoice_refuse_bulk_changes(parent):
    invoice = billing_data.issued(parent.family)
    with pytest.raises(ValidationError):
        InvoiceLine.objects.filter(invoice=invoice).update(unit_price=Decimal(1))
    with pytest.raises(ValidationError):
        InvoiceLine.objects.filter(invoice=invoice).delete()
    with pytest.raises(ValidationError):
        InvoiceLine.objects.bulk_create(
            [InvoiceLine(invoice=invoice, label="x", amount=1, unit_price=Decimal(1))]
        )
    assert invoice.lines.get().amount == Decimal("186.00")


@pytest.mark.parametrize(
    "allocations",
    [
        [("A", "150.00"), ("B", "-50.00")],
        [("A", "50.00"), ("A", "50.00")],
        [("A", "0")],
    ],
)
def test_negative_zero_or_repeated_allocations_are_refused(parent, allocations):
    invoices = {
        "A": billing_data.issued(parent.family, lines=[("A", "100.00")]),
        "B": billing_data.issued(parent.family, lines=[("B", "100.00")]),
    }
    with pytest.raises(ValidationError):
        ledger.record_payment(
            parent.family,
            Decimal("100.00"),
            Payment.Mode.CHEQUE,
            [(invoices[key], Decimal(amount)) for key, amount in allocations],
        )
    assert not Payment.objects.exists()


def run_together(functions):
    """Run on PostgreSQL's separate connections at once; SQLite serialises writers."""
    errors = []

    def run(function):
        try:
            function()
        except ValidationError as error:
            errors.append(error)
        finally:
            connections.close_all()

    if connection.vendor != "postgresql":
        for function in functions:
            run(function)
        return errors
    threads = [threading.Thread(target=run, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_payments_at_once_cannot_overpay_an_invoice(combs):
    parent = make_parent(combs)
    invoice = billing_data.issued(parent.family, lines=[("Piano", "100.00")])
    errors = run_together(
        [
            lambda: ledger.record_payment(
                parent.family,
                Decimal("100.00"),
                Payment.Mode.CHEQUE,
                [(invoice, Decimal("100.00"))],
            ),
            lambda: ledger.record_payment(
                parent.family, Decimal("100.00"), Payment.Mode.CASH, [(invoice, Decimal("100.00"))]
            ),
        ]
    )
    assert len(errors) == 1 and Payment.objects.count() == 1
    current = ledger.remaining_of(Invoice.objects.filter(pk=invoice.pk)).get()
    assert current.paid == Decimal("100.00")


@pytest.mark.django_db(transaction=True)
def test_two_credit_notes_at_once_cannot_exceed_the_invoice(combs):
    parent = make_parent(combs)
    invoice = billing_data.issued(parent.family, lines=[("Piano", "100.00")])
    notes = [
        billing_data.draft(
            parent.family,
            lines=[("Remise", "80.00")],
            kind=Invoice.Kind.CREDIT_NOTE,
            credited_invoice=invoice,
        )
        for _ in range(2)
    ]
    errors = run_together([lambda note=note: ledger.issue(note) for note in notes])
    assert len(errors) == 1
    assert Invoice.objects.issued().filter(kind=Invoice.Kind.CREDIT_NOTE).count() == 1


def test_a_test_mode_payment_is_refused_on_a_production_site(
    parent_client, combs, payzen, settings
):
    settings.PAYMENT_ALLOW_TEST = False
    parent_client.post(reverse("billing:pay"), {"invoices": [payzen[0].pk]})
    started = OnlinePayment.objects.get()
    assert notify(Client(), combs, **payzen_notification(started, 18600)).status_code == 400
    assert not Payment.objects.exists()


def test_a_second_payment_of_the_same_invoices_waits_for_the_first(
    parent_client, combs, two_invoices
):
    start_payment(parent_client, two_invoices)
    parent_client.post(reverse("billing:pay"), {"invoices": [two_invoices[0].pk]})
    assert OnlinePayment.objects.count() == 1


def wait_until_waiting_for_a_lock(count):
    """Until `count` connections of this database wait for a lock."""
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # Else read once per transaction.
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                "current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
            time.sleep(0.02)
    raise AssertionError(f"{count} connections never waited for a lock")


@pytest.mark.django_db(transaction=True)
def test_two_tabs_paying_the_same_invoice_at_once_start_one_payment(combs):
    parent = make_parent(combs)
    family = parent.family
    billing_data.simulator(combs)
    invoice = billing_data.issued(family)
    refused = []

    def pay():
        try:
            online.start(family, [invoice], parent, "martin@example.org", "http://testserver")
        except ValidationError as error:
            refused.append(error.code)
        finally:
            connections.close_all()

    if connection.vendor != "postgresql":  # SQLite serialises writers.
        pay()
        pay()
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            # The first tab is held between its check and its commit (it
            # cannot read which payments are in progress yet); the second
            # comes meanwhile and must wait for the first to commit.
            cursor.execute("LOCK TABLE billing_onlinepayment_invoices IN ACCESS EXCLUSIVE MODE")
            first = threading.Thread(target=pay)
            first.start()
            wait_until_waiting_for_a_lock(1)
            second = threading.Thread(target=pay)
            second.start()
            wait_until_waiting_for_a_lock(2)
        first.join()
        second.join()
    assert refused == ["in_progress"]
    assert OnlinePayment.objects.filter(status=OnlinePayment.Status.PENDING).count() == 1


def test_a_payment_counts_in_a_year_for_what_it_settled_that_year(parent, combs):
    from tests import students_data

    this = students_data.school_year(combs)
    last = students_data.school_year(combs, this.start_date.year - 1)
    old = billing_data.issued(parent.family, school_year=last, lines=[("A", "100.00")])
    new = billing_data.issued(parent.family, school_year=this, lines=[("B", "100.00")])
    ledger.record_payment(
        parent.family,
        Decimal("200.00"),
        Payment.Mode.TRANSFER,
        [(old, Decimal("100.00")), (new, Decimal("100.00"))],
    )
    for year in [this, last]:
        data = statement(parent.family, year)
        assert (data["billed"], data["paid"], data["balance"]) == (
            Decimal("100.00"),
            Decimal("100.00"),
            Decimal("0.00"),
        )


def test_csv_amounts_use_a_decimal_comma():
    from extranet.tables import csv_cell

    assert csv_cell(Decimal("-50.00")) == "-50,00" and csv_cell("-1+1") == "'-1+1"


@pytest.mark.parametrize("values", [[], ["abc"], ["<script>alert(1)</script>"], ["1" * 40]])
def test_malformed_payment_choices_are_refused_with_a_message(
    parent_client, combs, two_invoices, values
):
    response = parent_client.post(reverse("billing:pay"), {"invoices": values}, follow=True)
    assert response.status_code in {200, 404}
    assert not OnlinePayment.objects.exists()
    if response.status_code == 200:
        assert [str(m) for m in response.context["messages"]]


@pytest.mark.parametrize("year", ["abc", "99999", "<script>", ""])
def test_malformed_year_filter_shows_every_year(parent_client, parent, year):
    billing_data.issued(parent.family)
    page = parent_client.get(reverse("billing:statement"), {"annee": year})
    assert page.status_code == 200 and page.context["year"] is None
    assert len(page.context["lines"]) == 1


def test_a_familys_credit_settles_its_next_invoices(parent, combs):
    first = billing_data.issued(parent.family, lines=[("A", "100.00")])
    ledger.record_payment(
        parent.family, Decimal("250.00"), Payment.Mode.TRANSFER, [(first, Decimal("100.00"))]
    )
    second = billing_data.issued(parent.family, lines=[("B", "120.00")])
    third = billing_data.issued(parent.family, lines=[("C", "80.00")])
    staff = secretary(combs)
    response = staff.post(
        reverse("admin:billing_familyaccount_changelist"),
        {"action": "apply_credit", "_selected_action": [parent.family.pk]},
        follow=True,
    )
    assert response.status_code == 200
    left = {i.pk: ledger.remaining(i) for i in ledger.remaining_of(Invoice.objects.all())}
    assert (left[first.pk], left[second.pk], left[third.pk]) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("50.00"),
    )
    assert ledger.apply_credit(parent.family) == Decimal("0.00")  # Nothing left to apply.
    assert statement(parent.family)["balance"] == Decimal("-50.00")


def test_the_pdf_benchmark_runs(combs):
    from bench.invoice_pdf import main

    out = io.StringIO()
    assert main(["--repeat", "1"], stdout=out) == 0
    assert out.getvalue().count("ratio") == 3
    assert not Invoice.objects.exists()  # Rolled back.
