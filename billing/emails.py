"""E-mails of the billing app: one function per e-mail."""

from django.urls import reverse

from extranet.mail import build_message
from families.emails import family_address


def receipt_message(payment, base_url):
    """The receipt of a payment, with its PDF attached; None when the family
    has no address."""
    family = payment.family
    to = family_address(family)
    if not to:
        return None
    context = {
        "payment": payment,
        "family": family,
        "site": family.site,
        "billing_url": f"{base_url}{reverse('billing:statement')}",
    }
    message = build_message("billing/emails/receipt", context, [to], reply_to=family.site.email)
    with payment.receipt_pdf.open("rb") as pdf:
        message.attach(f"recu-{payment.receipt_number}.pdf", pdf.read(), "application/pdf")
    return message


def invoice_message(invoice, base_url):
    """An issued invoice or credit note with its PDF attached, to the family
    (and to its payer's own address with split billing); None without an
    address."""
    family = invoice.family
    to = [family_address(family)]
    if invoice.payer_id and invoice.payer.email:
        to.append(invoice.payer.email)
    to = list(dict.fromkeys(address for address in to if address))
    if not to:
        return None
    context = {
        "invoice": invoice,
        "family": family,
        "site": family.site,
        "billing_url": f"{base_url}{reverse('billing:statement')}",
    }
    message = build_message("billing/emails/invoice", context, to, reply_to=family.site.email)
    with invoice.pdf.open("rb") as pdf:
        message.attach(f"{invoice.number}.pdf", pdf.read(), "application/pdf")
    return message
