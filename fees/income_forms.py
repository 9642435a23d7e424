from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from extranet import formatting

from .income import Source, income_errors


def parse_decimal(text, message):
    """`text` as a Decimal (None when empty), or ValidationError(`message`)."""
    try:
        return formatting.parse_decimal(text)
    except ValueError:
        raise ValidationError(message) from None


def decimal_field(label, help_text):
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=False,
        max_length=30,
        error_messages={"max_length": _("This is too long for an amount.")},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class IncomeForm(forms.Form):
    """The figures of the tax notice or of the CAF. With `source` (the
    year's grid decides) only those are asked; without, the family chooses."""

    source = forms.ChoiceField(
        label=_("My quotient familial comes"),
        choices=[
            (Source.TAX_NOTICE, _("from my tax notice")),
            (Source.CAF, _("from the CAF")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose where your figures come from."),
            "invalid_choice": _("Choose where your figures come from."),
        },
    )
    reference_income = decimal_field(
        _("Reference tax income (revenu fiscal de référence)"),
        _("In euros, on the first page of your tax notice, for example 32 480."),
    )
    parts = decimal_field(
        _("Number of parts"),
        _("On your tax notice, for example 2 or 2,5."),
    )
    caf_quotient = decimal_field(
        _("CAF quotient familial"),
        _("In euros, on your CAF letter or on caf.fr, for example 742."),
    )
    caf_number = forms.CharField(
        label=_("CAF allocataire number"),
        help_text=_("Digits only, on your CAF letters."),
        required=False,
        max_length=30,
        error_messages={"max_length": _("An allocataire number is shorter than this.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    TAX_FIELDS = ["reference_income", "parts"]
    CAF_FIELDS = ["caf_quotient", "caf_number"]

    def __init__(self, *args, source=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed_source = source
        if source is None:
            return
        del self.fields["source"]
        asked = self.CAF_FIELDS if source == Source.CAF else self.TAX_FIELDS
        missing = income_errors(source, None, None, None, "")
        for name in self.TAX_FIELDS + self.CAF_FIELDS:
            if name in asked:
                self.fields[name].required = True
                self.fields[name].error_messages["required"] = missing[name]
            else:
                del self.fields[name]

    def clean_reference_income(self):
        return parse_decimal(
            self.cleaned_data["reference_income"],
            _("Enter the amount in euros with digits only, for example 32 480."),
        )

    def clean_parts(self):
        return parse_decimal(
            self.cleaned_data["parts"], _("Enter the number of parts, for example 2 or 2,5.")
        )

    def clean_caf_quotient(self):
        return parse_decimal(
            self.cleaned_data["caf_quotient"],
            _("Enter the quotient in euros with digits only, for example 742."),
        )

    def clean_caf_number(self):
        return "".join(self.cleaned_data["caf_number"].split())

    def clean(self):
        cleaned = super().clean()
        source = self.fixed_source or cleaned.get("source")
        if not source:
            if "source" not in self.errors:
                self.add_error("source", _("Choose where your figures come from."))
            return cleaned
        names = self.CAF_FIELDS if source == Source.CAF else self.TAX_FIELDS
        errors = income_errors(
            source, *(cleaned.get(name) for name in self.TAX_FIELDS + self.CAF_FIELDS)
        )
        for name, message in errors.items():
            if name in names and name not in self.errors:
                self.add_error(name, message)
        return cleaned

    def figures(self):
        """The values to store: those of the other source are cleared."""
        source = self.fixed_source or self.cleaned_data["source"]
        tax = source == Source.TAX_NOTICE
        data = self.cleaned_data
        return {
            "source": source,
            "reference_income": data.get("reference_income") if tax else None,
            "parts": data.get("parts") if tax else None,
            "caf_quotient": None if tax else data.get("caf_quotient"),
            "caf_number": "" if tax else data.get("caf_number", ""),
        }
