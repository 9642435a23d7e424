"""Issuing invoices and recording payments: numbers without gaps, amounts
in Decimal, side effects (PDFs, e-mails) after the commit."""

from datetime import timedelta
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from sequences import get_next_value

from extranet.money import money
from families.addresses import postal_address

from .instalments import build_schedule, reschedule
from .models import (
    Allocation,
    Invoice,
    InvoiceLine,
    IssuedInvoiceError,
    Payment,
    Refund,
    Reversal,
)

ZERO = Value(0, output_field=DecimalField(max_digits=10, decimal_places=2))


def next_number(site_id, prefix, year):
    """`2026FAC0042`: per site, kind and calendar year. The sequence row is
    locked until the transaction ends, and a rollback gives the number back:
    no gap, no duplicate."""
    value = get_next_value(f"{prefix}-{site_id}-{year}")
    return f"{year}{prefix}{value:04d}"


def remaining_of(invoices):
    """Each invoice with `paid`, `credited` and `remaining` annotated. A
    reversed payment (a rejected debit, a bounced cheque) settles nothing."""
    paid = (
        Allocation.objects.filter(invoice=OuterRef("pk"), payment__reversal__isnull=True)
        .values("invoice")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    credited = (
        Invoice.objects.issued()
        .filter(credited_invoice=OuterRef("pk"))
        .values("credited_invoice")
        .annotate(s=Sum("total"))
        .values("s")
    )
    return invoices.annotate(
        paid=Coalesce(Subquery(paid), ZERO), credited=Coalesce(Subquery(credited), ZERO)
    )


def remaining(invoice):
    """What is left to pay on an issued invoice (annotated by remaining_of)."""
    return money(invoice.total - invoice.paid - invoice.credited)


def issue(invoice, today=None, base_url=None):
    """Number, copy the names and addresses, total, freeze; after the commit
    the worker renders the PDF, then e-mails it to the family (links to the
    portal at `base_url`, by default PORTAL_URL)."""
    from .tasks import render_invoice_pdf

    today = today or timezone.localdate()
    base_url = settings.PORTAL_URL if base_url is None else base_url
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("site", "family", "payer")
            .get(pk=invoice.pk)
        )
        if invoice.is_issued:
            raise IssuedInvoiceError()
        lines = list(invoice.lines.all())
        if not lines:
            raise ValidationError(_("An invoice without lines cannot be issued."), code="empty")
        total = money(sum(line.amount for line in lines))
        if invoice.kind == Invoice.Kind.CREDIT_NOTE:
            # Two credit notes issued at once must not both fit in what is left.
            lock(Invoice.objects.filter(pk=invoice.credited_invoice_id))
            credited = remaining_of(Invoice.objects.filter(pk=invoice.credited_invoice_id)).get()
            if total > money(credited.total - credited.credited):
                raise ValidationError(
                    _("A credit note cannot exceed what is left of the invoice it corrects."),
                    code="too_much",
                )
        invoice.number = next_number(invoice.site_id, Invoice.PREFIXES[invoice.kind], today.year)
        invoice.issue_date = today
        invoice.due_date = invoice.due_date or today + timedelta(days=settings.INVOICE_DUE_DAYS)
        invoice.total = total
        invoice.family_name, invoice.family_address = postal_address(invoice.family, invoice.payer)
        invoice.family_name = invoice.family_name or invoice.family.name
        invoice.site_name = invoice.site.name
        invoice.site_address = invoice.site.address
        build_schedule(invoice, today)
        invoice.status = Invoice.Status.ISSUED
        invoice.save()
        if invoice.kind == Invoice.Kind.CREDIT_NOTE:
            credited = Invoice.objects.select_related("plan").get(pk=invoice.credited_invoice_id)
            if credited.plan is not None:
                # The instalments still to come now add up to what is owed.
                reschedule(credited, credited.plan, today)
        transaction.on_commit(partial(render_invoice_pdf.enqueue, invoice.pk, base_url))
    return invoice


