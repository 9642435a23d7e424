"""The mandates' side effects, run by the task worker after the commit."""

from django.conf import settings
from django.tasks import task

from extranet.mail import deliver, delivered_already
from extranet.storage import retried_when_storage_down

from . import mandates
from .emails import code_message, mandate_message
from .models import Mandate
from .pdfs import ensure_mandate_pdf


@task()
def send_code(mandate_id, base_url, account, amendment=False, attempt=1):
    """A new one-time code, made here in the worker so that it is never
    stored in clear, not even in the task queue, then e-mailed. A retry after
    a mail server failure makes a new code."""
    mandate = Mandate.objects.select_related("family__site").filter(pk=mandate_id).first()
    expected = Mandate.Status.ACTIVE if amendment else Mandate.Status.PENDING
    if mandate is None or mandate.status != expected:
        return "gone"
    if delivered_already():  # Run again: a new code would void the one sent.
        return "already sent"
    code = mandates.issue_code(mandate)
    message = code_message(mandate, code, account, amendment, base_url)
    if message is None:
        return "no address"
    deliver(
        message,
        attempt,
        requeue=lambda run_after: send_code.using(run_after=run_after).enqueue(
            mandate_id, base_url, account, amendment, attempt=attempt + 1
        ),
    )
    return "sent"


@task()
def render_mandate_pdf(mandate_id, amendment=False, base_url=None, attempt=1):
    """The signed mandate's PDF, stored; then the family is told."""
    mandate = Mandate.objects.filter(pk=mandate_id, status=Mandate.Status.ACTIVE).first()
    if mandate is None:
        return "not active"
    with retried_when_storage_down(
        attempt,
        lambda run_after: render_mandate_pdf.using(run_after=run_after).enqueue(
            mandate_id, amendment, base_url, attempt=attempt + 1
        ),
        f"mandate PDF {mandate_id}",
    ):
        ensure_mandate_pdf(mandate)
    send_confirmation.enqueue(
        mandate_id, amendment, settings.PORTAL_URL if base_url is None else base_url
    )
    return "stored"


@task()
def send_confirmation(mandate_id, amendment, base_url, attempt=1):
    mandate = Mandate.objects.select_related("family__site").filter(pk=mandate_id).first()
    if mandate is None:
        return "gone"
    message = mandate_message(mandate, amendment, base_url)
    if message is None:
        return "no address"
    deliver(
        message,
        attempt,
        requeue=lambda run_after: send_confirmation.using(run_after=run_after).enqueue(
            mandate_id, amendment, base_url, attempt=attempt + 1
        ),
    )
    return "sent"
