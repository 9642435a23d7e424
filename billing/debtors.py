"""What is overdue, invoice by invoice and family by family: the one answer
that the reminders, the debtors list and its export to the Trésor public
all ask. A whole site in a fixed number of queries."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Prefetch, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from extranet.models import User
from extranet.money import money

from .instalments import OVERDUE, coverage
from .ledger import postal_address, remaining, remaining_of
from .models import Instalment, Invoice, Reminder

ZERO = Decimal("0.00")

# Ages of what is overdue, in days since each uncovered part fell due.
BUCKETS = [
    (1, 30, gettext_lazy("0–30 days")),
    (31, 60, gettext_lazy("31–60 days")),
    (61, 90, gettext_lazy("61–90 days")),
    (91, None, gettext_lazy("over 90 days")),
]


def bucket_of(age):
    """The index in BUCKETS of a part `age` days overdue (at least 1)."""
    for index, (_low, high, _label) in enumerate(BUCKETS):
        if high is None or age <= high:
            return index
    return len(BUCKETS) - 1


@dataclass
class Part:
    """A part of an invoice that fell due and is not covered."""

    due_date: date
    amount: Decimal


@dataclass
class Overdue:
    """An issued invoice with something overdue at `today`."""

    invoice: Invoice
    amount: Decimal
    since: date
    parts: list[Part]
    today: date
    # An instalment's debit is at the bank: no reminder until it comes back.
    at_bank: bool = False

    @property
    def days(self):
        return (self.today - self.since).days

    def by_age(self):
        amounts = [ZERO] * len(BUCKETS)
        for part in self.parts:
            amounts[bucket_of((self.today - part.due_date).days)] += part.amount
        return [money(a) for a in amounts]


def overdue_parts(invoice, instalments, today):
    """The uncovered parts of `invoice` (annotated by remaining_of) due before
    `today`, oldest first, and whether a debit is at the bank.

    With a schedule, what is paid covers the instalments in order; a credit
    note the schedule does not already account for (instalments adding up to
    more than what is owed) covers them too. Without a schedule the whole
    invoice falls due on its due date. Never more than what is left."""
    left = remaining(invoice)
    if left <= 0:
        return [], False
    if instalments:
        owed = money(invoice.total - invoice.credited)
        scheduled = sum((i.amount for i in instalments), Decimal(0))
        covered = invoice.paid + max(scheduled - owed, Decimal(0))
        rows = coverage(instalments, covered, today)
        parts = [Part(row.instalment.due_date, row.left) for row in rows if row.status == OVERDUE]
        at_bank = any(i.debit_pending for i in instalments)
    else:
        due = invoice.due_date is not None and invoice.due_date < today
        parts = [Part(invoice.due_date, left)] if due else []
        at_bank = False
    # Never more than what is left: the newest parts give way first.
    excess = sum((p.amount for p in parts), Decimal(0)) - left
    while excess > 0 and parts:
        last = parts[-1]
        if last.amount <= excess:
            excess -= last.amount
            parts.pop()
        else:
            last.amount = money(last.amount - excess)
            excess = 0
    return [p for p in parts if p.amount > 0], at_bank


def _overdue_candidates(site_id, today, family_ids=None):
    """The issued invoices that may have something overdue at `today`, annotated
    by remaining_of: something left, and a due date or an instalment past."""
    past_instalment = Instalment.objects.filter(invoice=OuterRef("pk"), due_date__lt=today)
    invoices = (
        Invoice.objects.issued()
        .filter(kind=Invoice.Kind.INVOICE)
        .filter(Q(due_date__lt=today) | Q(Exists(past_instalment)))
    )
    if site_id is not None:
        invoices = invoices.filter(site_id=site_id)
    if family_ids is not None:
        invoices = invoices.filter(family_id__in=family_ids)
    return (
        remaining_of(invoices)
        .alias(left=F("total") - F("paid") - F("credited"))
        .filter(left__gt=0)
        .order_by("due_date", "number")
    )


def overdue_invoices(site_id, today, family_ids=None, for_list=False):
    """Every issued invoice of the site (of every site when `site_id` is
    None: a network administrator's view) with something overdue at
    `today`, as Overdue, oldest first. Two queries (more with `for_list`:
    the families' responsables, accounts and the reminders, for the debtors
    list), whatever the number of families."""
    invoices = (
        _overdue_candidates(site_id, today, family_ids)
        .select_related("family")
        .prefetch_related(Prefetch("instalments", Instalment.objects.order_by("position")))
    )
    if for_list:
        invoices = invoices.select_related("payer").prefetch_related(
            "family__guardians",
            Prefetch(
                "family__accounts",
                User.objects.exclude(email="").order_by("pk"),
                to_attr="mailed_accounts",
            ),
            Prefetch("reminders", Reminder.objects.order_by("-created_on", "-pk")),
        )
    found = []
    for invoice in invoices:
        parts, at_bank = overdue_parts(invoice, list(invoice.instalments.all()), today)
        if parts:
            found.append(
                Overdue(
                    invoice=invoice,
                    amount=money(sum((p.amount for p in parts), Decimal(0))),
                    since=parts[0].due_date,
                    parts=parts,
                    today=today,
                    at_bank=at_bank,
                )
            )
    return found


@dataclass
class _Figures:
    """What overdue_parts reads of an invoice or an instalment, without the model."""

    pk: int = None
    total: Decimal = ZERO
    paid: Decimal = ZERO
    credited: Decimal = ZERO
    due_date: date = None
    amount: Decimal = ZERO
    debit_pending: bool = False


def overdue_amounts(site_id, today):
    """{invoice pk: amount overdue} of exactly the invoices overdue_invoices
    gives, by the same rule, for the figures that only count and add them up
    (the day's figures, the invoices' "overdue" filter): read as plain values,
    not models. Two queries."""
    invoices = [
        _Figures(pk=pk, total=total, paid=paid, credited=credited, due_date=due_date)
        for pk, total, paid, credited, due_date in _overdue_candidates(site_id, today).values_list(
            "pk", "total", "paid", "credited", "due_date"
        )
    ]
    schedules = {}
    rows = (
        Instalment.objects.filter(invoice__in=[invoice.pk for invoice in invoices])
        .order_by("invoice", "position")
        .values_list("invoice", "due_date", "amount", "debit_pending")
    )
    for invoice_id, due_date, amount, debit_pending in rows:
        schedules.setdefault(invoice_id, []).append(
            _Figures(due_date=due_date, amount=amount, debit_pending=debit_pending)
        )
    found = {}
    for invoice in invoices:
        parts, _at_bank = overdue_parts(invoice, schedules.get(invoice.pk, []), today)
        if parts:
            found[invoice.pk] = money(sum((p.amount for p in parts), Decimal(0)))
    return found


def email_of(family):
    """family.contact_email(), from what overdue_invoices(for_list=True) fetched."""
    if family.reference_email:
        return family.reference_email
    accounts = getattr(family, "mailed_accounts", None)
    if accounts is None:
        return family.contact_email()
    return accounts[0].email if accounts else ""


@dataclass
class Debtor:
    family: object
    invoices: list[Overdue] = field(default_factory=list)

    @property
    def by_age(self):
        amounts = [ZERO] * len(BUCKETS)
        for item in self.invoices:
            for index, amount in enumerate(item.by_age()):
                amounts[index] += amount
        return [money(a) for a in amounts]

    @property
    def total(self):
        return money(sum((i.amount for i in self.invoices), Decimal(0)))

    @property
    def since(self):
        return min(i.since for i in self.invoices)

    @property
    def email(self):
        return email_of(self.family)

    @property
    def last_reminder(self):
        reminders = [r for i in self.invoices for r in i.invoice.reminders.all()]
        return max(reminders, key=lambda r: (r.created_on, r.pk), default=None)

    @property
    def last_reminder_text(self):
        from .reminders import describe

        last = self.last_reminder
        return describe(last) if last else ""


def debtors(site_id, today):
    """One Debtor per family with something overdue, the largest total first."""
    by_family = {}
    for item in overdue_invoices(site_id, today, for_list=True):
        family = item.invoice.family
        by_family.setdefault(family.pk, Debtor(family)).invoices.append(item)
    return sorted(by_family.values(), key=lambda d: (-d.total, d.family.name, d.family.pk))


def totals(rows):
    """The column totals of the debtors list: by age, then in all."""
    by_age = [ZERO] * len(BUCKETS)
    for row in rows:
        for index, amount in enumerate(row.by_age):
            by_age[index] += amount
    return [money(a) for a in by_age], money(sum((r.total for r in rows), Decimal(0)))


def export_headers():
    return [
        _("Family"),
        _("Debtor"),
        _("Postal address"),
        _("E-mail"),
        _("Invoice"),
        _("Label"),
        _("Issue date"),
        _("Overdue since"),
        _("Invoice total"),
        _("Amount overdue"),
        *[str(label) for _low, _high, label in BUCKETS],
        _("Last reminder"),
    ]


def export_rows(rows):
    """One line per overdue invoice: what the Trésor public needs to recover it."""
    from django.utils.formats import date_format

    from .reminders import describe

    for row in rows:
        for item in row.invoices:
            invoice = item.invoice
            name, address = postal_address(row.family, invoice.payer)
            reminders = list(invoice.reminders.all())
            last = reminders[0] if reminders else None
            yield [
                row.family.name,
                name or invoice.family_name,
                ", ".join(line for line in address.splitlines()[1:] if line),
                row.email,
                invoice.number,
                invoice.label,
                date_format(invoice.issue_date, "SHORT_DATE_FORMAT"),
                date_format(item.since, "SHORT_DATE_FORMAT"),
                invoice.total,
                item.amount,
                *item.by_age(),
                describe(last) if last else "",
            ]