def make_credit_note(invoice):
    """A draft credit note on an issued invoice, its lines copied for the
    secretariat to bring down to what is credited. Issuing it checks again
    that it does not exceed what is left of the invoice."""
    with transaction.atomic():
        lock(Invoice.objects.filter(pk=invoice.pk))
        invoice = remaining_of(Invoice.objects.filter(pk=invoice.pk)).get()
        if not invoice.is_issued or invoice.kind != Invoice.Kind.INVOICE:
            raise ValidationError(
                _("Only an issued invoice is corrected by a credit note."), code="not_issued"
            )
        if money(invoice.total - invoice.credited) <= 0:
            raise ValidationError(
                _("%(number)s is already wholly credited.") % {"number": invoice.number},
                code="credited",
            )
        lines = list(invoice.lines.all())
        note = Invoice(
            site_id=invoice.site_id,
            family_id=invoice.family_id,
            payer_id=invoice.payer_id,
            kind=Invoice.Kind.CREDIT_NOTE,
            credited_invoice=invoice,
            school_year_id=invoice.school_year_id,
            label=_("Credit note on %(number)s") % {"number": invoice.number},
            total=money(sum((line.amount for line in lines), Decimal(0))),
        )
        note.full_clean()
        note.save()
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=note,
                label=line.label,
                # Without the line's origin: generation leaves a credit the
                # secretariat chose alone and does not bill it again.
                explanation=line.explanation,
                student_id=line.student_id,
                discipline_id=line.discipline_id,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
                position=line.position,
            )
            for line in lines
        )
    return note


def record_payment(
    family,
    amount,
    mode,
    allocations,
    user=None,
    reference="",
    date=None,
    other_mode=None,
    base_url="",
    drawer="",
    bank="",
):
    """A payment settling `allocations` [(invoice, amount)]; its receipt is
    numbered now, rendered and e-mailed after the commit."""
    from .tasks import send_receipt

    amount = money(amount)
    with transaction.atomic():
        payment = Payment(
            site=family.site,
            family=family,
            amount=amount,
            mode=mode,
            other_mode=other_mode,
            reference=reference,
            drawer=drawer,
            bank=bank,
            recorded_by=user,
            date=date or timezone.localdate(),
        )
        payment.full_clean()
        check_allocations(family, amount, allocations)
        # Numbered in the year it is recorded, even for a cheque dated earlier.
        payment.receipt_number = next_number(family.site_id, "REC", timezone.localdate().year)
        payment.save()
        Allocation.objects.bulk_create(
            Allocation(payment=payment, invoice=invoice, amount=money(part))
            for invoice, part in allocations
        )
        transaction.on_commit(partial(send_receipt.enqueue, payment.pk, base_url))
    return payment


def lock(invoices):
    """Lock the invoices' rows. What is left on them must be read in a later
    query: under PostgreSQL's read committed, only that one sees what a
    transaction that held the lock before has committed. Always in the same
    order, so that two transactions locking overlapping invoices cannot
    deadlock."""
    list(invoices.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))


def check_allocations(family, amount, allocations):
    """Issued invoices of the family, each once, each settled at most for
    what is left, and no more than the payment in all."""
    ids = [invoice.pk for invoice, _part in allocations]
    if len(ids) != len(set(ids)):
        raise ValidationError(_("The same invoice is settled twice."), code="twice")
    lock(Invoice.objects.filter(pk__in=ids))
    current = {i.pk: i for i in remaining_of(Invoice.objects.filter(pk__in=ids))}
    total = 0
    for invoice, part in allocations:
        found = current.get(invoice.pk)
        if (
            found is None
            or found.family_id != family.pk
            or not found.is_issued
            or found.kind != Invoice.Kind.INVOICE
        ):
            raise ValidationError(
                _("Only issued invoices of this family can be settled."), code="foreign"
            )
        if money(part) <= 0:
            raise ValidationError(
                _("Each amount settled must be more than zero."), code="not_positive"
            )
        if money(part) > remaining(found):
            raise ValidationError(
                _("%(number)s has only %(left)s € left to pay.")
                % {"number": found.number, "left": remaining(found)},
                code="too_much",
            )
        total += money(part)
    if total > amount:
        raise ValidationError(
            _("The invoices settled add up to more than the payment."), code="over"
        )


