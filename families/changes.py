"""What a form changed, field by field, as a family reads it."""

from dataclasses import dataclass

from django.contrib import messages
from django.db.models import BooleanField, DateField
from django.utils import formats
from django.utils.translation import gettext as _

from extranet.formatting import phone_fr


@dataclass
class Change:
    field: str
    label: str
    old: str
    new: str


def readable(model_field, value):
    if value in (None, ""):
        return _("(empty)")
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, BooleanField):
        return _("yes") if value else _("no")
    if isinstance(model_field, DateField):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if hasattr(value, "as_e164"):
        return phone_fr(value.as_e164)
    return str(value)


def changes_between(instance_before, instance_after, field_names):
    """Changes of `field_names` between two copies of a model instance."""
    changes = []
    for name in field_names:
        field = instance_after._meta.get_field(name)
        old, new = getattr(instance_before, name), getattr(instance_after, name)
        if (old or None) != (new or None):
            changes.append(
                Change(
                    name,
                    str(field.verbose_name).capitalize(),
                    readable(field, old),
                    readable(field, new),
                )
            )
    return changes


def remember_changes(request, changes, address_changed, back_url):
    """Keep the saved changes for the "Éléments modifiés" page, shown once."""
    if not changes:
        messages.info(request, _("Nothing was changed."))
        return
    request.session["last_changes"] = {
        "changes": [{"label": c.label, "old": c.old, "new": c.new} for c in changes],
        "address_changed": address_changed,
        "back_url": back_url,
    }
