"""A debit the bank did not pay after all (an R-transaction: reject before
settlement, return or refund after it): its payment is reversed, the
instalment is due again, the site's fee is billed and the family is told."""

from decimal import Decimal
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing import ledger
from billing.models import Instalment, Invoice, InvoiceLine
from extranet.mail import build_message, deliver
from extranet.money import money
from families.emails import family_address

from .models import Creditor, Debit, Mandate

# The usual SEPA R-transaction reason codes (EPC guidance on reason codes
# for SDD R-transactions), in plain words for the family and the secretariat.
REASONS = {
    "AC01": gettext_lazy("Incorrect account number (IBAN)"),
    "AC04": gettext_lazy("Account closed"),
    "AC06": gettext_lazy("Account blocked"),
    "AC13": gettext_lazy("The debtor's account is not a consumer account"),
    "AG01": gettext_lazy("Transaction forbidden on this account"),
    "AG02": gettext_lazy("Invalid operation code"),
    "AM04": gettext_lazy("Insufficient funds"),
    "AM05": gettext_lazy("Duplicate debit"),
    "BE05": gettext_lazy("Creditor not recognised by the bank"),
    "CNOR": gettext_lazy("The creditor's bank cannot be reached"),
    "DNOR": gettext_lazy("The debtor's bank cannot be reached"),
    "FF01": gettext_lazy("Invalid file format"),
    "MD01": gettext_lazy("No mandate"),
    "MD02": gettext_lazy("Missing or incorrect mandate data"),
    "MD06": gettext_lazy("Disputed by the debtor (refund requested)"),
    "MD07": gettext_lazy("Debtor deceased"),
    "MS02": gettext_lazy("Refused by the debtor"),
    "MS03": gettext_lazy("Reason not given"),
    "RC01": gettext_lazy("Incorrect bank identifier (BIC)"),
    "RR01": gettext_lazy("Debtor's account or identification missing"),
    "RR02": gettext_lazy("Debtor's name or address missing"),
    "RR03": gettext_lazy("Creditor's name or address missing"),
    "RR04": gettext_lazy("Regulatory reason"),
    "SL01": gettext_lazy("Specific service offered by the debtor's bank"),
}
# The mandate cannot be used again: the family must sign a new one.
NEW_MANDATE = {"AC01", "AC04", "AC13", "MD01", "MD02", "MD07", "RC01"}


def reason_of(code):
    """The code's meaning, in the site's language; an unknown code as it is."""
    code = (code or "").strip().upper()
    with translation.override(settings.LANGUAGE_CODE):
        known = REASONS.get(code)
        return str(known) if known else _("Reason code %(code)s") % {"code": code or "?"}


def reason_choices():
    return [(code, f"{code} – {label}") for code, label in REASONS.items()]


class RejectionRefused(ValidationError):
    pass


def reject(debit, date, reason_code, user=None, base_url=None):
    """Record that the bank did not pay `debit`. A collected debit's payment
    is reversed; a debit still at the bank (its batch not yet recorded as
    collected) has no payment yet and is only marked. Either way the
    instalment is due again, the site's rejection fee is billed, and the
    family is e-mailed after the commit. The debit's row is locked first: a
    rejection is recorded once, even by two imports at once."""
    code = (reason_code or "").strip().upper()
    base_url = settings.PORTAL_URL if base_url is None else base_url
    with transaction.atomic():
        debit = (
            Debit.objects.select_for_update(of=("self",))
            .select_related("batch", "mandate", "instalment__invoice", "payment")
            .get(pk=debit.pk)
        )
        if debit.status == Debit.Status.REJECTED:
            raise RejectionRefused(
                _("This debit was already recorded as rejected on %(date)s: nothing was changed.")
                % {"date": date_format(debit.rejected_on, "SHORT_DATE_FORMAT")},
                code="already",
            )
        if debit.status == Debit.Status.COLLECTED:
            if debit.payment is None:
                raise RejectionRefused(
                    _("This debit is marked collected but has no payment: check the batch."),
                    code="no_payment",
                )
            ledger.reverse_payment(debit.payment, date, code, reason_of(code), user=user)
        elif debit.batch.collected_at is not None:
            raise RejectionRefused(
                _("The batch of this debit is collected but the debit is not: check the batch."),
                code="inconsistent",
            )
        debit.status = Debit.Status.REJECTED
        debit.rejected_on = date
        debit.reason_code = code
        debit.save(update_fields=["status", "rejected_on", "reason_code"])
        Instalment.objects.filter(pk=debit.instalment_id).update(debit_pending=False)
        if code in NEW_MANDATE and debit.mandate.status == Mandate.Status.ACTIVE:
            # Presenting it again would only be rejected again.
            Mandate.objects.filter(pk=debit.mandate_id).update(
                status=Mandate.Status.REVOKED, ended_at=timezone.now()
            )
        fee = bill_fee(debit, base_url)
        transaction.on_commit(
            partial(send_rejection.enqueue, debit.pk, fee.pk if fee else None, base_url)
        )
    return debit


def bill_fee(debit, base_url):
    """The site's fee for a rejected debit, as an invoice of its own (issued
    now, so it is numbered and e-mailed like any other); None without a fee."""
    creditor = Creditor.objects.filter(site_id=debit.batch.site_id).first()
    if creditor is None or creditor.rejection_fee <= 0:
        return None
    original = debit.instalment.invoice
    with translation.override(settings.LANGUAGE_CODE):
        label = _("Direct debit rejection fee")
        line = _("Rejection of the debit of %(date)s (%(number)s)") % {
            "date": date_format(debit.batch.collection_date, "SHORT_DATE_FORMAT"),
            "number": original.number,
        }
    invoice = Invoice.objects.create(
        site_id=debit.batch.site_id,
        family_id=original.family_id,
        payer_id=original.payer_id,
        school_year_id=original.school_year_id,
        label=label,
    )
    InvoiceLine.objects.create(
        invoice=invoice, label=line, unit_price=money(creditor.rejection_fee), quantity=Decimal(1)
    )
    return ledger.issue(invoice, base_url=base_url)


def rejection_message(debit, fee, base_url):
    """The family told what was rejected, why, and what to do; None without
    an address."""
    family = debit.mandate.family
    to = family_address(family)
    if not to:
        return None
    context = {
        "debit": debit,
        "reason": reason_of(debit.reason_code),
        "new_mandate": debit.reason_code in NEW_MANDATE,
        "fee": fee,
        "family": family,
        "site": family.site,
        "billing_url": f"{base_url}{reverse('billing:statement')}",
    }
    return build_message("directdebit/emails/rejection", context, [to], reply_to=family.site.email)


@task()
def send_rejection(debit_id, fee_id, base_url, attempt=1):
    """The rejection e-mail (again later if the mail server is down)."""
    debit = (
        Debit.objects.select_related("batch", "mandate__family__site", "instalment__invoice")
        .filter(pk=debit_id, status=Debit.Status.REJECTED)
        .first()
    )
    if debit is None:
        return "not rejected"
    fee = Invoice.objects.filter(pk=fee_id).first() if fee_id else None
    message = rejection_message(debit, fee, base_url)
    if message is None:
        return "no address"
    deliver(
        message,
        attempt,
        requeue=lambda run_after: send_rejection.using(run_after=run_after).enqueue(
            debit_id, fee_id, base_url, attempt=attempt + 1
        ),
    )
    return "sent"
