"""E-mails of the families app: one function per e-mail."""

from django.urls import reverse

from extranet.mail import build_message, enqueue


def family_address(family):
    """Where the family's mail goes: its reference e-mail, else its account's."""
    if family.reference_email:
        return family.reference_email
    account = family.accounts.exclude(email="").first()
    return account.email if account else ""


def changes_acknowledgement(family, record, changes, address_changed, author, base_url,
                            previous_email=""):
    """To the reference e-mail; when that address itself changed, to the
    previous one too, so that a hijacked account cannot go unnoticed."""
    to = [address for address in [family_address(family), previous_email] if address]
    to = list(dict.fromkeys(to))
    if not to:
        return
    site = family.site
    context = {
        "family": family, "site": site, "record": record, "changes": changes,
        "address_changed": address_changed, "author": author,
        "family_url": f"{base_url}{reverse('families:family')}",
    }
    enqueue(build_message("families/emails/changes", context, to, reply_to=site.email))


def document_refused(document, base_url):
    family = document.family
    to = family_address(family)
    if not to:
        return
    context = {"family": family, "site": family.site, "document": document,
               "family_url": f"{base_url}{document.get_portal_path()}"}
    enqueue(build_message("families/emails/document_refused", context, [to],
                          reply_to=family.site.email))
