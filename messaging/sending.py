"""Sending a message: once, to the families its audience reaches when the
secretary clicks, each delivery recorded, the e-mails sent by the task
worker after the commit (in batches, each e-mail tried again later while the
mail server cannot be reached)."""

import smtplib
from functools import partial
from itertools import batched

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from extranet.mail import build_message, deliver

from .audiences import recipients
from .models import Delivery, Message

# E-mails per task: a worker goes through a batch on its own, and a message
# to a thousand families is twenty tasks, not a thousand.
BATCH_SIZE = 50


def send(message, user):
    """Record a delivery for each family `message` reaches and queue the
    e-mails. A message is sent once: None when it already was (a second
    click, another secretary), else the deliveries."""
    now = timezone.now()
    with transaction.atomic():
        # The claim is the update itself: of two clicks, one changes the row.
        claimed = Message.objects.filter(pk=message.pk, sent_at__isnull=True).update(
            sent_at=now, sent_by=user
        )
        if not claimed:
            return None
        message.sent_at, message.sent_by = now, user
        deliveries = Delivery.objects.bulk_create(
            Delivery(
                message=message,
                family=recipient.family,
                email=recipient.email,
                status=Delivery.Status.QUEUED if recipient.email else Delivery.Status.NO_EMAIL,
            )
            for recipient in recipients(message)
        )
        queued = [d.pk for d in deliveries if d.status == Delivery.Status.QUEUED]
        for batch in batched(queued, BATCH_SIZE):
            transaction.on_commit(partial(send_deliveries.enqueue, list(batch)))
    return deliveries


def email(delivery):
    message = delivery.message
    site = message.site
    return build_message(
        "messaging/emails/message",
        {"message": message, "site": site, "family": delivery.family},
        [delivery.email],
        reply_to=site.email or None,
    )


@task()
def send_deliveries(delivery_ids, attempt=1):
    """E-mail the deliveries still queued, each once: its e-mail's key is the
    delivery (extranet/mail.py), so that the task run again after its worker
    died does not send it twice. A refused address fails at once, an
    unreachable server is tried again later for the deliveries left, up to
    EMAIL_MAX_ATTEMPTS."""
    deliveries = (
        Delivery.objects.filter(pk__in=delivery_ids, status=Delivery.Status.QUEUED)
        .select_related("message__site", "family")
        .order_by("pk")
    )
    later, run_after, sent = [], [], 0
    for delivery in deliveries:
        if later:  # The server is down: the others wait with it.
            later.append(delivery.pk)
            continue
        # Counted; a run again of the same attempt (its worker died) goes on.
        counted = Delivery.objects.filter(
            pk=delivery.pk, status=Delivery.Status.QUEUED, attempts__lte=attempt
        ).update(attempts=attempt)
        if not counted:
            continue
        try:
            deliver(
                email(delivery), attempt, requeue=run_after.append, key=f"delivery:{delivery.pk}"
            )
        except smtplib.SMTPRecipientsRefused as error:
            _record(delivery, Delivery.Status.FAILED, error)
        except (smtplib.SMTPException, OSError) as error:
            if run_after:
                _record(delivery, Delivery.Status.QUEUED, error)
                later.append(delivery.pk)
            else:  # Given up after the last attempt.
                _record(delivery, Delivery.Status.FAILED, error)
        else:
            _record(delivery, Delivery.Status.SENT)
            sent += 1
    if later:
        send_deliveries.using(run_after=run_after[0]).enqueue(later, attempt=attempt + 1)
    return {"sent": sent, "later": len(later)}


def _record(delivery, status, error=None):
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status,
        sent_at=timezone.now() if status == Delivery.Status.SENT else None,
        error=str(error or "")[:500],
    )
