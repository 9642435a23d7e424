"""Remises de prélèvements: preparing the bank file for a collection date,
then, once that date has come, recording what was collected as payments.

A batch is prepared in two steps so that no file is written to storage (maybe
a network service) while the database is locked: the file is written from
what is due, then, in one transaction that locks the invoices, mandates and
instalments concerned, all that what is due depends on is read again (a
snapshot); if it is the same the batch and its debits are recorded,
otherwise the file is deleted and the preparation starts again."""

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.tasks import task
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from billing import ledger
from billing.models import Instalment, Invoice, Payment
from extranet.money import money
from fees.models import InstalmentPlan

from . import pain008
from .debits import due_debits
from .models import Batch, Creditor, Debit, Mandate


class BatchRefused(ValidationError):
    pass


@dataclass
class Line:
    """A debit to write: what is due and how it is presented."""

    due: object  # debits.Due
    transaction: pain008.Transaction


@dataclass
class Preparation:
    """What a collection date would take, and what waits for a later one."""

    creditor: Creditor
    collection_date: object
    lines: list = field(default_factory=list)
    postponed: list = field(default_factory=list)  # Dues not notified in time.

    @property
    def count(self):
        return len(self.lines)

    @property
    def total(self):
        return money(sum((line.transaction.amount for line in self.lines), Decimal(0)))

    @property
    def postponed_total(self):
        return money(sum((due.amount for due in self.postponed), Decimal(0)))


def day(value):
    return date_format(value, "j F Y")


def check(site_id, collection_date, today=None):
    """The site's creditor, unless a batch cannot be prepared for that date."""
    today = today or timezone.localdate()
    creditor = Creditor.objects.filter(site_id=site_id).select_related("site").first()
    if creditor is None:
        raise BatchRefused(
            _(
                "This site is not set up as a SEPA creditor: enter its creditor identifier "
                "(ICS) and account first."
            ),
            code="no_creditor",
        )
    if collection_date <= today:
        raise BatchRefused(
            _("The collection date must be after today: the bank needs the file beforehand."),
            code="past",
        )
    if Batch.objects.filter(site_id=site_id, collection_date=collection_date).exists():
        raise BatchRefused(
            _("A batch already exists for %(date)s: download it again.")
            % {"date": day(collection_date)},
            code="exists",
        )
    return creditor


def bank_of(iban, bic):
    """The bank an account is at: its country and bank code, else the BIC's
    first eight characters."""
    try:
        parsed = IBAN(iban)
        if parsed.bank_code:
            return (parsed.country_code, parsed.bank_code)
    except SchwiftyException:
        pass
    return (bic or "")[:8]


def end_to_end_id(site_id, collection_date, instalment_id):
    """Unique, at most 35 characters: one debit of an instalment per date."""
    return f"EXT{site_id:04d}{collection_date:%Y%m%d}{instalment_id:010d}"


def survey(site_id, collection_date, creditor=None):
    """What `collection_date` would take (each with its sequence type and
    amendment) and what is postponed, without changing anything."""
    creditor = creditor or Creditor.objects.get(site_id=site_id)
    preparation = Preparation(creditor, collection_date)
    taken = []
    for due in due_debits(site_id, collection_date):
        if due.notified_in_time(collection_date, creditor.prenotice_days):
            taken.append(due)
        else:
            preparation.postponed.append(due)
    mandates = {due.mandate.pk: due.mandate for due in taken}
    # FRST until a debit is at the bank or collected; a rejected FRST is
    # followed by another FRST.
    used = set(
        Debit.objects.filter(
            mandate_id__in=mandates,
            status__in=[Debit.Status.SUBMITTED, Debit.Status.COLLECTED],
        ).values_list("mandate_id", flat=True)
    )
    with translation.override(settings.LANGUAGE_CODE):
        for due in taken:
            mandate = due.mandate
            amendment = {}
            if mandate.original_iban:
                amendment = {
                    "original_iban": mandate.original_iban,
                    "original_bic": mandate.original_bic,
                    "new_bank": bank_of(mandate.original_iban, mandate.original_bic)
                    != bank_of(mandate.iban, mandate.bic),
                }
            first = mandate.pk not in used or amendment.get("new_bank", False)
            signed = mandate.signed_at or mandate.created_at
            preparation.lines.append(
                Line(
                    due,
                    pain008.Transaction(
                        end_to_end_id=end_to_end_id(site_id, collection_date, due.instalment.pk),
                        amount=due.amount,
                        sequence=Debit.Sequence.FIRST if first else Debit.Sequence.RECURRENT,
                        rum=mandate.rum,
                        signed_on=timezone.localdate(signed),
                        name=mandate.holder_name,
                        iban=mandate.iban,
                        bic=mandate.bic,
                        description=_("Invoice %(number)s, instalment %(position)d")
                        % {"number": due.invoice.number, "position": due.instalment.position},
                        amendment=amendment,
                    ),
                )
            )
    return preparation


