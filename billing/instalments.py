"""Échéanciers: an issued invoice's due dates under the family's instalment
plan. Amounts in Decimal, the odd cents on the first instalment; what is
paid covers the instalments in order."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from extranet.money import money
from fees.models import InstalmentPlan, PlanChoice

from .models import Instalment, Invoice

CENT = Decimal("0.01")


def plan_dates(plan, school_year):
    return plan.dates(school_year)


def split(total, count, minimum=Decimal(0)):
    """`total` in `count` instalments (fewer if one would fall below
    `minimum`), equal to the cent, the odd cents on the first."""
    total = money(total)
    if minimum and minimum > 0:
        count = max(1, min(count, int(total / minimum)))
    count = max(1, count)
    base = (total / count).quantize(CENT, rounding=ROUND_DOWN)
    first = total - base * (count - 1)
    return [first] + [base] * (count - 1)


def plan_for(family_id, school_year_id, site_id):
    """The plan the family chose for the year, else the site's default one."""
    if school_year_id is not None:
        choice = (
            PlanChoice.objects.filter(family_id=family_id, school_year_id=school_year_id)
            .select_related("plan")
            .first()
        )
        if choice is not None:
            return choice.plan
    return InstalmentPlan.objects.filter(site_id=site_id, is_default=True, is_active=True).first()


def _amounts_and_dates(amount, plan, school_year, today, fallback):
    dates = [d for d in plan_dates(plan, school_year) if d >= today] if school_year else []
    if not dates:
        return [(fallback, money(amount))]
    amounts = split(amount, len(dates), plan.min_amount)
    return list(zip(dates, amounts, strict=False))


def build_schedule(invoice, today):
    """At issue (within its transaction): the invoice's instalments under its
    family's plan for the year; its due date becomes the first of them."""
    plan = plan_for(invoice.family_id, invoice.school_year_id, invoice.site_id)
    if plan is None or invoice.kind != Invoice.Kind.INVOICE or invoice.total <= 0:
        return []
    rows = _amounts_and_dates(invoice.total, plan, invoice.school_year, today, invoice.due_date)
    instalments = Instalment.objects.bulk_create(
        Instalment(invoice=invoice, position=i, due_date=d, amount=a)
        for i, (d, a) in enumerate(rows, start=1)
    )
    invoice.plan = plan
    invoice.due_date = rows[0][0]
    return instalments


def reschedule(invoice, plan, today, owed=None):
    """Rewrite the instalments not yet due (and not at the bank) under
    `plan`, for what is left once those kept are counted. `owed`: what the
    invoice comes to now (its total less credit notes)."""
    from .ledger import remaining_of

    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)
        if owed is None:
            found = remaining_of(Invoice.objects.filter(pk=invoice.pk)).get()
            owed = money(found.total - found.credited)
        existing = list(invoice.instalments.all())
        kept = [i for i in existing if i.due_date <= today or i.debit_pending]
        rest = money(owed - sum((i.amount for i in kept), Decimal(0)))
        Instalment.objects.filter(pk__in=[i.pk for i in existing if i not in kept]).delete()
        if rest > 0:
            fallback = max(invoice.due_date or today, today + timedelta(days=1))
            rows = _amounts_and_dates(rest, plan, invoice.school_year, today, fallback)
            start = max((i.position for i in kept), default=0) + 1
            Instalment.objects.bulk_create(
                Instalment(invoice=invoice, position=start + k, due_date=d, amount=a)
                for k, (d, a) in enumerate(rows)
            )
        # Only the plan is a change of the issued invoice's record.
        Invoice._base_manager.filter(pk=invoice.pk).update(plan=plan)


TOO_LATE = gettext_lazy(
    "Your first instalment has already fallen due: to change the plan now, ask the secretariat."
)


class PlanRefused(ValidationError):
    pass


def choose_plan(family, school_year, plan, user=None, today=None, secretariat=False):
    """The family's plan for a school year; the year's issued invoices are
    rescheduled from today. A family chooses before its first instalment is
    due; after that only the secretariat changes it."""
    today = today or timezone.localdate()
    if plan.site_id != family.site_id or school_year.site_id != family.site_id:
        raise PlanRefused(_("This plan is not offered here."), code="foreign")
    if not plan.is_active and not secretariat:
        raise PlanRefused(_("This plan is no longer offered."), code="inactive")
    invoices = list(
        Invoice.objects.issued().filter(
            family=family, school_year=school_year, kind=Invoice.Kind.INVOICE
        )
    )
    if (
        not secretariat
        and Instalment.objects.filter(invoice__in=invoices, due_date__lte=today).exists()
    ):
        raise PlanRefused(TOO_LATE, code="too_late")
    with transaction.atomic():
        PlanChoice.objects.update_or_create(
            family=family,
            school_year=school_year,
            defaults={"plan": plan, "chosen_by": user},
        )
        for invoice in invoices:
            reschedule(invoice, plan, today)


@dataclass
class Row:
    instalment: Instalment
    paid: Decimal
    status: str

    @property
    def left(self):
        return money(self.instalment.amount - self.paid)


PAID, AT_BANK, OVERDUE, COMING, PART_PAID = "paid", "at_bank", "overdue", "coming", "part_paid"
STATUS_LABELS = {
    PAID: gettext_lazy("paid"),
    AT_BANK: gettext_lazy("sent to the bank"),
    OVERDUE: gettext_lazy("overdue"),
    COMING: gettext_lazy("to come"),
    PART_PAID: gettext_lazy("partly paid"),
}


def coverage(instalments, paid, today):
    """Each instalment with what `paid` covers of it, in order, and its status."""
    left = money(paid)
    rows = []
    for instalment in instalments:
        part = min(left, instalment.amount) if left > 0 else Decimal(0)
        left -= part
        if part >= instalment.amount:
            status = PAID
        elif instalment.debit_pending:
            status = AT_BANK
        elif instalment.due_date < today:
            status = OVERDUE
        elif part > 0:
            status = PART_PAID
        else:
            status = COMING
        rows.append(Row(instalment, money(part), status))
    return rows


def schedules(invoices, today):
    """[(invoice, rows)] for those of `invoices` (annotated by
    `remaining_of`) that have a schedule, in one query."""
    by_invoice = {}
    for instalment in Instalment.objects.filter(invoice__in=[i.pk for i in invoices]).order_by(
        "invoice", "position"
    ):
        by_invoice.setdefault(instalment.invoice_id, []).append(instalment)
    return [
        (invoice, coverage(by_invoice[invoice.pk], invoice.paid, today))
        for invoice in invoices
        if invoice.pk in by_invoice
    ]
