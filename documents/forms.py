from django import forms
from django.forms.models import ModelChoiceIteratorValue
from django.utils.translation import gettext_lazy as _

from .models import DocumentKind
from .uploads import check_documents


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """One file, or several photos of one document."""

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            if not data:
                return super().clean(None, initial)
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)]


class DocumentUploadForm(forms.Form):
    """A kind among `kinds` and a file checked by its content, or several
    photos (recto and verso…) put together into one PDF."""

    kind = forms.ModelChoiceField(
        queryset=DocumentKind.objects.none(),
        label=_("Kind of document"),
        empty_label=_("Choose the kind of document"),
        error_messages={
            "required": _("Choose the kind of document."),
            "invalid_choice": _("Choose a kind of document from the list."),
        },
    )
    file = MultipleFileField(
        label=_("File (PDF, JPEG or PNG)"),
        help_text=_(
            "Several photos of the same document (the front and the back, for example) "
            "may be chosen together: they are put together into one PDF."
        ),
        error_messages={
            "required": _("Choose a file on your device."),
            "empty": _("The file is empty."),
        },
        widget=MultipleFileInput(
            attrs={
                "accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png",
                "multiple": True,
            }
        ),
    )

    def __init__(self, kinds, *args, kinds_read=None, **kwargs):
        """`kinds_read`: the same kinds, already read by the page (its
        checklist): listed from them rather than asked again. The choice
        sent is still checked against `kinds`."""
        super().__init__(*args, **kwargs)
        field = self.fields["kind"]
        field.queryset = kinds
        if kinds_read is not None:
            field.choices = [("", field.empty_label)] + [
                (ModelChoiceIteratorValue(kind.pk, kind), field.label_from_instance(kind))
                for kind in kinds_read
            ]

    def clean_file(self):
        uploads = self.cleaned_data["file"]
        self.checked, self.original_name = check_documents(uploads)
        return uploads


class DocumentReplaceForm(DocumentUploadForm):
    """Another file for a document already sent: its kind stays."""

    def __init__(self, *args, **kwargs):
        super().__init__(DocumentKind.objects.none(), *args, **kwargs)
        del self.fields["kind"]
