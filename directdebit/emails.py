"""E-mails of the mandates: the one-time code and the confirmation. An IBAN
is never written in clear in an e-mail, only masked."""

from django.urls import reverse

from extranet.mail import build_message
from families.emails import family_address

from .mandates import CODE_VALIDITY


def code_message(mandate, code, account, amendment, base_url):
    """The one-time code confirming a signature or (`amendment`) a change of
    account to `account` (masked); None when the family has no address."""
    family = mandate.family
    to = family_address(family)
    if not to:
        return None
    context = {
        "mandate": mandate,
        "family": family,
        "site": family.site,
        "code": code,
        "account": account,
        "amendment": amendment,
        "minutes": int(CODE_VALIDITY.total_seconds() // 60),
        "url": f"{base_url}{reverse('directdebit:mandate')}",
    }
    return build_message("directdebit/emails/code", context, [to], reply_to=family.site.email)


def mandate_message(mandate, amendment, base_url):
    """The signed (or amended) mandate confirmed: its reference, the account
    masked, and where to download the PDF."""
    family = mandate.family
    to = family_address(family)
    if not to:
        return None
    context = {
        "mandate": mandate,
        "family": family,
        "site": family.site,
        "amendment": amendment,
        "pdf_url": f"{base_url}{reverse('directdebit:pdf', args=[mandate.pk])}",
        "url": f"{base_url}{reverse('directdebit:mandate')}",
    }
    return build_message("directdebit/emails/mandate", context, [to], reply_to=family.site.email)
