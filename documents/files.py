"""Storing a checked upload and serving a stored document."""

from django.contrib import messages
from django.utils.translation import gettext as _

from extranet.responses import private_file


def store_upload(document, form, request):
    """Save a checked upload (DocumentUploadForm) as `document`."""
    checked = form.checked
    document.kind = form.cleaned_data["kind"]
    document.original_name = form.cleaned_data["file"].name[-255:]
    document.content_type = checked.content_type
    document.size = checked.content.size
    document.uploaded_by = request.user
    # Storage may be a network service: written outside any transaction, and
    # removed again if the row cannot be saved.
    document.file.save(f"upload{checked.extension}", checked.content, save=False)
    try:
        document.save()
    except BaseException:
        document.file.delete(save=False)
        raise
    messages.success(request, _("Document received: the secretariat will check it."))


def document_response(document, as_attachment=True):
    """The stored file, under its original name, never sniffed as HTML."""
    return private_file(
        document.file.open("rb"), document.original_name, document.content_type, as_attachment
    )
