from django import forms
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField as PhoneNumberFormField

from .models import Family, Guardian

PHONE_ERROR = _("Enter a valid phone number, for example 06 12 34 56 78 or +33 6 12 34 56 78.")


class VersionedForm(forms.ModelForm):
    """Carries the version of the record the person started from, so that a
    save over somebody else's newer change can be refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            del self.fields["version"]  # Nothing to overwrite yet.
        else:
            self.fields["version"].initial = self.instance.version
        for field in self.fields.values():
            if isinstance(field, PhoneNumberFormField):
                field.error_messages["invalid"] = PHONE_ERROR
                field.widget.attrs.setdefault("autocomplete", "tel")
                field.widget.input_type = "tel"


class FamilyContactForm(VersionedForm):
    class Meta:
        model = Family
        fields = ["reference_email", "reference_mobile"]
        widgets = {"reference_email": forms.EmailInput(attrs={"autocomplete": "email"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The user guides: exactly one reference e-mail and mobile per family.
        self.fields["reference_email"].required = True
        self.fields["reference_mobile"].required = True


class GuardianForm(VersionedForm):
    class Meta:
        model = Guardian
        fields = [
            "civility",
            "last_name",
            "birth_name",
            "first_name",
            "birth_date",
            "birth_place",
            "birth_department",
            "marital_status",
            "pcs",
            "profession",
            "address_line1",
            "address_line2",
            "postal_code",
            "city",
            "country",
            "home_phone",
            "mobile_phone",
            "work_phone",
            "email",
            "extra_phone_1_label",
            "extra_phone_1",
            "extra_phone_2_label",
            "extra_phone_2",
            "extra_phone_3_label",
            "extra_phone_3",
            "is_payer",
            "lives_elsewhere",
        ]
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "address_line1": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "address_line2": forms.TextInput(attrs={"autocomplete": "address-line2"}),
            "postal_code": forms.TextInput(
                attrs={"autocomplete": "postal-code", "inputmode": "numeric"}
            ),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "country": forms.TextInput(attrs={"autocomplete": "country-name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["birth_date"].input_formats = ["%Y-%m-%d", "%d/%m/%Y"]
        self.fields["civility"].choices = [("", "---------"), *Guardian.Civility.choices]
        for name in ["birth_department", "postal_code"]:
            self.fields[name].widget.attrs.setdefault("autocapitalize", "characters")

    def clean_birth_department(self):
        return self.cleaned_data["birth_department"].upper()

    def clean(self):
        cleaned = super().clean()
        for n in (1, 2, 3):
            if cleaned.get(f"extra_phone_{n}") and not cleaned.get(f"extra_phone_{n}_label"):
                self.add_error(
                    f"extra_phone_{n}_label",
                    _("Say whose number this is, for example “grand-mère”."),
                )
        return cleaned
