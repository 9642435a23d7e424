"""Relances: what is overdue and not at the bank is reminded by e-mail at the
site's delays, then by a letter for the secretariat to print. Run daily by
`manage.py send_reminders`; each reminder is recorded once (the Reminder
unique constraint), its e-mail sent and its letter rendered by the worker
after the commit."""

import logging
import re
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from extranet.mail import build_message, deliver
from extranet.pdf import logo_uri
from extranet.storage import retried_when_storage_down

from .debtors import email_of, overdue_invoices
from .ledger import postal_address
from .models import Reminder, ReminderPolicy

logger = logging.getLogger(__name__)

KIND_LABELS = {
    Reminder.Kind.EMAIL: pgettext_lazy("reminder", "e-mail"),
    Reminder.Kind.LETTER: pgettext_lazy("reminder", "letter"),
}


def describe(reminder):
    """“e-mail 2 – 07/12/2026”: a reminder in a few words."""
    from django.utils.formats import date_format

    return (
        f"{KIND_LABELS[reminder.kind]} {reminder.level} – "
        f"{date_format(reminder.created_on, 'SHORT_DATE_FORMAT')}"
    )


DELAYS = re.compile(r"^\s*\d{1,4}(\s*[,;]\s*\d{1,4})*\s*$")


def parse_delays(text):
    """ "7, 30" → [7, 30]: whole numbers of days, more than zero, each once, in order."""
    text = (text or "").strip()
    if not text:
        return []
    if not DELAYS.match(text):
        raise ValidationError(
            _("Type numbers of days separated by commas, for example “7, 30”."), code="format"
        )
    delays = [int(part) for part in re.split(r"[,;]", text)]
    if any(d <= 0 for d in delays):
        raise ValidationError(_("Each delay must be at least one day."), code="zero")
    if len(set(delays)) != len(delays):
        raise ValidationError(_("The same delay is given twice."), code="twice")
    return sorted(delays)


def delays_of(policy):
    """The policy's e-mail delays, sorted; anything that is not a whole
    number of days above zero is left out."""
    values = policy.email_delays if isinstance(policy.email_delays, list) else []
    return sorted({d for d in values if isinstance(d, int) and not isinstance(d, bool) and d > 0})


def due(policy, item, sent):
    """The reminders (kind, level) owed now for `item` (an Overdue), given
    the (kind, level) already recorded for its `since`. Only the highest
    e-mail level reached is sent: a family more than 30 days late when the
    policy starts gets the second e-mail, not both at once."""
    if item.at_bank:
        return []
    owed = []
    reached = [level for level, days in enumerate(delays_of(policy), start=1) if item.days >= days]
    if reached:
        top = reached[-1]
        already = max((level for kind, level in sent if kind == Reminder.Kind.EMAIL), default=0)
        if top > already and email_of(item.invoice.family):
            owed.append((Reminder.Kind.EMAIL, top))
    if (
        policy.letter_delay
        and item.days >= policy.letter_delay
        and (Reminder.Kind.LETTER, 1) not in sent
    ):
        owed.append((Reminder.Kind.LETTER, 1))
    return owed


@dataclass
class Summary:
    emails: list = field(default_factory=list)
    letters: list = field(default_factory=list)
    without_email: list = field(default_factory=list)


def run(today=None, base_url=None, sites=None):
    """Record and send the reminders owed today on every site with an
    active policy (or those of `sites`)."""
    today = today or timezone.localdate()
    base_url = settings.PORTAL_URL if base_url is None else base_url
    summary = Summary()
    policies = ReminderPolicy.objects.filter(is_active=True).select_related("site")
    if sites is not None:
        policies = policies.filter(site__in=sites)
    for policy in policies:
        remind_site(policy, today, base_url, summary)
    return summary


def remind_site(policy, today, base_url, summary):
    items = [i for i in overdue_invoices(policy.site_id, today, for_list=True) if not i.at_bank]
    for item in items:
        invoice = item.invoice
        sent = {(r.kind, r.level) for r in invoice.reminders.all() if r.due_since == item.since}
        for kind, level in due(policy, item, sent):
            reminder = record(item, kind, level, today, base_url)
            if reminder is not None:
                (summary.emails if kind == Reminder.Kind.EMAIL else summary.letters).append(
                    reminder
                )
        reached = any(item.days >= d for d in delays_of(policy))
        if reached and not email_of(invoice.family):
            summary.without_email.append(item)