def with_unallocated(payments):
    """Each payment with `used` (allocated to invoices), `refunded` and
    `unallocated` (what is left to the family's credit) annotated."""
    used = (
        Allocation.objects.filter(payment=OuterRef("pk"))
        .values("payment")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    refunded = (
        Refund.objects.filter(payment=OuterRef("pk"))
        .values("payment")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    return payments.annotate(
        used=Coalesce(Subquery(used), ZERO), refunded=Coalesce(Subquery(refunded), ZERO)
    ).annotate(unallocated=F("amount") - F("used") - F("refunded"))


def credit_of(family):
    """What the family's payments left to its credit: paid, but neither
    settling an invoice nor refunded (a reversed payment gives nothing).
    One query."""
    found = (
        with_unallocated(Payment.objects.filter(family=family, reversal__isnull=True))
        .filter(unallocated__gt=0)
        .aggregate(s=Sum("unallocated"))["s"]
    )
    return money(found or 0)


def apply_credit(family):
    """Settle the family's unpaid invoices, oldest due first, with what its
    payments left unallocated (a reversed payment has nothing to give, a
    refunded part is gone). Returns the amount applied."""
    with transaction.atomic():
        lock(
            Invoice.objects.filter(
                family=family, kind=Invoice.Kind.INVOICE, status=Invoice.Status.ISSUED
            )
        )
        list(
            Payment.objects.select_for_update(of=("self",))
            .filter(family=family)
            .values_list("pk", flat=True)
        )
        payments = list(
            with_unallocated(Payment.objects.filter(family=family, reversal__isnull=True))
            .filter(unallocated__gt=0)
            .order_by("date", "pk")
        )
        invoices = [
            i
            for i in remaining_of(
                Invoice.objects.issued().filter(family=family, kind=Invoice.Kind.INVOICE)
            ).order_by("due_date", "number")
            if remaining(i) > 0
        ]
        applied = Decimal(0)
        new = []
        for payment in payments:
            credit = money(payment.unallocated)
            for invoice in invoices:
                left = remaining(invoice) - sum(
                    (a.amount for a in new if a.invoice_id == invoice.pk), Decimal(0)
                )
                part = min(credit, left)
                if part <= 0:
                    continue
                new.append(Allocation(payment=payment, invoice=invoice, amount=part))
                credit -= part
                applied += part
                if credit <= 0:
                    break
        # Merge with an existing allocation of the same pair.
        for allocation in new:
            existing = Allocation.objects.filter(
                payment=allocation.payment, invoice=allocation.invoice
            ).first()
            if existing:
                existing.amount = money(existing.amount + allocation.amount)
                existing.save(update_fields=["amount"])
            else:
                allocation.save()
    return money(applied)


def record_refund(payment, amount, mode, date=None, reference="", user=None):
    """Give back to the family part of what `payment` left to its credit.
    The payment's row is locked (after its invoices', in the order the
    other writers lock them), then what is left is read again: two refunds
    at once cannot give back more than the credit."""
    amount = money(amount)
    with transaction.atomic():
        lock(Invoice.objects.filter(allocations__payment=payment.pk))
        list(Payment.objects.select_for_update(of=("self",)).filter(pk=payment.pk).values("pk"))
        current = with_unallocated(
            Payment.objects.filter(pk=payment.pk).select_related("reversal")
        ).get()
        if Reversal.objects.filter(payment=current).exists():
            raise ValidationError(_("A reversed payment has nothing to refund."), code="reversed")
        if amount <= 0:
            raise ValidationError(_("The amount must be more than zero."), code="not_positive")
        if amount > money(current.unallocated):
            raise ValidationError(
                _("Only %(left)s € of this payment is to the family's credit.")
                % {"left": money(max(current.unallocated, 0))},
                code="too_much",
            )
        refund = Refund(
            payment=current,
            amount=amount,
            mode=mode,
            date=date or timezone.localdate(),
            reference=reference,
            recorded_by=user,
        )
        refund.full_clean(exclude=["payment"])
        if refund.date < current.date:
            raise ValidationError(
                {"date": _("A refund cannot come before the payment it gives back.")},
                code="too_early",
            )
        refund.save()
    return refund


def reverse_payment(payment, date, reason_code, reason, user=None):
    """Take back a payment that did not happen after all (a rejected debit,
    a bounced cheque): the payment stays as recorded, a Reversal says so,
    and what it settled is due again. A payment is reversed once: the
    invoices it settled, then its own row, are locked (in the order the
    other writers lock them), then the reversal is looked for again."""
    with transaction.atomic():
        lock(Invoice.objects.filter(allocations__payment=payment.pk))
        payment = Payment.objects.select_for_update(of=("self",)).get(pk=payment.pk)
        existing = Reversal.objects.filter(payment=payment).first()
        if existing is not None:
            raise ValidationError(
                _("This payment was already reversed on %(date)s.")
                % {"date": date_format(existing.date, "SHORT_DATE_FORMAT")},
                code="reversed",
            )
        if date < payment.date:
            raise ValidationError(
                _("A payment cannot be reversed before the day it was made (%(date)s).")
                % {"date": date_format(payment.date, "SHORT_DATE_FORMAT")},
                code="too_early",
            )
        reversal = Reversal(
            payment=payment,
            date=date,
            reason_code=reason_code or "",
            reason=str(reason)[:200],
            recorded_by=user,
        )
        reversal.full_clean(exclude=["payment"])
        reversal.save()
    return reversal
