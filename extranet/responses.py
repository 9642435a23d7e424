"""Small helpers the apps' views share."""

import os
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header


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


def _sent_by_nginx(content):
    # nginx's internal location is an alias of DOCUMENTS_ROOT: only files
    # stored under it can be handed over.
    storage = getattr(content, "storage", None)
    return (
        bool(settings.PRIVATE_FILES_ACCEL_PREFIX)
        and isinstance(storage, FileSystemStorage)
        and os.path.abspath(storage.location) == os.path.abspath(settings.DOCUMENTS_ROOT)
    )
