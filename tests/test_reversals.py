"""A payment that did not happen after all (billing.models.Reversal): it
stays as recorded, settles nothing any more, and the statement takes it
back with a debit line."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from billing import ledger
from billing.instalments import OVERDUE, PAID, coverage
from billing.models import Invoice, Payment, Reversal
from billing.statement import statement

from .factories import instalment_plans, issued, make_parent, signed_in
from .test_billing import run_together


def pay(family, invoice, amount, mode=Payment.Mode.CHEQUE, **fields):
    return ledger.record_payment(
        family, Decimal(amount), mode, [(invoice, Decimal(amount))], **fields
    )


def left(invoice):
    return ledger.remaining(ledger.remaining_of(Invoice.objects.filter(pk=invoice.pk)).get())


def test_a_reversed_payment_settles_nothing_and_the_instalment_is_due_again(parent, combs):
    instalment_plans(combs)
    invoice = issued(parent.family, lines=[("Piano", "186.00")])
    payment = pay(parent.family, invoice, "186.00", reference="0001234")
    assert left(invoice) == Decimal("0.00")
    today = timezone.localdate()
    ledger.reverse_payment(payment, today, "", "Chèque sans provision")
    assert left(invoice) == Decimal("186.00")
    current = ledger.remaining_of(Invoice.objects.filter(pk=invoice.pk)).get()
    rows = coverage(list(invoice.instalments.all()), current.paid, invoice.due_date + timedelta(1))
    assert [row.status for row in rows] == [OVERDUE]
    # Before the reversal the same instalment was paid.
    assert coverage(list(invoice.instalments.all()), Decimal("186.00"), today)[0].status == PAID
    # The payment itself is as it was recorded.
    payment.refresh_from_db()
    assert payment.amount == Decimal("186.00") and payment.allocations.count() == 1


def test_a_payment_is_reversed_once(parent):
    invoice = issued(parent.family)
    payment = pay(parent.family, invoice, "50.00")
    today = timezone.localdate()
    ledger.reverse_payment(payment, today, "AM04", "Provision insuffisante")
    with pytest.raises(ValidationError) as error:
        ledger.reverse_payment(payment, today, "AM04", "Provision insuffisante")
    assert "déjà" in " ".join(error.value.messages)
    assert Reversal.objects.count() == 1
    with pytest.raises(ValidationError):
        ledger.reverse_payment(
            pay(parent.family, invoice, "10.00"), today - timedelta(days=400), "", "Trop tôt"
        )


@pytest.mark.django_db(transaction=True)
def test_two_reversals_at_once_record_one(combs):
    parent = make_parent(combs)
    invoice = issued(parent.family, lines=[("Piano", "100.00")])
    payment = pay(parent.family, invoice, "100.00")
    today = timezone.localdate()
    errors = run_together(
        [lambda: ledger.reverse_payment(payment, today, "AM04", "Provision insuffisante")] * 2
    )
    assert len(errors) == 1 and Reversal.objects.count() == 1


def test_the_statement_shows_the_payment_and_takes_it_back(parent, combs):
    invoice = issued(parent.family, lines=[("Piano", "186.00")])
    debit = pay(parent.family, invoice, "100.00", Payment.Mode.DIRECT_DEBIT, reference="E2E-1")
    cheque = pay(parent.family, invoice, "50.00", reference="0001234")
    today = timezone.localdate()
    ledger.reverse_payment(debit, today, "AM04", "Provision insuffisante")
    ledger.reverse_payment(cheque, today, "", "Chèque sans provision")
    data = statement(parent.family)
    labels = [(line.label, line.debit, line.credit) for line in data["lines"]]
    assert ("REJET DE PRÉLÈVEMENT – Provision insuffisante", Decimal("100.00"), None) in labels
    assert ("PAIEMENT REJETÉ – Chèque sans provision", Decimal("50.00"), None) in labels
    # The payments themselves, as they were.
    assert ("RÈGLEMENT", None, Decimal("100.00")) in labels
    assert ("RÈGLEMENT", None, Decimal("50.00")) in labels
    assert data["paid"] == Decimal("0.00") and data["balance"] == Decimal("-186.00")
    assert [i.remaining for i in data["unpaid"]] == [Decimal("186.00")]
    # The lines add up to the balance.
    credits = sum((line.credit or 0 for line in data["lines"]), Decimal(0))
    debits = sum((line.debit or 0 for line in data["lines"]), Decimal(0))
    assert credits - debits == data["balance"]
    # Filtered by the invoice's school year, the same.
    if invoice.school_year_id:
        assert statement(parent.family, invoice.school_year)["paid"] == Decimal("0.00")


def test_apply_credit_ignores_a_reversed_payment(parent):
    first = issued(parent.family, lines=[("Piano", "100.00")])
    payment = ledger.record_payment(
        parent.family, Decimal("150.00"), Payment.Mode.TRANSFER, [(first, Decimal("100.00"))]
    )
    ledger.reverse_payment(payment, timezone.localdate(), "", "Virement rejeté")
    issued(parent.family, lines=[("FM", "50.00")])
    assert ledger.apply_credit(parent.family) == Decimal("0.00")


def test_the_attestation_leaves_out_a_reversed_payment(parent_client, parent):
    invoice = issued(parent.family, lines=[("Piano", "186.00")])
    kept = pay(parent.family, invoice, "86.00", reference="0001")
    gone = pay(parent.family, invoice, "100.00", Payment.Mode.DIRECT_DEBIT, reference="E2E-2")
    ledger.reverse_payment(gone, timezone.localdate(), "AM04", "Provision insuffisante")
    year = kept.date.year
    response = parent_client.get(reverse("billing:attestation", args=[year]))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(b"".join(response))).pages)
    assert "86,00" in text and "100,00" not in text and "186,00" not in text


def test_only_a_reversed_payment_gives_no_attestation(parent_client, parent):
    invoice = issued(parent.family)
    payment = pay(parent.family, invoice, "20.00")
    ledger.reverse_payment(payment, timezone.localdate(), "", "Chèque sans provision")
    page = parent_client.get(reverse("billing:statement"))
    assert page.context["payment_years"] == []
    url = reverse("billing:attestation", args=[payment.date.year])
    assert parent_client.get(url).status_code == 404


def test_the_statement_page_shows_the_reversal_and_is_valid_html(parent_client, parent, tmp_path):
    from .test_html_valid import validate

    invoice = issued(parent.family)
    payment = pay(parent.family, invoice, "100.00", Payment.Mode.DIRECT_DEBIT, reference="E2E-3")
    ledger.reverse_payment(payment, timezone.localdate(), "AM04", "Provision insuffisante")
    page = parent_client.get(reverse("billing:statement"))
    assert "REJET DE PRÉLÈVEMENT – Provision insuffisante" in page.text
    assert validate({"statement": page.text}, tmp_path) == []


def test_the_secretariat_sees_the_reversal_beside_the_payment(parent, combs):
    from .test_billing import secretary

    invoice = issued(parent.family)
    payment = pay(parent.family, invoice, "100.00", Payment.Mode.DIRECT_DEBIT, reference="E2E-4")
    ledger.reverse_payment(payment, timezone.localdate(), "AM04", "Provision insuffisante")
    staff = secretary(combs)
    page = staff.get(reverse("admin:billing_payment_change", args=[payment.pk]))
    assert "AM04 Provision insuffisante" in page.text
    listing = staff.get(reverse("admin:billing_payment_changelist"), {"rejete": "yes"})
    assert [p.pk for p in listing.context["cl"].result_list] == [payment.pk]
    account = staff.get(reverse("admin:billing_familyaccount_change", args=[parent.family.pk]))
    assert "REJET DE PRÉLÈVEMENT" in account.text


def test_statement_queries_are_the_same_with_one_or_many_reversals(combs):
    counts = []
    for size, username in [(1, "petite"), (12, "grande")]:
        parent = make_parent(combs, username=username, family_name=username.title())
        for _ in range(size):
            invoice = issued(parent.family)
            payment = pay(parent.family, invoice, "10.00", Payment.Mode.DIRECT_DEBIT)
            ledger.reverse_payment(payment, timezone.localdate(), "AM04", "Provision insuffisante")
        client = signed_in(parent)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("billing:statement"))
        assert len(page.context["lines"]) == 3 * size
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
