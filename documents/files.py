"""Storing a checked upload and serving a stored document."""

import copy
import logging
from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from extranet.responses import serve_stored_file
from extranet.storage import STORAGE_ERRORS

logger = logging.getLogger(__name__)

STORAGE_UNAVAILABLE = "storage_unavailable"


def _write_file(document, form):
    """Put the checked upload in storage (outside any transaction: storage
    may be a network service) and describe it on `document`."""
    checked = form.checked
    document.original_name = form.original_name[-255:]
    document.content_type = checked.content_type
    document.size = checked.content.size
    document.file.save(f"upload{checked.extension}", checked.content, save=False)


def _refuse(form):
    """The storage could not be reached: the form says so next to the file
    field. Nothing of this upload stays: no row is saved, and a write that
    failed leaves no object (a multipart upload is aborted)."""
    logger.warning("Upload refused: storage unavailable", exc_info=True)
    form.add_error(
        "file",
        ValidationError(
            _(
                "The file could not be saved: document storage is unavailable for the "
                "moment. Nothing was recorded; please try again in a few minutes."
            ),
            code=STORAGE_UNAVAILABLE,
        ),
    )


def upload_status(form):
    """The status of a page showing an upload form again: 503 when the
    storage was down (not the family's fault), 400 for a refused file."""
    if not form.is_bound:
        return 200
    return 503 if form.has_error("file", STORAGE_UNAVAILABLE) else 400


def store_upload(document, form, request):
    """Save a checked upload (DocumentUploadForm) as `document`. Returns
    False, with the reason on the form, when the storage is unavailable."""
    document.kind = form.cleaned_data["kind"]
    document.uploaded_by = request.user
    try:
        _write_file(document, form)
    except STORAGE_ERRORS:
        _refuse(form)
        return False
    try:
        document.save()
    except BaseException:
        document.file.delete(save=False)
        raise
    messages.success(request, _("Document received: the secretariat will check it."))
    return True


def _delete_file(storage, name):
    try:
        storage.delete(name)
    except OSError:
        logger.exception("Replaced document file %s not deleted", name)


def replace_upload(document, form, request):
    """Another file for `document` (DocumentReplaceForm). While the
    secretariat has not reviewed it, the same row gets the new file and the
    old file is deleted once that is committed; once reviewed (accepted or
    refused), the file is a new document of the same kind, as any upload.
    Returns the document that holds the new file, or None (the reason on
    the form) when the storage is unavailable."""
    model = type(document)
    # A copy of the row (same kind, same family or student), as a new one.
    fresh = copy.copy(document)
    fresh.pk = None
    fresh._state.adding = True
    fresh.status = model.Status.PENDING
    fresh.refusal_reason = ""
    fresh.reviewed_at = fresh.reviewed_by = None
    fresh.uploaded_at = timezone.now()
    try:
        _write_file(fresh, form)
    except STORAGE_ERRORS:
        _refuse(form)
        return None
    try:
        with transaction.atomic():
            current = model.objects.select_for_update().get(pk=document.pk)
            if current.status == model.Status.PENDING:
                old_file = current.file.name
                current.file = fresh.file.name
                current.original_name = fresh.original_name
                current.content_type = fresh.content_type
                current.size = fresh.size
                current.uploaded_at = timezone.now()
                current.uploaded_by = request.user
                current.save()
                transaction.on_commit(partial(_delete_file, current.file.storage, old_file))
                result = current
            else:
                fresh.uploaded_by = request.user
                fresh.save()
                result = fresh
    except BaseException:
        fresh.file.delete(save=False)
        raise
    messages.success(request, _("Document received: the secretariat will check it."))
    return result


def document_response(document, as_attachment=True):
    """The stored file, under its original name, never sniffed as HTML."""
    return serve_stored_file(
        document.file, document.original_name, document.content_type, as_attachment
    )
