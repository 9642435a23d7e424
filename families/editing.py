"""Saving a family's records: refusing stale edits, recording what changed,
acknowledging every change by e-mail."""

import copy

from django.db import transaction
from django.utils import timezone

from . import emails
from .changes import changes_between
from .models import Guardian


class StaleEdit(Exception):
    """Somebody saved the record after this form was opened."""

    def __init__(self, current):
        super().__init__()
        self.current = current


def save_versioned(form, request):
    """Save `form` unless its record changed since it was displayed.

    Returns the changes (empty when nothing changed: nothing is saved or sent)
    and whether an address changed; raises StaleEdit.
    """
    instance = form.instance
    with transaction.atomic():
        current = type(instance).objects.select_for_update().get(pk=instance.pk)
        if current.version != form.cleaned_data["version"]:
            raise StaleEdit(current)
        changes = changes_between(copy.copy(current), instance, form._meta.fields)
        address_changed = isinstance(instance, Guardian) and any(
            change.field in Guardian.ADDRESS_FIELDS for change in changes
        )
        if changes:
            instance.version = current.version + 1
            instance.save()
            _acknowledge(instance, changes, address_changed, request)
    return changes, address_changed


def create_guardian(form, family, request):
    with transaction.atomic():
        guardian = form.save(commit=False)
        guardian.family = family
        last = family.guardians.order_by("-position").values_list("position", flat=True).first()
        guardian.position = (last or 0) + 1
        guardian.save()
        changes = changes_between(Guardian(family=family), guardian, form._meta.fields)
        # A new responsable at another address brings a new address to prove.
        _acknowledge(guardian, changes, guardian.lives_elsewhere, request)
    return guardian, changes


def _acknowledge(instance, changes, address_changed, request):
    family = instance.family if isinstance(instance, Guardian) else instance
    if address_changed:
        family.address_changed_at = timezone.now()
        family.save(update_fields=["address_changed_at", "updated_at"])
    emails.changes_acknowledgement(
        family, instance, changes, address_changed, request.user,
        request.build_absolute_uri("/").rstrip("/"),
    )