class _Changed(Exception):
    """What is due changed between writing the file and recording it."""


def snapshot(site_id, collection_date):
    """A compact reading of all a survey of the date depends on: the
    instalments due by then, what is paid on their invoices, the active
    mandates, which mandates have a debit at the bank or collected, the
    plans and the notice period. Equal twice: the survey would be too."""
    instalments = Instalment.objects.filter(
        invoice__site_id=site_id,
        invoice__status=Invoice.Status.ISSUED,
        due_date__lte=collection_date,
    )
    invoices = Invoice.objects.issued().filter(pk__in=instalments.values("invoice_id"))
    return (
        list(
            instalments.order_by("pk").values_list(
                "pk",
                "invoice_id",
                "position",
                "amount",
                "debit_pending",
                "notified_amount",
                "notified_on",
            )
        ),
        list(
            ledger.remaining_of(invoices)
            .order_by("pk")
            .values_list("pk", "kind", "family_id", "plan_id", "number", "paid")
        ),
        list(
            Mandate.objects.filter(site_id=site_id, status=Mandate.Status.ACTIVE)
            .order_by("pk")
            .values_list(
                "pk",
                "family_id",
                "rum",
                "iban",
                "bic",
                "original_iban",
                "original_bic",
                "holder_name",
                "signed_at",
            )
        ),
        list(
            Debit.objects.filter(
                batch__site_id=site_id,
                status__in=[Debit.Status.SUBMITTED, Debit.Status.COLLECTED],
            )
            .order_by("mandate_id")
            .values_list("mandate_id", flat=True)
            .distinct()
        ),
        list(
            InstalmentPlan.objects.filter(site_id=site_id).order_by("pk").values_list("pk", "modes")
        ),
        list(Creditor.objects.filter(site_id=site_id).values_list("prenotice_days")),
    )


def prepare(site, collection_date, user=None, today=None, attempts=3):
    """The batch of `collection_date` for `site`: its pain.008 file stored,
    a Debit per instalment taken, the instalments at the bank, amendments
    reported. Returns (batch, preparation); refuses (BatchRefused, in
    French) when the date is taken or past, the site is no creditor, or
    nothing is due."""
    for _attempt in range(attempts):
        creditor = check(site.pk, collection_date, today)
        before = snapshot(site.pk, collection_date)
        preparation = survey(site.pk, collection_date, creditor)
        if not preparation.lines:
            message = _("Nothing is to be debited on %(date)s.") % {"date": day(collection_date)}
            if preparation.postponed:
                message += " " + _(
                    "%(count)d instalment(s) wait for a later date: the family was not told "
                    "the amount in time."
                ) % {"count": len(preparation.postponed)}
            raise BatchRefused(message, code="nothing_due")
        message_id = f"EXT{site.pk:04d}-{collection_date:%Y%m%d}-{uuid.uuid4().hex[:12]}"
        content = pain008.write(
            creditor, message_id, collection_date, [line.transaction for line in preparation.lines]
        )
        batch = Batch(
            site=site,
            collection_date=collection_date,
            message_id=message_id,
            count=preparation.count,
            total=preparation.total,
            created_by=user,
        )
        # Written before the transaction, deleted again if it fails.
        batch.file.save(f"prelevements-{collection_date:%Y%m%d}.xml", ContentFile(content), False)
        try:
            _record(batch, preparation, before)
        except _Changed:
            batch.file.delete(save=False)
            continue
        except IntegrityError:
            batch.file.delete(save=False)
            # Another batch for the same date committed meanwhile.
            check(site.pk, collection_date, today)
            raise
        except BaseException:
            batch.file.delete(save=False)
            raise
        return batch, preparation
    raise BatchRefused(
        _("What is due kept changing while the batch was prepared: try again."), code="changed"
    )