def record(item, kind, level, today, base_url):
    """The reminder, recorded once: None when another run already did."""
    try:
        with transaction.atomic():
            reminder, created = Reminder.objects.get_or_create(
                invoice=item.invoice,
                due_since=item.since,
                kind=kind,
                level=level,
                defaults={"amount": item.amount, "created_on": today},
            )
            if not created:
                return None
            if kind == Reminder.Kind.EMAIL:
                transaction.on_commit(partial(send_reminder.enqueue, reminder.pk, base_url))
            else:
                transaction.on_commit(partial(render_letter.enqueue, reminder.pk))
    except IntegrityError:  # Recorded at the same moment by another run.
        return None
    return reminder


def reminder_message(reminder, base_url):
    """The e-mail of a reminder, in plain French; None without an address."""
    from .online import gateway_for

    invoice = reminder.invoice
    family = invoice.family
    to = email_of(family)
    if not to:
        return None
    context = {
        "reminder": reminder,
        "invoice": invoice,
        "family": family,
        "site": family.site,
        "online": gateway_for(family.site) is not None,
        "billing_url": f"{base_url}{reverse('billing:statement')}",
    }
    return build_message("billing/emails/reminder", context, [to], reply_to=family.site.email)


@task()
def send_reminder(reminder_id, base_url, attempt=1):
    """A reminder e-mailed to the family (again later if the mail server is
    down). Not sent if the invoice was settled in the meantime."""
    reminder = (
        Reminder.objects.select_related("invoice__family__site")
        .filter(pk=reminder_id, kind=Reminder.Kind.EMAIL)
        .first()
    )
    if reminder is None:
        return "gone"
    invoice = reminder.invoice
    still = [
        i
        for i in overdue_invoices(
            invoice.site_id, timezone.localdate(), family_ids=[invoice.family_id]
        )
        if i.invoice.pk == invoice.pk and not i.at_bank
    ]
    if not still:
        return "settled"
    message = reminder_message(reminder, base_url)
    if message is None:
        return "no address"
    deliver(
        message,
        attempt,
        requeue=lambda run_after: send_reminder.using(run_after=run_after).enqueue(
            reminder_id, base_url, attempt=attempt + 1
        ),
    )
    return "sent"


def letter_pdf_bytes(reminder):
    from .pdfs import render_pdf

    invoice = reminder.invoice
    site = invoice.site
    name, address = postal_address(invoice.family, invoice.payer)
    return render_pdf(
        "billing/reminder_letter.html",
        {
            "reminder": reminder,
            "invoice": invoice,
            "site": site,
            "family": invoice.family,
            "name": name or invoice.family_name,
            "address": address or invoice.family_address,
            "logo_uri": logo_uri(site),
        },
    )


def ensure_letter_pdf(reminder):
    """The stored letter, rendered now if the worker has not done it yet;
    the first worker to store it wins (extranet/files.py)."""
    from extranet.files import store_once

    if reminder.pdf:
        return reminder
    reminder = Reminder.objects.select_related(
        "invoice__site", "invoice__family", "invoice__payer"
    ).get(pk=reminder.pk)
    if reminder.pdf:
        return reminder
    pdf = letter_pdf_bytes(reminder)
    name = f"relance-{reminder.invoice.number}-{reminder.due_since:%Y%m%d}.pdf"
    return store_once(reminder, "pdf", name, pdf)


@task()
def render_letter(reminder_id, attempt=1):
    reminder = Reminder.objects.filter(pk=reminder_id, kind=Reminder.Kind.LETTER).first()
    if reminder is None:
        return "gone"
    with retried_when_storage_down(
        attempt,
        lambda run_after: render_letter.using(run_after=run_after).enqueue(
            reminder_id, attempt=attempt + 1
        ),
        f"reminder letter {reminder_id}",
    ):
        ensure_letter_pdf(reminder)
    return "stored"
