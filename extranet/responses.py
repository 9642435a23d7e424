"""Small helpers the apps' views share."""

from django.conf import settings
from django.http import FileResponse

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
    cached by a shared cache, never sniffed as HTML."""
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
    Policy stays "self" only for previews."""
    stream, size = open_stream(field_file)
    response = private_file(stream, filename, content_type, as_attachment)
    response.block_size = 64 * 1024
    response["Content-Length"] = size
    return response
