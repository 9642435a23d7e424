"""E-mails of the documents app: one function per e-mail."""

from extranet.mail import build_message, enqueue


def document_refused(document, base_url):
    family = document.family
    to = family.contact_email()
    if not to:
        return
    context = {
        "family": family,
        "site": family.site,
        "document": document,
        "family_url": f"{base_url}{document.get_portal_path()}",
    }
    enqueue(
        build_message(
            "documents/emails/document_refused", context, [to], reply_to=family.site.email
        )
    )
