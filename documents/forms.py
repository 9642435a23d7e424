from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DocumentKind
from .uploads import check_document


class DocumentUploadForm(forms.Form):
    """A kind among `kinds` and a file checked by its content."""

    kind = forms.ModelChoiceField(
        queryset=DocumentKind.objects.none(),
        label=_("Kind of document"),
        empty_label=_("Choose the kind of document"),
        error_messages={
            "required": _("Choose the kind of document."),
            "invalid_choice": _("Choose a kind of document from the list."),
        },
    )
    file = forms.FileField(
        label=_("File (PDF, JPEG or PNG)"),
        error_messages={
            "required": _("Choose a file on your device."),
            "empty": _("The file is empty."),
        },
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
        ),
    )

    def __init__(self, kinds, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].queryset = kinds

    def clean_file(self):
        upload = self.cleaned_data["file"]
        self.checked = check_document(upload)
        return upload
