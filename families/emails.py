"""E-mails of the families app: one function per e-mail."""

from django.urls import reverse

from extranet.mail import build_message, enqueue


def family_address(family):
    return family.contact_email()


def changes_acknowledgement(
    family, record, changes, address_changed, author, base_url, previous_email=""
):
    """To the reference e-mail; when that address itself changed, to the
    previous one too, so that a hijacked account cannot go unnoticed."""
    to = [address for address in [family_address(family), previous_email] if address]
    to = list(dict.fromkeys(to))
    if not to:
        return
    site = family.site
    context = {
        "family": family,
        "site": site,
        "record": record,
        "changes": changes,
        "address_changed": address_changed,
        "author": author,
        "family_url": f"{base_url}{reverse('families:family')}",
    }
    enqueue(build_message("families/emails/changes", context, to, reply_to=site.email))
