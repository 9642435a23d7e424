"""Saving a family's records: refusing stale edits, recording what changed,
acknowledging every change by e-mail."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from extranet.responses import base_url

from . import emails
from .changes import changes_between
from .models import Family, Guardian


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
    model = type(instance)
    version = form.cleaned_data["version"]
    with transaction.atomic():
        current = model.objects.get(pk=instance.pk)
        if current.version != version:
            raise StaleEdit(current)
        changes = changes_between(current, instance, form._meta.fields)
        if not changes:
            return [], False
        # Claiming the version in one UPDATE holds on every database, SQLite
        # included: of two saves started from the same version, one wins.
        if not model.objects.filter(pk=instance.pk, version=version).update(version=version + 1):
            raise StaleEdit(model.objects.get(pk=instance.pk))
        instance.version = version + 1
        # Only the form's fields: a concurrent change to other fields stays.
        fields = [*form._meta.fields, "version"]
        if hasattr(instance, "updated_at"):
            fields.append("updated_at")
        instance.save(update_fields=fields)
        address_changed = isinstance(instance, Guardian) and any(
            change.field in Guardian.ADDRESS_FIELDS for change in changes
        )
        previous_email = current.reference_email if isinstance(instance, Family) else ""
        _acknowledge(instance, changes, address_changed, request, previous_email)
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


def _acknowledge(instance, changes, address_changed, request, previous_email=""):
    family = instance if isinstance(instance, Family) else instance.family
    if address_changed:
        family.address_changed_at = timezone.now()
        Family.objects.filter(pk=family.pk).update(
            address_changed_at=family.address_changed_at, version=F("version") + 1
        )
    emails.changes_acknowledgement(
        family,
        instance,
        changes,
        address_changed,
        request.user,
        base_url(request),
        previous_email=previous_email,
    )
