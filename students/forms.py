from django import forms

from families.forms import VersionedForm

from .models import Student


class StudentForm(VersionedForm):
    """What the family may change itself; name and birth date go through the
    secretariat."""

    class Meta:
        model = Student
        fields = [
            "email",
            "mobile_phone",
            "school",
            "school_class",
            "image_rights",
            "may_leave_alone",
            "remarks",
        ]
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "remarks": forms.Textarea(attrs={"rows": 4}),
        }
