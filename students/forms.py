from django import forms

from families.forms import DocumentUploadForm, VersionedForm
from families.models import DocumentKind

from .models import Student


class StudentForm(VersionedForm):
    """What the family may change itself; name and birth date go through the
    secretariat."""

    class Meta:
        model = Student
        fields = ["email", "mobile_phone", "school", "school_class", "image_rights",
                  "may_leave_alone", "remarks"]
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "remarks": forms.Textarea(attrs={"rows": 4}),
        }


class StudentDocumentUploadForm(DocumentUploadForm):
    def __init__(self, site, *args, **kwargs):
        super().__init__(site, *args, **kwargs)
        self.fields["kind"].queryset = DocumentKind.objects.filter(
            site=site, scope=DocumentKind.Scope.STUDENT, is_active=True
        )
