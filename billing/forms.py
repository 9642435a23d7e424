"""The Facturation tab's « Recherche »: text and dates, read from GET."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class StatementSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("A label, an invoice or operation number."),
    )
    du = forms.DateField(
        label=pgettext_lazy("date range", "From"), required=False, widget=date_input()
    )
    au = forms.DateField(
        label=pgettext_lazy("date range", "To"), required=False, widget=date_input()
    )

    error_messages = {
        "invalid": _("Enter a valid date, e.g. 15/09/2026."),
        "order": _("This date is before the start date."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("du", "au"):
            self.fields[name].error_messages["invalid"] = self.error_messages["invalid"]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("du"), cleaned.get("au")
        if start and end and end < start:
            self.add_error("au", self.error_messages["order"])
        return cleaned

    def criteria(self):
        """(text, start, end) of the fields that are valid: a bad date is
        ignored (its message is shown next to it), the rest still applies."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return data.get("q", ""), data.get("du"), data.get("au")

    @property
    def active(self):
        return any(self.data.get(name) for name in ("q", "du", "au"))
