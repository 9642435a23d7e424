"""The family's forms: the mandate, a new account, the one-time code."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import mandates
from .banking import normalized_bic, normalized_iban

IBAN_HELP = _(
    "As printed on your bank details (RIB), starting with FR76 for a French account. "
    "Spaces and lower case do not matter."
)
BIC_HELP = _(
    "Only needed when your bank cannot be found from the IBAN (some foreign banks): "
    "8 or 11 characters, on your RIB."
)


class AccountForm(forms.Form):
    """The IBAN, checked, and the BIC: taken from the IBAN when the bank is
    known, and then a typed one must be that bank's."""

    iban = forms.CharField(
        label=_("IBAN"),
        max_length=50,
        help_text=IBAN_HELP,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )
    bic = forms.CharField(
        label=_("BIC"),
        max_length=20,
        required=False,
        help_text=BIC_HELP,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )

    def __init__(self, *args, mandate=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.mandate = mandate  # The mandate whose account changes, if any.
        self.fields["iban"].error_messages["required"] = _("Enter the IBAN.")

    def clean_iban(self):
        self.iban = normalized_iban(self.cleaned_data["iban"])
        return str(self.iban.compact)

    def clean(self):
        cleaned = super().clean()
        iban = getattr(self, "iban", None)
        if iban is None or "iban" not in cleaned:
            return cleaned
        typed = cleaned.get("bic", "").strip()
        derived = iban.bic
        bic = None
        if typed:
            try:
                bic = normalized_bic(typed)
            except ValidationError as error:
                self.add_error("bic", error)
                return cleaned
            if derived is not None and (bic.country_code, bic.bank_code) != (
                derived.country_code,
                derived.bank_code,
            ):
                self.add_error(
                    "bic",
                    ValidationError(
                        _("This BIC does not match the bank of this IBAN."), code="mismatch"
                    ),
                )
                return cleaned
        elif derived is None:
            self.add_error(
                "bic",
                ValidationError(
                    _(
                        "Enter the BIC of your bank (on your RIB): it cannot be found from "
                        "this IBAN."
                    ),
                    code="required",
                ),
            )
            return cleaned
        cleaned["bic"] = str(bic or derived)
        if self.mandate is not None and cleaned["iban"] == self.mandate.iban:
            self.add_error(
                "iban",
                ValidationError(
                    _("This is already the account of your mandate."), code="unchanged"
                ),
            )
        return cleaned


class MandateForm(AccountForm):
    holder_name = forms.CharField(
        label=_("Account holder"),
        max_length=70,
        help_text=_("First and last name, as your bank knows them."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    holder_address = forms.CharField(
        label=_("Holder's address"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )

    field_order = ["holder_name", "holder_address", "iban", "bic"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder_name"].error_messages["required"] = _("Enter the account holder.")
        self.fields["holder_address"].error_messages["required"] = _("Enter the holder's address.")

    def clean_holder_name(self):
        return " ".join(self.cleaned_data["holder_name"].split())

    def clean_holder_address(self):
        lines = (
            " ".join(line.split()) for line in self.cleaned_data["holder_address"].splitlines()
        )
        return "\n".join(line for line in lines if line)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code received by e-mail"),
        max_length=20,
        help_text=_("6 digits, valid 10 minutes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}
        ),
    )

    MESSAGES = {
        "missing": _("No code is waiting to be typed: ask for a new code."),
        "expired": _("This code has expired (it is valid 10 minutes): ask for a new code."),
        "exhausted": _("Too many wrong tries: this code no longer works. Ask for a new code."),
    }

    def __init__(self, mandate, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mandate = mandate
        self.fields["code"].error_messages["required"] = _("Enter the code received by e-mail.")

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise ValidationError(_("The code has 6 digits."), code="format")
        try:
            mandates.check_code(self.mandate, code)
        except mandates.CodeError as error:
            if error.reason == "wrong":
                raise ValidationError(
                    ngettext(
                        "This is not the code we sent. %(left)d try left.",
                        "This is not the code we sent. %(left)d tries left.",
                        error.tries_left,
                    )
                    if error.tries_left
                    else _("This is not the code we sent. No try left: ask for a new code."),
                    code="wrong",
                    params={"left": error.tries_left},
                ) from None
            raise ValidationError(self.MESSAGES[error.reason], code=error.reason) from None
        return code
