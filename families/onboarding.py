"""First connection without a password.

An account is opened without a password; its holder chooses one through a
first-connection link: sent by e-mail, or, for families without an e-mail
address, printed on a letter as a short code (`/b/ABCD-EFGH/`). Never a
password in an e-mail or a letter. The `send_invitations` command and the
accounts' admin both go through here.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import prefetch_related_objects
from django.urls import reverse
from django.utils import timezone, translation

from extranet.models import InvitationCode
from extranet.pdf import logo_uri, render_pdf
from extranet.tasks import login_path, send_invitation

from .addresses import payer_of, postal_lines

# E-mails per minute: SMTP servers limit how fast one may send.
DEFAULT_RATE = 60
CHUNK = 2000


@dataclass
class Selection:
    """The accounts asked for, sorted: those that can receive a first-connection
    link, and those skipped with the reason why."""

    ready: list = field(default_factory=list)
    with_password: list = field(default_factory=list)
    inactive: list = field(default_factory=list)


def select(accounts):
    """A holder who has chosen a password already needs no link (it would not
    work: a first-connection link dies once a password is set)."""
    selection = Selection()
    for account in _loaded(accounts):
        if not account.is_active:
            selection.inactive.append(account)
        elif account.has_usable_password():
            selection.with_password.append(account)
        else:
            selection.ready.append(account)
    return selection


def send_first_connection_links(accounts, base_url, *, rate=DEFAULT_RATE):
    """Queue the first-connection e-mail (`extranet.tasks.send_invitation`) of
    each account with a contact address, `rate` a minute, and record when.

    Accounts that are inactive or already have a password are passed over.
    Returns (queued, without_email): how many e-mails were queued, and the
    accounts without an address, for a letter."""
    interval = timedelta(minutes=1) / rate
    start = timezone.now()
    queued, without_email = [], []
    with transaction.atomic():
        for account in select(accounts).ready:
            if not account.contact_email:
                without_email.append(account)
                continue
            # The worker makes the link: no token is stored in the queue.
            send_invitation.using(run_after=start + len(queued) * interval).enqueue(
                account.pk, base_url
            )
            queued.append(account)
        _mark_invited(queued)
    return len(queued), without_email


@dataclass
class Letters:
    pdf: bytes
    accounts: list
    # Families whose responsables have no postal address: the letter cannot be posted.
    without_address: list


def invitation_letters(accounts, base_url, *, renew=False):
    """One A4 letter per account, for a window envelope, and when they were
    printed recorded. Left out: inactive accounts, accounts with a password, and
    network accounts (no site to write from: their holders get the e-mail).

    A code already printed stays valid while it is usable: printing again shows
    the same code, so the letters already posted keep working. With `renew`,
    the account's codes are replaced."""
    accounts = [account for account in select(accounts).ready if account.site_id]
    prefetch_related_objects(accounts, "site", "family__guardians")
    logos = {}
    # The letters are French, like the families they are posted to.
    with transaction.atomic(), translation.override("fr"):
        codes = letter_codes(accounts, renew=renew)
        letters = []
        for account in accounts:
            if account.site_id not in logos:
                logos[account.site_id] = logo_uri(account.site)
            letters.append(_letter(account, codes[account.pk], base_url, logos[account.site_id]))
        pdf = render_pdf(
            "families/pdf/invitation_letters.html",
            {"letters": letters, "today": timezone.localdate()},
        )
        _mark_invited(accounts)
    without_address = [letter["user"] for letter in letters if not letter["payer"]]
    return Letters(pdf=pdf, accounts=accounts, without_address=without_address)


def _letter(account, code, base_url, logo):
    family = account.family
    payer = payer_of(family) if family else None
    return {
        "user": account,
        "site": account.site,
        "logo_uri": logo,
        "reference": (family.external_ref or family.name) if family else "",
        "payer": payer,
        "address_lines": postal_lines(payer) if payer else [_addressee(account)],
        "code": code.display,
        "short_url": f"{base_url}{reverse('invitation_code', args=[code.display])}",
        "login_url": f"{base_url}{login_path(account.site)}",
        "expires_at": code.created_at + timedelta(days=settings.INVITATION_VALID_DAYS),
    }


def letter_codes(accounts, *, renew=False):
    """{account id: the short code to print}: the account's newest usable code
    with at least half its validity left (a letter takes days to arrive and be
    read), else (or with `renew`) a new one, its older codes deleted."""
    ids = [account.pk for account in accounts]
    usable = {}
    fresh_since = timezone.now() - timedelta(days=settings.INVITATION_VALID_DAYS / 2)
    if not renew:
        by_id = {account.pk: account for account in accounts}
        for start in range(0, len(ids), CHUNK):
            existing = InvitationCode.objects.filter(user_id__in=ids[start : start + CHUNK])
            for code in existing.order_by("created_at", "pk"):
                code.user = by_id[code.user_id]  # is_usable() reads it: no query per code.
                if code.is_usable() and code.created_at >= fresh_since:
                    usable[code.user_id] = code
    stale = [pk for pk in ids if pk not in usable]
    for start in range(0, len(stale), CHUNK):
        InvitationCode.objects.filter(user_id__in=stale[start : start + CHUNK]).delete()
    created = InvitationCode.objects.bulk_create(
        [InvitationCode(user_id=pk) for pk in stale], batch_size=CHUNK
    )
    return {**usable, **{code.user_id: code for code in created}}


def _loaded(accounts):
    """Accounts with their site and family, from a queryset or a list."""
    if isinstance(accounts, models.QuerySet):
        return accounts.select_related("site", "family").iterator(chunk_size=CHUNK)
    return accounts


def _addressee(account):
    """Whom a letter without a postal address is for, to be completed by hand."""
    if account.family:
        return account.family.name
    return account.get_full_name() or account.username


def _mark_invited(accounts):
    now = timezone.now()
    ids = [account.pk for account in accounts]
    for start in range(0, len(ids), CHUNK):
        get_user_model().objects.filter(pk__in=ids[start : start + CHUNK]).update(invited_at=now)
    for account in accounts:
        account.invited_at = now
