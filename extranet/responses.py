"""Small helpers the apps' views share."""

from django.conf import settings
from django.http import FileResponse


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
