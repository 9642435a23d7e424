"""What is to be debited: the one answer to "which instalments go to the bank
for this site up to this date, under which mandate, for how much?", in a
fixed number of queries whatever the number of families."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Exists, OuterRef

from billing.instalments import coverage
from billing.ledger import remaining_of
from billing.models import Instalment, Invoice
from extranet.money import money
from fees.models import InstalmentPlan

from .models import Mandate


@dataclass
class Due:
    """An instalment to debit: `amount` is the part of it not yet paid."""

    instalment: Instalment
    invoice: Invoice
    mandate: Mandate
    amount: Decimal

    @property
    def notified(self):
        """What the family was told matches what would be debited now."""
        return (
            self.instalment.notified_amount is not None
            and money(self.instalment.notified_amount) == self.amount
        )

    def notified_in_time(self, collection_date, prenotice_days):
        """Told this amount at least `prenotice_days` before `collection_date`."""
        notified_on = self.instalment.notified_on
        return (
            self.notified
            and notified_on is not None
            and (collection_date - notified_on).days >= prenotice_days
        )


def debit_plans(site_id):
    """The ids of the site's plans that allow direct debit (their modes are
    a JSON list: read here rather than queried)."""
    return [
        plan.pk
        for plan in InstalmentPlan.objects.filter(site_id=site_id).only("id", "modes")
        if plan.by_direct_debit
    ]


def debit_invoices(site_id):
    """The site's issued invoices under a plan allowing direct debit, whose
    family has an active mandate here, with `paid` and `credited` annotated
    (with what is read of them and their family, no more)."""
    return remaining_of(
        Invoice.objects.issued()
        .filter(
            site_id=site_id,
            kind=Invoice.Kind.INVOICE,
            plan_id__in=debit_plans(site_id),
            family__mandates__site_id=site_id,
            family__mandates__status=Mandate.Status.ACTIVE,
        )
        .select_related("family")
        .only(*INVOICE_FIELDS)
    )


INVOICE_FIELDS = [
    "id",
    "site_id",
    "family_id",
    "kind",
    "status",
    "number",
    "total",
    "plan_id",
    "due_date",
    "family__id",
    "family__site_id",
    "family__name",
    "family__reference_email",
]
# Never read when debiting: left in the database.
MANDATE_DEFERRED = ["code_hash", "code_expires_at", "code_tries", "holder_address", "pdf"]


def schedules(site_id, invoices=None, until=None):
    """[(invoice, mandate, coverage rows)] of the invoices paid by direct
    debit (all of them unless `invoices`, a queryset, narrows them down), in
    four queries. With `until`, only the invoices with an instalment due by
    then and not at the bank, and only their instalments due by then: what
    is paid covers them first, those after do not change what is left of
    them (a schedule's dates follow its order)."""
    queryset = debit_invoices(site_id)
    instalments = Instalment.objects.all()
    if invoices is not None:
        queryset = queryset.filter(pk__in=invoices.values("pk"))
    if until is not None:
        queryset = queryset.filter(
            Exists(
                Instalment.objects.filter(
                    invoice=OuterRef("pk"), due_date__lte=until, debit_pending=False
                )
            )
        )
        instalments = instalments.filter(due_date__lte=until)
    found = list(queryset.order_by("family_id", "pk"))
    if not found:
        return []
    mandates = {
        m.family_id: m
        for m in Mandate.objects.filter(
            site_id=site_id,
            status=Mandate.Status.ACTIVE,
            family_id__in=queryset.values("family_id"),
        ).defer(*MANDATE_DEFERRED)
    }
    by_invoice = defaultdict(list)
    for instalment in instalments.filter(invoice__in=queryset.values("pk")).order_by(
        "invoice_id", "position"
    ):
        by_invoice[instalment.invoice_id].append(instalment)
    result = []
    for invoice in found:
        mandate = mandates.get(invoice.family_id)
        if mandate is None:  # Revoked since the first query.
            continue
        rows = coverage(by_invoice.get(invoice.pk, []), invoice.paid, date.min)
        result.append((invoice, mandate, rows))
    return result


def due_debits(site_id, collection_date, invoices=None):
    """The instalments to present for `collection_date`: fallen due by then,
    of issued invoices whose plan allows direct debit, whose family has an
    active mandate on the site, not already at the bank, for the part of
    them that what is paid on the invoice does not cover (so a rejected
    instalment comes up again). Ordered by family, invoice, instalment."""
    return [
        Due(row.instalment, invoice, mandate, row.left)
        for invoice, mandate, rows in schedules(site_id, invoices, until=collection_date)
        for row in rows
        if row.instalment.due_date <= collection_date
        and not row.instalment.debit_pending
        and row.left > 0
    ]
