"""Checking uploaded documents by their content.

Only real PDFs (that open, are not encrypted and carry no script) and real
JPEG or PNG images are accepted. Images are decoded, bounded in pixels against
decompression bombs and re-encoded, which drops their metadata. Whatever is
refused never reaches storage.
"""

import io
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

PDF_MAGIC = b"%PDF-"
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Names in a PDF that make it run code or carry other files.
PDF_ACTIVE_CONTENT = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA)(?![A-Za-z0-9])")


@dataclass
class CheckedFile:
    content: ContentFile
    content_type: str
    extension: str


def refuse(message, code):
    raise ValidationError(message, code=code)


def check_document(upload):
    """Return a CheckedFile ready to store, or raise ValidationError."""
    limit = settings.DOCUMENT_MAX_BYTES
    if upload.size > limit:
        refuse(
            _("The file is too large (%(size)s); the limit is %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            "too_large",
        )
    data = upload.read(limit + 1)
    if len(data) > limit:
        refuse(_("The file is too large; the limit is %(limit)s.") % {"limit": filesizeformat(limit)},
               "too_large")
    if not data:
        refuse(_("The file is empty."), "empty")
    if data.startswith(PDF_MAGIC):
        return _check_pdf(data)
    if data.startswith(JPEG_MAGIC) or data.startswith(PNG_MAGIC):
        return _check_image(data)
    refuse(_("This file is neither a PDF nor a JPEG or PNG image. Only these formats are accepted."),
           "format")


def _check_pdf(data):
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            refuse(_("This PDF is protected by a password. Send a PDF without protection."),
                   "encrypted")
        if len(reader.pages) == 0:
            refuse(_("This PDF has no page."), "empty")
        for page in reader.pages:
            page.mediabox  # noqa: B018 - reading each page proves the file is whole
        root = reader.trailer["/Root"]
        names = root["/Names"] if "/Names" in root else {}
        form = root["/AcroForm"] if "/AcroForm" in root else {}
        active = any(key in root for key in ("/OpenAction", "/AA")) or any(
            key in names for key in ("/JavaScript", "/EmbeddedFiles")
        ) or "/XFA" in form
    except ValidationError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        refuse(_("This PDF is damaged and cannot be opened."), "damaged")
    if active or PDF_ACTIVE_CONTENT.search(data):
        refuse(_("This PDF contains scripts or attached files, which are not accepted."), "active")
    return CheckedFile(ContentFile(data), "application/pdf", ".pdf")


def _check_image(data):
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in {"JPEG", "PNG"}:
                refuse(_("Only JPEG and PNG images are accepted."), "format")
            width, height = image.size
            if width * height > settings.DOCUMENT_MAX_PIXELS:
                refuse(_("This image is too large in pixels; send a smaller scan or photo."),
                       "too_many_pixels")
            image.load()
            image = ImageOps.exif_transpose(image)
            fmt = "JPEG" if data.startswith(JPEG_MAGIC) else "PNG"
            if fmt == "JPEG" and image.mode not in {"RGB", "L"}:
                image = image.convert("RGB")
            output = io.BytesIO()
            # Re-encoding keeps the pixels only: EXIF (location…) and anything
            # hidden after the image data are dropped.
            image.save(output, fmt, **({"quality": 90} if fmt == "JPEG" else {"optimize": True}))
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        refuse(_("This image is too large in pixels; send a smaller scan or photo."),
               "too_many_pixels")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        refuse(_("This image is damaged or incomplete and cannot be read."), "damaged")
    if fmt == "JPEG":
        return CheckedFile(ContentFile(output.getvalue()), "image/jpeg", ".jpg")
    return CheckedFile(ContentFile(output.getvalue()), "image/png", ".png")
