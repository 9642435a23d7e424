"""Bringing families to the portal: the first-connection link (the
identifiant and a link to choose a password, never a password)."""

from django.db import transaction
from django.utils import timezone

from extranet.tasks import send_invitation


def send_first_connection_links(accounts, base_url):
    """Queue the first-connection e-mail of each account that has an e-mail
    address (its own or its family's) and note when it was sent.
    (queued, without_email): how many were queued, and the accounts left
    without an address (a letter is their way)."""
    queued, without_email = 0, []
    now = timezone.now()
    with transaction.atomic():
        for account in accounts:
            if not account.contact_email:
                without_email.append(account)
                continue
            send_invitation.enqueue(account.pk, base_url)
            account.invited_at = now
            account.save(update_fields=["invited_at"])
            queued += 1
    return queued, without_email
