"""Pre-notification: each family is told the dates and amounts of its coming
debits, with the mandate's reference (RUM) and the creditor's identifier
(ICS), at least `Creditor.prenotice_days` before a debit; told again when an
amount changes. A debit whose amount was not told in time waits for a later
collection date (see batches.prepare)."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from billing.models import Instalment, Invoice
from extranet.mail import build_message, enqueue
from extranet.money import money
from families.emails import family_address

from .debits import schedules
from .models import Creditor


@dataclass
class Line:
    invoice: Invoice
    instalment: Instalment
    amount: Decimal
    debit_on: object  # The date of the debit: its due date, at the earliest once told.
    previous: Decimal | None  # The amount told before, when it changed.
    changed: bool


@dataclass
class Notice:
    family: object
    mandate: object
    lines: list


def coming_notices(creditor, today):
    """The families to tell today: those with a coming debit whose amount
    they were not told (never, or another one). Each notice lists all the
    coming debits of the invoices concerned."""
    earliest = today + timedelta(days=creditor.prenotice_days)
    tomorrow = today + timedelta(days=1)
    notices = {}
    for invoice, mandate, rows in schedules(creditor.site_id):
        coming = [r for r in rows if not r.instalment.debit_pending and r.left > 0]
        changed = {
            r.instalment.pk
            for r in coming
            if r.instalment.notified_amount is None or money(r.instalment.notified_amount) != r.left
        }
        if not changed:
            continue
        notice = notices.setdefault(invoice.family_id, Notice(invoice.family, mandate, []))
        for row in coming:
            told = row.instalment.notified_amount
            is_changed = row.instalment.pk in changed
            notice.lines.append(
                Line(
                    invoice,
                    row.instalment,
                    row.left,
                    max(row.instalment.due_date, earliest if is_changed else tomorrow),
                    money(told) if told is not None and is_changed else None,
                    is_changed,
                )
            )
    return list(notices.values())


def notice_message(notice, creditor, base_url):
    """The pre-notification e-mail; None when the family has no address."""
    to = family_address(notice.family)
    if not to:
        return None
    site = creditor.site
    context = {
        "family": notice.family,
        "site": site,
        "creditor": creditor,
        "mandate": notice.mandate,
        "lines": notice.lines,
        "total": money(sum((line.amount for line in notice.lines), Decimal(0))),
        "billing_url": f"{base_url}{reverse('billing:statement')}",
    }
    return build_message("directdebit/emails/prenotification", context, [to], reply_to=site.email)


@dataclass
class Summary:
    notified: int = 0  # Families e-mailed.
    instalments: int = 0  # Instalments whose amount was told.
    without_address: int = 0  # Families that could not be told.


def prenotify(creditor, today=None, base_url=None):
    """Tell the creditor's families of their coming debits; record on each
    instalment told what it was told and when. The e-mails leave after the
    commit."""
    today = today or timezone.localdate()
    base_url = settings.PORTAL_URL if base_url is None else base_url
    summary = Summary()
    with transaction.atomic():
        changed = []
        for notice in coming_notices(creditor, today):
            message = notice_message(notice, creditor, base_url)
            if message is None:
                summary.without_address += 1
                continue
            enqueue(message)
            summary.notified += 1
            for line in notice.lines:
                if line.changed:
                    line.instalment.notified_amount = line.amount
                    line.instalment.notified_on = today
                    changed.append(line.instalment)
        Instalment.objects.bulk_update(changed, ["notified_amount", "notified_on"], batch_size=1000)
        summary.instalments = len(changed)
    return summary


def prenotify_all(today=None, base_url=None):
    """Every creditor's families; one summary per site slug."""
    return {
        creditor.site.slug: prenotify(creditor, today, base_url)
        for creditor in Creditor.objects.select_related("site").order_by("site_id")
    }


@task()
def prenotify_debits():
    """The daily run, for the task queue (or `manage.py prenotify_debits`)."""
    return {slug: vars(summary) for slug, summary in prenotify_all().items()}
