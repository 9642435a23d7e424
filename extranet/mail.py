"""Building and delivering e-mails.

Each e-mail has a subject, a plain-text and an HTML template. Delivery runs in
the task worker; when the SMTP server cannot be reached the task schedules
itself again later, with a growing delay, so that nothing is lost.

Each e-mail has a key, the same when its task is run again after its worker
died (extranet/task_backend.py): an e-mail whose key is recorded in SentEmail
was accepted by the SMTP server and is not sent again. The record is written
right after the server's acceptance, before the connection is closed; a worker
that dies between the two (a few milliseconds) leaves an e-mail that is sent
again, with the same Message-ID, derived from the key, by which mail servers
and clients recognise a duplicate.
"""

import contextlib
import hashlib
import logging
import re
import smtplib
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

logger = logging.getLogger(__name__)


def build_message(template_prefix, context, to, reply_to=None, language=None):
    """Render `<prefix>_subject.txt`, `<prefix>.txt` and `<prefix>.html`."""
    language = language or settings.LANGUAGE_CODE
    context = {**context, "LANGUAGE_CODE": language}
    with translation.override(language):
        subject = render_to_string(f"{template_prefix}_subject.txt", context)
        text = render_to_string(f"{template_prefix}.txt", context)
        html = render_to_string(f"{template_prefix}.html", context)
    message = EmailMultiAlternatives(
        # One line; the no-break spaces of French typography (« : ») stay.
        subject=re.sub(r"[ \t\r\n]+", " ", subject).strip(),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        reply_to=[reply_to] if reply_to else None,
    )
    message.attach_alternative(html, "text/html")
    return message


def retry_delay(attempt):
    return timedelta(seconds=settings.EMAIL_RETRY_BASE_SECONDS * 2 ** (attempt - 1))


def message_id(key):
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def delivered_already():
    """Whether the running task's next e-mail was sent by a previous run of
    it (its worker died after): for a task that must not redo what precedes
    the sending either (a new one-time code would void the one sent)."""
    from .models import SentEmail
    from .task_backend import peek_key

    key = peek_key("email")
    return key is not None and SentEmail.objects.filter(key=key).exists()


def deliver(message, attempt, requeue, key=None):
    """Send `message` once for `key` (by default the next e-mail key of the
    running task); on a transient failure call `requeue(run_after)` and
    re-raise, so that the failed attempt stays visible in the task results.
    False when it was already sent."""
    from .models import SentEmail
    from .task_backend import next_key, retried_already

    if key is None:
        key = next_key("email")
        if key is not None and retried_already():
            logger.info("E-mail %r left to the retry already queued", message.subject)
            return False
    if key is not None:
        if SentEmail.objects.filter(key=key).exists():
            logger.info("E-mail %r already sent (%s)", message.subject, key)
            return False
        message.extra_headers["Message-ID"] = message_id(key)
    mailer = mailers.default
    try:
        # Opened here so that the acceptance is recorded before QUIT.
        mailer.open()
        mailer.send_messages([message])
        if key is not None:
            SentEmail.objects.get_or_create(
                key=key, defaults={"message_id": message.extra_headers["Message-ID"]}
            )
    except smtplib.SMTPRecipientsRefused:
        raise  # Permanent: trying again would not help.
    except (smtplib.SMTPException, OSError):
        if attempt >= settings.EMAIL_MAX_ATTEMPTS:
            logger.error("Giving up on e-mail %r after %d attempts", message.subject, attempt)
            raise
        run_after = timezone.now() + retry_delay(attempt)
        logger.warning(
            "E-mail %r not sent (attempt %d), retrying at %s", message.subject, attempt, run_after
        )
        requeue(run_after)
        raise
    finally:
        _close(mailer)
    return True


def _close(mailer):
    # The message, if any, was accepted before: a failing QUIT changes nothing.
    with contextlib.suppress(smtplib.SMTPException, OSError):
        mailer.close()


def enqueue(message):
    """Queue an already rendered message once the current transaction commits."""
    from .tasks import send_email

    payload = {
        "subject": message.subject,
        "body": message.body,
        "html": next((c for c, t in message.alternatives if t == "text/html"), None),
        "from_email": message.from_email,
        "to": list(message.to),
        "reply_to": list(message.reply_to),
    }
    transaction.on_commit(partial(send_email.enqueue, payload))


def message_from_payload(payload):
    message = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["body"],
        from_email=payload["from_email"],
        to=payload["to"],
        reply_to=payload["reply_to"] or None,
    )
    if payload.get("html"):
        message.attach_alternative(payload["html"], "text/html")
    return message
