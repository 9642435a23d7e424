"""A mandate's life: its reference, signature, amendment, revocation and
lapse, and the one-time code that confirms a signature or an amendment."""

import secrets
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from sequences import get_next_value

from .models import Creditor, Debit, Mandate

CODE_VALIDITY = timedelta(minutes=10)
CODE_MAX_TRIES = 5
LAPSE_MONTHS = 36
# A signature started but never confirmed is forgotten (it holds an IBAN).
PENDING_KEPT = timedelta(days=7)


def new_rum(site_id, family_id):
    """`EXT-0003-000123-0007`: unique per creditor (the site), at most 35
    characters. The sequence row is locked until the transaction ends, so
    two mandates signed at once never share a reference."""
    value = get_next_value(f"RUM-{site_id}")
    return f"EXT-{site_id:04d}-{family_id:06d}-{value:04d}"


def activate(mandate, user=None, ip=None, now=None):
    """The mandate signed: it replaces the family's active one, if any."""
    now = now or timezone.now()
    with transaction.atomic():
        Mandate.objects.filter(family_id=mandate.family_id, status=Mandate.Status.ACTIVE).exclude(
            pk=mandate.pk
        ).update(status=Mandate.Status.REVOKED, ended_at=now)
        if not mandate.rum:
            mandate.rum = new_rum(mandate.site_id, mandate.family_id)
        mandate.status = Mandate.Status.ACTIVE
        mandate.signed_at = now
        mandate.signed_by = user
        mandate.signed_from = ip
        mandate.code_hash = ""
        mandate.save()
    return mandate


# What the family sees.


def creditor_of(site_id):
    """The site as SEPA creditor; None when the site offers no direct debit."""
    return Creditor.objects.filter(site_id=site_id).first()


def family_mandate(family):
    """The family's active mandate, or None: the one question every page,
    e-mail and admin screen asks."""
    return Mandate.objects.filter(family=family, status=Mandate.Status.ACTIVE).first()


def submitted_debits(mandate):
    """The debits of `mandate` already in a bank file and not yet settled:
    they will be collected whatever happens to the mandate now."""
    return list(
        Debit.objects.filter(mandate=mandate, status=Debit.Status.SUBMITTED)
        .select_related("batch")
        .order_by("batch__collection_date", "pk")
    )


# Signing.


def start_signature(family, holder_name, holder_address, iban, bic):
    """A PENDING mandate with its reference, awaiting the code. The family's
    earlier unconfirmed signatures are dropped: one at a time."""
    with transaction.atomic():
        Mandate.objects.filter(family=family, status=Mandate.Status.PENDING).delete()
        return Mandate.objects.create(
            site_id=family.site_id,
            family=family,
            rum=new_rum(family.site_id, family.pk),
            holder_name=holder_name,
            holder_address=holder_address,
            iban=iban,
            bic=bic,
        )


def amend(mandate, iban, bic, now=None):
    """A new account under the same mandate (same RUM). What the bank knew is
    kept until a bank file reports the change: two changes in between keep
    the first original, and going back to it leaves nothing to report."""
    now = now or timezone.now()
    with transaction.atomic():
        mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if not mandate.original_iban:
            mandate.original_iban, mandate.original_bic = mandate.iban, mandate.bic
        mandate.iban, mandate.bic = iban, bic
        if mandate.original_iban == iban and mandate.original_bic == bic:
            mandate.original_iban = mandate.original_bic = ""
        mandate.amended_at = now
        mandate.code_hash = ""
        mandate.code_expires_at = None
        mandate.pdf = ""  # Rendered again, with the new account.
        mandate.save()
    return mandate


def revoke(mandate, now=None):
    """The mandate ends; the debits already sent to the bank (returned) are
    left as they are and will be collected."""
    now = now or timezone.now()
    with transaction.atomic():
        Mandate.objects.filter(pk=mandate.pk, status=Mandate.Status.ACTIVE).update(
            status=Mandate.Status.REVOKED, ended_at=now, code_hash=""
        )
        mandate.refresh_from_db()
    return submitted_debits(mandate)


# The one-time code.


class CodeError(Exception):
    """Why a code was refused: "missing", "expired", "exhausted" or "wrong"."""

    def __init__(self, reason, tries_left=0):
        super().__init__(reason)
        self.reason = reason
        self.tries_left = tries_left


def _digest(mandate_pk, code):
    # Keyed with SECRET_KEY: a copy of the database alone cannot try the
    # million codes.
    return salted_hmac(
        "directdebit.mandate-code", f"{mandate_pk}:{code}", algorithm="sha256"
    ).hexdigest()


def issue_code(mandate, now=None):
    """A new 6-digit code for `mandate`, stored hashed, valid CODE_VALIDITY;
    it replaces the previous one. The code itself is only returned (to be
    e-mailed), never stored."""
    now = now or timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    Mandate.objects.filter(pk=mandate.pk).update(
        code_hash=_digest(mandate.pk, code), code_expires_at=now + CODE_VALIDITY, code_tries=0
    )
    return code


def check_code(mandate, code, now=None):
    """Counts one try of `code` on `mandate`; raises CodeError when it is
    refused. The try is counted (committed) even then."""
    now = now or timezone.now()
    code = "".join((code or "").split())
    with transaction.atomic():
        current = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if not current.code_hash:
            error = CodeError("missing")
        elif current.code_tries >= CODE_MAX_TRIES:
            error = CodeError("exhausted")
        elif current.code_expires_at is None or current.code_expires_at <= now:
            error = CodeError("expired")
        else:
            current.code_tries += 1
            Mandate.objects.filter(pk=current.pk).update(code_tries=current.code_tries)
            good = constant_time_compare(_digest(current.pk, code), current.code_hash)
            error = None if good else CodeError("wrong", CODE_MAX_TRIES - current.code_tries)
    if error is not None:
        raise error


# Lapse.


def months_before(day, months):
    month = day.month - 1 - months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def lapse(today=None, now=None):
    """Active mandates unused for 36 months (no debit, or none since the
    signature) become lapsed; unconfirmed signatures older than a week are
    forgotten. Returns the lapsed mandates."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    limit = months_before(today, LAPSE_MONTHS)
    limit_at = timezone.make_aware(datetime.combine(limit, time.min))
    stale = (
        Mandate.objects.filter(status=Mandate.Status.ACTIVE)
        .filter(Q(last_debit_on__lt=limit) | Q(last_debit_on__isnull=True, signed_at__lt=limit_at))
        .exclude(debits__batch__collection_date__gte=limit)
    )
    with transaction.atomic():
        lapsed = list(stale.select_for_update(of=("self",)).order_by("pk"))
        Mandate.objects.filter(pk__in=[m.pk for m in lapsed]).update(
            status=Mandate.Status.LAPSED, ended_at=now, code_hash=""
        )
        Mandate.objects.filter(
            status=Mandate.Status.PENDING, created_at__lt=now - PENDING_KEPT
        ).delete()
    return lapsed