def _record(batch, preparation, before):
    with transaction.atomic():
        # One preparation at a time per site.
        Creditor.objects.select_for_update().filter(pk=preparation.creditor.pk).first()
        if Batch.objects.filter(
            site_id=batch.site_id, collection_date=batch.collection_date
        ).exists():
            raise _Changed
        lines = preparation.lines
        ledger.lock(Invoice.objects.filter(pk__in={line.due.invoice.pk for line in lines}))
        list(
            Mandate.objects.select_for_update()
            .filter(pk__in={line.due.mandate.pk for line in lines})
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        list(
            Instalment.objects.select_for_update()
            .filter(pk__in=[line.due.instalment.pk for line in lines])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        # Read again once locked: only now is what others committed seen.
        if snapshot(batch.site_id, batch.collection_date) != before:
            raise _Changed
        batch.save()
        Debit.objects.bulk_create(
            (
                Debit(
                    batch=batch,
                    mandate=line.due.mandate,
                    instalment=line.due.instalment,
                    amount=line.transaction.amount,
                    end_to_end_id=line.transaction.end_to_end_id,
                    sequence=line.transaction.sequence,
                    amendment=line.transaction.amendment,
                )
                for line in lines
            ),
            batch_size=1000,
        )
        Instalment.objects.filter(pk__in=[line.due.instalment.pk for line in lines]).update(
            debit_pending=True
        )
        amended = {line.due.mandate.pk for line in lines if line.transaction.amendment}
        if amended:
            # Reported to the bank: the next file presents the mandate as it is.
            Mandate.objects.filter(pk__in=amended).update(original_iban="", original_bic="")


# Collection.


@dataclass
class Collected:
    batches: int = 0
    debits: int = 0
    total: Decimal = Decimal(0)


def collect(today=None):
    """Record as payments the debits of the batches whose collection date has
    come: each submitted debit once, whatever happened to its mandate since
    (the bank has it). Run it again: nothing is recorded twice."""
    today = today or timezone.localdate()
    summary = Collected()
    batches = Batch.objects.filter(collection_date__lte=today, collected_at__isnull=True)
    for batch in batches.order_by("collection_date", "pk"):
        pending = batch.debits.filter(status=Debit.Status.SUBMITTED, payment__isnull=True)
        for debit_id in pending.values_list("pk", flat=True):
            debit = collect_debit(debit_id)
            if debit is not None:
                summary.debits += 1
                summary.total = money(summary.total + debit.amount)
        with transaction.atomic():
            if not pending.exists():
                summary.batches += Batch.objects.filter(
                    pk=batch.pk, collected_at__isnull=True
                ).update(collected_at=timezone.now())
    return summary


def collect_debit(debit_id):
    """One debit as a payment of its instalment's invoice (for what is left
    of it; anything more stays on the family's account), in its own
    transaction; None if it was collected or rejected meanwhile."""
    with transaction.atomic():
        debit = (
            Debit.objects.select_for_update(of=("self",))
            .select_related("batch", "instalment__invoice__family__site")
            .filter(pk=debit_id, status=Debit.Status.SUBMITTED, payment__isnull=True)
            .first()
        )
        if debit is None:
            return None
        invoice = debit.instalment.invoice
        ledger.lock(Invoice.objects.filter(pk=invoice.pk))
        left = ledger.remaining(ledger.remaining_of(Invoice.objects.filter(pk=invoice.pk)).get())
        part = min(debit.amount, left)
        on = debit.batch.collection_date
        debit.payment = ledger.record_payment(
            invoice.family,
            debit.amount,
            Payment.Mode.DIRECT_DEBIT,
            [(invoice, part)] if part > 0 else [],
            reference=debit.end_to_end_id,
            date=on,
            base_url=settings.PORTAL_URL,
        )
        debit.status = Debit.Status.COLLECTED
        debit.save(update_fields=["status", "payment"])
        Instalment.objects.filter(pk=debit.instalment_id).update(debit_pending=False)
        Mandate.objects.filter(pk=debit.mandate_id).filter(
            Q(last_debit_on__isnull=True) | Q(last_debit_on__lt=on)
        ).update(last_debit_on=on)
    return debit


@task()
def collect_debits():
    """The daily run, for the task queue (or `manage.py collect_debits`)."""
    summary = collect()
    return {"batches": summary.batches, "debits": summary.debits, "total": str(summary.total)}
