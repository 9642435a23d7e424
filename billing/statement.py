"""The family's account statement ("Facturation cotisations"): invoices,
credit notes and payments, newest first, with the totals, in a fixed number
of queries. A reversed payment stays on it as it was, with a debit line at
the reversal's date that takes it back."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from extranet.money import money

from .debtors import overdue_parts
from .instalments import schedules
from .ledger import credit_of, remaining, remaining_of, with_unallocated
from .models import Invoice, Payment, Reversal


@dataclass
class Line:
    date: object
    mode: str
    number: str
    label: str
    debit: Decimal | None
    credit: Decimal | None
    url: str
    link_label: str
    # An invoice with something overdue (the debtors' own answer).
    overdue: bool = False
    # The invoice, payment or refund the line is about (for the admin's links).
    obj: object = None


def reversal_of(payment):
    """The payment's Reversal (fetched with it), or None."""
    try:
        return payment.reversal
    except Reversal.DoesNotExist:
        return None


def statement(family, year=None):
    # The plan names the payment schedule of its invoice.
    invoices = Invoice.objects.issued().filter(family=family).select_related("plan")
    payments = Payment.objects.filter(family=family).select_related("other_mode", "reversal")
    if year is not None:
        # A payment counts in a year for what it settled of that year's invoices.
        invoices = invoices.filter(school_year=year)
        payments = payments.filter(allocations__invoice__school_year=year).annotate(
            counted=Sum("allocations__amount", filter=Q(allocations__invoice__school_year=year))
        )
    else:
        # A refund gives back what a payment left unallocated: it belongs
        # to no school year. What is left unallocated is the family's credit.
        payments = with_unallocated(payments).prefetch_related("refunds")
    invoices = list(remaining_of(invoices))
    payments = list(payments)
    for payment in payments:
        payment.counted = money(getattr(payment, "counted", None) or payment.amount)
    today = timezone.localdate()
    found_schedules = schedules(
        [i for i in invoices if i.kind == Invoice.Kind.INVOICE and i.plan_id], today
    )
    instalments = {
        invoice.pk: [row.instalment for row in rows] for invoice, rows in found_schedules
    }
    overdue = {
        invoice.pk
        for invoice in invoices
        if invoice.kind == Invoice.Kind.INVOICE
        and overdue_parts(invoice, instalments.get(invoice.pk, []), today)[0]
    }
    lines = []
    for invoice in invoices:
        credit_note = invoice.kind == Invoice.Kind.CREDIT_NOTE
        lines.append(
            Line(
                invoice.issue_date,
                "",
                invoice.number,
                (_("CREDIT NOTE") if credit_note else _("INVOICE")) + f" – {invoice.label}",
                None if credit_note else invoice.total,
                invoice.total if credit_note else None,
                reverse("billing:invoice_pdf", args=[invoice.pk]),
                _("Open the invoice %(number)s (PDF)") % {"number": invoice.number},
                overdue=invoice.pk in overdue,
                obj=invoice,
            )
        )
    for payment in payments:
        lines.append(
            Line(
                payment.date,
                payment.mode_label,
                payment.reference or payment.receipt_number,
                _("PAYMENT"),
                None,
                payment.counted,
                reverse("billing:receipt_pdf", args=[payment.pk]),
                _("Open the receipt %(number)s (PDF)") % {"number": payment.receipt_number},
                obj=payment,
            )
        )
        reversal = reversal_of(payment)
        if reversal is not None:
            direct_debit = payment.mode == Payment.Mode.DIRECT_DEBIT
            label = _("DIRECT DEBIT REJECTED") if direct_debit else _("PAYMENT REJECTED")
            lines.append(
                Line(
                    reversal.date,
                    payment.mode_label,
                    payment.reference or payment.receipt_number,
                    f"{label} – {reversal.reason}" if reversal.reason else label,
                    payment.counted,
                    None,
                    "",
                    "",
                    obj=payment,
                )
            )
        refunds = list(payment.refunds.all()) if year is None else []
        for refund in refunds:
            lines.append(
                Line(
                    refund.date,
                    refund.get_mode_display(),
                    refund.reference or payment.reference or payment.receipt_number,
                    _("REFUND"),
                    refund.amount,
                    None,
                    "",
                    "",
                    obj=refund,
                )
            )
        payment.refunded = money(sum((r.amount for r in refunds), Decimal(0)))
    lines.sort(key=lambda line: (line.date, line.number), reverse=True)
    billed = money(
        sum((i.total for i in invoices if i.kind == Invoice.Kind.INVOICE), Decimal(0))
        - sum((i.total for i in invoices if i.kind != Invoice.Kind.INVOICE), Decimal(0))
    )
    # What was really paid: a reversed payment counts for nothing, a refund
    # takes its part back.
    paid = money(
        sum((p.counted - p.refunded for p in payments if reversal_of(p) is None), Decimal(0))
    )
    unpaid = [i for i in invoices if i.kind == Invoice.Kind.INVOICE and remaining(i) > 0]
    for invoice in unpaid:
        invoice.remaining = remaining(invoice)
        invoice.overdue = invoice.pk in overdue
    return {
        "schedules": found_schedules,
        "lines": lines,
        "billed": billed,
        "paid": paid,
        "balance": money(paid - billed),
        "unpaid": sorted(unpaid, key=lambda i: (i.due_date, i.number)),
        # What the family's payments left to its credit (as credit_of says).
        "credit": credit_of(family)
        if year is not None
        else money(
            sum(
                (p.unallocated for p in payments if reversal_of(p) is None and p.unallocated > 0),
                Decimal(0),
            )
        ),
        # Read off the payments when they are all here (no year chosen).
        "payment_years": None
        if year is not None
        else sorted({p.date.year for p in payments if reversal_of(p) is None}, reverse=True),
    }


def search_lines(lines, text="", start=None, end=None):
    """The statement's lines whose label or number holds `text` (any case,
    accents as typed) and whose date is within [start, end], either bound
    optional. Filters what statement() found: the family's own lines only."""
    text = " ".join(text.split()).casefold()
    return [
        line
        for line in lines
        if (not text or text in f"{line.label} {line.number}".casefold())
        and (start is None or line.date >= start)
        and (end is None or line.date <= end)
    ]
