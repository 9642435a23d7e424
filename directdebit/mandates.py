"""A mandate's life: its reference, signature, amendment, revocation and
lapse."""

from django.db import transaction
from django.utils import timezone
from sequences import get_next_value

from .models import Mandate


def new_rum(site_id, family_id):
    """`EXT-0003-000123-0007`: unique per creditor (the site), at most 35
    characters. The sequence row is locked until the transaction ends, so
    two mandates signed at once never share a reference."""
    value = get_next_value(f"RUM-{site_id}")
    return f"EXT-{site_id:04d}-{family_id:06d}-{value:04d}"


def activate(mandate, user=None, ip=None, now=None):
    """The mandate signed: it replaces the family's active one, if any."""
    now = now or timezone.now()
    with transaction.atomic():
        Mandate.objects.filter(family_id=mandate.family_id, status=Mandate.Status.ACTIVE).exclude(
            pk=mandate.pk
        ).update(status=Mandate.Status.REVOKED, ended_at=now)
        if not mandate.rum:
            mandate.rum = new_rum(mandate.site_id, mandate.family_id)
        mandate.status = Mandate.Status.ACTIVE
        mandate.signed_at = now
        mandate.signed_by = user
        mandate.signed_from = ip
        mandate.code_hash = ""
        mandate.save()
    return mandate
