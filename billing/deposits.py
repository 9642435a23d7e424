"""Cheque deposit slips (bordereaux de remise de chèques): the cheques
recorded and not yet handed to the bank, gathered on a numbered slip. A
cheque goes on one slip only, even when two secretaries make slips at once."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from extranet.money import money

from .ledger import next_number
from .models import ChequeDeposit, Payment


def with_totals(deposits):
    """Each slip with `count` and `total` of its cheques annotated (in
    subqueries: the list's own counting and dates stay plain)."""
    cheques = Payment.objects.filter(deposit=OuterRef("pk")).values("deposit")
    money_field = DecimalField(max_digits=12, decimal_places=2)
    return deposits.annotate(
        count=Coalesce(Subquery(cheques.annotate(n=Count("pk")).values("n")), 0),
        total=Coalesce(
            Subquery(cheques.annotate(s=Sum("amount")).values("s"), output_field=money_field),
            Value(Decimal(0), output_field=money_field),
        ),
    )


def undeposited(payments):
    """The cheques among `payments` that may go on a new slip."""
    return payments.filter(mode=Payment.Mode.CHEQUE, deposit__isnull=True, reversal__isnull=True)


def refusal(payment, site_id):
    """Why `payment` cannot go on a new slip of `site_id`, or None. Reads the
    payment's deposit (with its number) and reversal."""
    name = payment.receipt_number or str(payment)
    if payment.site_id != site_id:
        return _("%(payment)s belongs to another site.") % {"payment": name}
    if payment.mode != Payment.Mode.CHEQUE:
        return _("%(payment)s is not a cheque (%(mode)s).") % {
            "payment": name,
            "mode": payment.mode_label,
        }
    if payment.deposit_id is not None:
        return _("%(payment)s is already on the deposit slip %(number)s.") % {
            "payment": name,
            "number": payment.deposit.number,
        }
    if hasattr(payment, "reversal"):
        return _("%(payment)s was rejected on %(date)s: it is not deposited.") % {
            "payment": name,
            "date": date_format(payment.reversal.date, "SHORT_DATE_FORMAT"),
        }
    return None


def refusals(payments, site_id):
    """Why each of `payments` (a queryset) cannot go on a slip of `site_id`."""
    found = payments.select_related("deposit", "reversal", "other_mode").order_by("pk")
    return [reason for payment in found if (reason := refusal(payment, site_id))]


def make_deposit(site, payment_ids, bank, account="", date=None, user=None):
    """A slip of `site` for the cheques `payment_ids`, all of them or none.
    Their rows are locked in the order of their keys (as the ledger's other
    writers do), then read again: a cheque that another slip took meanwhile
    is refused, with the number of that slip."""
    payment_ids = sorted(set(payment_ids))
    if not payment_ids:
        raise ValidationError(_("Select at least one cheque."), code="empty")
    with transaction.atomic():
        locked = list(
            Payment.objects.select_for_update(of=("self",))
            .filter(pk__in=payment_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if len(locked) != len(payment_ids):
            raise ValidationError(_("A selected payment no longer exists."), code="missing")
        problems = refusals(Payment.objects.filter(pk__in=payment_ids), site.pk)
        if problems:
            raise ValidationError([ValidationError(p, code="refused") for p in problems])
        deposit = ChequeDeposit(
            site=site,
            bank=bank,
            account=account,
            date=date or timezone.localdate(),
            created_by=user,
        )
        deposit.full_clean(exclude=["number"])
        latest = max(Payment.objects.filter(pk__in=payment_ids).values_list("date", flat=True))
        if deposit.date < latest:
            raise ValidationError(
                {
                    "date": _("A cheque cannot be deposited before it was received (%(date)s).")
                    % {"date": date_format(latest, "SHORT_DATE_FORMAT")}
                },
                code="too_early",
            )
        # Numbered in the year it is made, as receipts are.
        deposit.number = next_number(site.pk, "REM", timezone.localdate().year)
        deposit.save()
        # Only rows still free: the lock above makes this the last word.
        updated = Payment.objects.filter(pk__in=payment_ids, deposit__isnull=True).update(
            deposit=deposit
        )
        if updated != len(payment_ids):  # Not reached while the lock holds.
            raise ValidationError(_("A cheque is already on another slip."), code="taken")
    return deposit


def cheques_of(deposit):
    """The slip's cheques in the order they are listed, with their family
    and reversal; and their total."""
    cheques = list(
        deposit.cheques.select_related("family", "reversal").order_by("date", "receipt_number")
    )
    return cheques, money(sum((c.amount for c in cheques), Decimal(0)))
