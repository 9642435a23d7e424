"""Small helpers the apps' views share."""

import os
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header

from .storage import open_stream


def base_url(request):
    """The portal's address as this request reached it, for links in e-mails."""
    return request.build_absolute_uri("/").rstrip("/")


def portal_url(request):
    """The portal's public address for links that outlive the request (e-mails,
    letters): PORTAL_URL when set, not the host the admin was reached by."""
    return settings.PORTAL_URL or base_url(request)


def private_file(content, filename, content_type, as_attachment=True):
    """A family's or the secretariat's file (an open file or a BytesIO): never
    cached by a shared cache, never sniffed as HTML.

    A stored document (a FieldFile of the documents storage on the filesystem)
    is sent by nginx when PRIVATE_FILES_ACCEL_PREFIX names its internal
    location: the callers have checked who asks; the worker is freed at once."""
    if _sent_by_nginx(content):
        content.close()
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.PRIVATE_FILES_ACCEL_PREFIX + quote(content.name)
        response["Content-Disposition"] = content_disposition_header(as_attachment, filename)
    else:
        response = FileResponse(
            content, as_attachment=as_attachment, filename=filename, content_type=content_type
        )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def serve_stored_file(field_file, filename, content_type, as_attachment=True):
    """A stored file, to be called only once the view has checked who asks.

    The bytes go through the application, streamed from the storage in
    chunks, rather than by a redirect to a signed object-storage address: the
    check holds for every download (a signed address works for anyone it is
    forwarded to until it expires, and stays in the browser's history), the
    object storage needs no public endpoint, and the pages' Content Security
    Policy stays "self" only for previews. A document on the filesystem
    behind nginx is sent by nginx (see `private_file`)."""
    if _sent_by_nginx(field_file):
        return private_file(field_file, filename, content_type, as_attachment)
    stream, size = open_stream(field_file)
    response = private_file(stream, filename, content_type, as_attachment)
    response.block_size = 64 * 1024
    response["Content-Length"] = size
    return response


def _sent_by_nginx(content):
    # nginx's internal location is an alias of DOCUMENTS_ROOT: only files
    # stored under it can be handed over.
    storage = getattr(content, "storage", None)
    return (
        bool(settings.PRIVATE_FILES_ACCEL_PREFIX)
        and isinstance(storage, FileSystemStorage)
        and os.path.abspath(storage.location) == os.path.abspath(settings.DOCUMENTS_ROOT)
    )
