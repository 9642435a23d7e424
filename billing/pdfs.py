"""The invoice, receipt and payment certificate PDFs. An issued invoice's
PDF is rendered once and then served from storage."""

from collections import defaultdict
from decimal import Decimal

from django.utils import translation

from extranet.files import store_once
from extranet.money import money
from extranet.pdf import logo_uri
from extranet.pdf import render_pdf as render

from .deposits import cheques_of
from .ledger import postal_address
from .models import Allocation, Invoice, Payment


def render_pdf(template, context):
    # Legal documents in French, whatever the language of who asks first.
    with translation.override("fr"):
        return render(template, context)


def _store(model, pk, field, name, pdf):
    """Store the PDF unless another worker already did: the first one wins,
    and a run again after a worker died writes over the file it left."""
    instance = model.objects.get(pk=pk)  # Stored while this one was rendering?
    if getattr(instance, field):
        return instance
    return store_once(instance, field, name, pdf)


def invoice_pdf_bytes(invoice, draft=False):
    lines = list(invoice.lines.select_related("student", "discipline"))
    return render_pdf(
        "billing/pdf/invoice.html",
        {
            "invoice": invoice,
            "lines": lines,
            "instalments": list(invoice.instalments.all()),
            "site": invoice.site,
            "logo_uri": logo_uri(invoice.site),
            "draft": draft,
        },
    )


def draft_preview_pdf(invoice):
    """What the draft would look like once issued, marked « Brouillon » and
    without a number. Rendered for the secretariat only, never stored nor
    sent: the names and addresses are filled in this copy, not saved."""
    invoice = Invoice.objects.select_related("site", "family", "payer", "credited_invoice").get(
        pk=invoice.pk, status=Invoice.Status.DRAFT
    )
    invoice.family_name, invoice.family_address = postal_address(invoice.family, invoice.payer)
    invoice.site_name, invoice.site_address = invoice.site.name, invoice.site.address
    invoice.total = money(sum((line.amount for line in invoice.lines.all()), Decimal(0)))
    return invoice_pdf_bytes(invoice, draft=True)


def ensure_invoice_pdf(invoice):
    """The stored PDF of an issued invoice, rendered now if the worker has
    not done it yet."""
    if invoice.pdf:
        return invoice
    invoice = Invoice.objects.select_related("site", "credited_invoice", "plan").get(pk=invoice.pk)
    return _store(Invoice, invoice.pk, "pdf", f"{invoice.number}.pdf", invoice_pdf_bytes(invoice))


def receipt_pdf_bytes(payment):
    allocations = list(payment.allocations.select_related("invoice").order_by("invoice__number"))
    return render_pdf(
        "billing/pdf/receipt.html",
        {
            "payment": payment,
            "allocations": allocations,
            "site": payment.site,
            "family": payment.family,
            "logo_uri": logo_uri(payment.site),
            "unallocated": money(payment.amount - sum((a.amount for a in allocations), Decimal(0))),
        },
    )


def ensure_receipt_pdf(payment):
    if payment.receipt_pdf:
        return payment
    payment = Payment.objects.select_related("site", "family").get(pk=payment.pk)
    return _store(
        Payment,
        payment.pk,
        "receipt_pdf",
        f"{payment.receipt_number}.pdf",
        receipt_pdf_bytes(payment),
    )


def paid_by_student(family, year):
    """[(student name, amount)] paid in calendar `year`: each part of a
    payment shared between the invoice's students as its lines are, to the
    cent, the rounding remainder going to the last share. A reversed payment
    was not paid and counts for nothing."""
    allocations = (
        Allocation.objects.filter(
            payment__family=family,
            payment__date__year=year,
            payment__reversal__isnull=True,
            invoice__kind=Invoice.Kind.INVOICE,
        )
        .select_related("invoice")
        .prefetch_related("invoice__lines__student")
    )
    totals = defaultdict(Decimal)
    for allocation in allocations:
        shares = defaultdict(Decimal)
        for line in allocation.invoice.lines.all():
            shares[str(line.student) if line.student else ""] += line.amount
        invoice_total = sum(shares.values()) or Decimal(1)
        names = sorted(shares)
        given = Decimal(0)
        for index, name in enumerate(names):
            if index == len(names) - 1:
                part = allocation.amount - given
            else:
                part = money(allocation.amount * shares[name] / invoice_total)
            given += part
            totals[name] += part
    return sorted(totals.items())


def attestation_pdf(family, year):
    rows = paid_by_student(family, year)
    payments = list(
        Payment.objects.filter(family=family, date__year=year, reversal__isnull=True).order_by(
            "date"
        )
    )
    allocated = sum((amount for _name, amount in rows), Decimal(0))
    unallocated = money(sum((p.amount for p in payments), Decimal(0)) - allocated)
    return render_pdf(
        "billing/pdf/attestation.html",
        {
            "family": family,
            "site": family.site,
            "year": year,
            "rows": rows,
            "payments": payments,
            "total": money(sum((p.amount for p in payments), Decimal(0))),
            "unallocated": unallocated,
            "logo_uri": logo_uri(family.site),
        },
    )


def deposit_pdf_bytes(deposit):
    """The slip handed to the bank with the cheques: reprinted the same at
    any time (a cheque rejected later stays listed, as it was deposited)."""
    cheques, total = cheques_of(deposit)
    return render_pdf(
        "billing/pdf/deposit.html",
        {
            "deposit": deposit,
            "cheques": cheques,
            "total": total,
            "site": deposit.site,
            "logo_uri": logo_uri(deposit.site),
        },
    )
