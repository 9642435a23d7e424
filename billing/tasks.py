from django.conf import settings
from django.tasks import task

from extranet.mail import deliver
from extranet.storage import retried_when_storage_down

from .emails import invoice_message, receipt_message
from .models import Invoice, Payment
from .pdfs import ensure_invoice_pdf, ensure_receipt_pdf


@task()
def render_invoice_pdf(invoice_id, base_url=None, attempt=1):
    """Rendered once, after the commit, and kept: what was issued is what is
    served. Then the family is told, with that PDF."""
    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if invoice is None or not invoice.is_issued:
        return "not issued"
    with retried_when_storage_down(
        attempt,
        lambda run_after: render_invoice_pdf.using(run_after=run_after).enqueue(
            invoice_id, base_url, attempt=attempt + 1
        ),
        f"invoice PDF {invoice_id}",
    ):
        ensure_invoice_pdf(invoice)
    send_invoice.enqueue(invoice_id, settings.PORTAL_URL if base_url is None else base_url)
    return "stored"


@task()
def send_invoice(invoice_id, base_url, attempt=1):
    """The issued invoice e-mailed to the family with its stored PDF (again
    later if the mail server is down; the PDF is not rendered twice)."""
    invoice = Invoice.objects.select_related("family__site", "payer").filter(pk=invoice_id).first()
    if invoice is None or not invoice.is_issued:
        return "not issued"

    def requeue(run_after):
        send_invoice.using(run_after=run_after).enqueue(invoice_id, base_url, attempt=attempt + 1)

    with retried_when_storage_down(attempt, requeue, f"invoice e-mail {invoice_id}"):
        invoice = ensure_invoice_pdf(invoice)
        message = invoice_message(invoice, base_url)
    if message is None:
        return "no address"
    deliver(message, attempt, requeue)
    return "sent"


@task()
def send_receipt(payment_id, base_url, attempt=1):
    """The receipt, stored, then e-mailed to the family (again later if the
    mail server is down; the PDF is not rendered twice)."""
    payment = Payment.objects.select_related("family__site").filter(pk=payment_id).first()
    if payment is None:
        return "gone"

    def requeue(run_after):
        send_receipt.using(run_after=run_after).enqueue(payment_id, base_url, attempt=attempt + 1)

    with retried_when_storage_down(attempt, requeue, f"receipt {payment_id}"):
        payment = ensure_receipt_pdf(payment)
        message = receipt_message(payment, base_url)
    if message is None:
        return "no address"
    deliver(message, attempt, requeue)
    return "sent"
