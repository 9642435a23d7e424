"""Phones in the administration as French readers write them (06 12 34 56 78,
a foreign number in international form), wherever the admin shows one: lists,
read-only displays, edit fields; and the search finds a number however the
secretary types it (0612345678, 06 12 34 56 78, +33612345678).

Numbers are stored in E.164 (+33612345678, PHONENUMBER_DB_FORMAT): the admin
would show that form, since phonenumber_field has no setting for "national
for French numbers, international for the others" (NATIONAL would drop the
country code of a Belgian number, and read it back as a French one)."""

import re

import phonenumbers
from django.contrib import admin
from django.contrib.admin.widgets import AdminTextInputWidget
from django.db.models import Q
from phonenumber_field.modelfields import PhoneNumberField
from phonenumber_field.phonenumber import PhoneNumber
from simple_history.template_utils import HistoricalRecordContextHelper

from .formatting import phone_fr

# A phone number typed in a search box: digits and the separators people
# type between them, maybe a leading + (06 12 34 56 78, 06.12.34.56.78,
# +33 6 12 34 56 78, 0033612345678).
PHONE_LIKE = re.compile(r"\+?[0-9][0-9 .\-/()]{5,}")


def e164_of(term):
    """The E.164 form of a search term that is a phone number, else None."""
    term = " ".join(term.split())
    if not PHONE_LIKE.fullmatch(term):
        return None
    try:
        number = phonenumbers.parse(term, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class PhoneInput(AdminTextInputWidget):
    """The stored number shown as the secretary writes it; the form field
    reads any of the usual ways back (region FR)."""

    input_type = "tel"

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        # Only the stored number: what the secretary typed is shown back as typed.
        if isinstance(value, PhoneNumber) and value.is_valid():
            return phone_fr(value)
        return super().format_value(value)


def phone_display(field, empty):
    """A column or read-only display of the phone `field`, in French."""

    @admin.display(description=field.verbose_name, ordering=field.name)
    def display(obj):
        return phone_fr(getattr(obj, field.name)) or empty

    return display


class FrenchPhonesMixin:
    """For a ModelAdmin or an inline: its model's phone fields in French in
    the list, in read-only displays (a field listed in `readonly_fields`, or
    every field for staff who may only view) and in the edit fields; and,
    when the admin has a search box, a typed phone number found in
    `phone_search_fields` (lookups; by default the model's phone fields)."""

    phone_search_fields = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.phone_fields = {
            f.name: f for f in self.model._meta.fields if isinstance(f, PhoneNumberField)
        }
        # Read-only displays and list columns look a name up on the admin.
        for name, field in self.phone_fields.items():
            setattr(self, self.french(name), phone_display(field, self.get_empty_value_display()))

    @staticmethod
    def french(name):
        return f"{name}_fr"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, PhoneNumberField):
            kwargs.setdefault("widget", PhoneInput)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_list_display(self, request):
        names = super().get_list_display(request)
        if not self.phone_fields:
            return names
        editable = set(self.list_editable)
        return [
            self.french(n) if n in self.phone_fields and n not in editable else n for n in names
        ]

    def _view_only(self, request, obj):
        if isinstance(self, admin.options.InlineModelAdmin):
            # New rows stay editable for staff who may add.
            return not (
                self.has_change_permission(request, obj) or self.has_add_permission(request, obj)
            )
        return obj is not None and not self.has_change_permission(request, obj)

    def _read_only_phones(self, request, obj):
        if not self.phone_fields:
            return set()
        if self._view_only(request, obj):
            return set(self.phone_fields)
        return set(self.phone_fields) & set(super().get_readonly_fields(request, obj))

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        shown = self._read_only_phones(request, obj)
        if not shown:
            return fields
        fields = [self.french(f) if f in shown else f for f in fields]
        return fields + [self.french(n) for n in sorted(shown) if self.french(n) not in fields]

    def get_exclude(self, request, obj=None):
        # A read-only phone is shown through its French display, never as a field.
        exclude = super().get_exclude(request, obj)
        shown = self._read_only_phones(request, obj)
        if not shown:
            return exclude
        return [*(exclude or []), *sorted(shown)]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        shown = self._read_only_phones(request, obj)
        if not shown:
            return fieldsets

        def swap(line):
            if isinstance(line, (list, tuple)):
                return tuple(swap(name) for name in line)
            return self.french(line) if line in shown else line

        return [
            (title, {**options, "fields": [swap(line) for line in options["fields"]]})
            for title, options in fieldsets
        ]

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        lookups = (
            self.phone_search_fields
            if self.phone_search_fields is not None
            else list(self.phone_fields)
        )
        e164 = e164_of(search_term) if lookups else None
        if e164 is None:
            return results, may_have_duplicates
        by_phone = Q()
        for lookup in lookups:
            by_phone |= Q(**{lookup: e164})
        return results | queryset.filter(by_phone), True


class FrenchPhonesHistory(HistoricalRecordContextHelper):
    """The changes listed on a history page, phones in French (old → new)."""

    def prepare_delta_change_value(self, change, value):
        if isinstance(value, PhoneNumber):
            return phone_fr(value)
        return super().prepare_delta_change_value(change, value)
