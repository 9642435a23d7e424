"""Checking uploaded documents by their content.

Only real PDFs (that open, are not encrypted and carry no script) and real
JPEG or PNG images are accepted. Images are decoded, bounded in pixels against
decompression bombs and re-encoded, which drops their metadata. Whatever is
refused never reaches storage.
"""

import io
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

PDF_MAGIC = b"%PDF-"
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# What makes a PDF run code or carry other files: dictionary keys, and action
# types (/S). Checked on the parsed objects, where pypdf has decoded escaped
# names such as /J#61vaScript, and on the raw bytes as a second net.
PDF_ACTIVE_KEYS = {"/JS", "/JavaScript", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia", "/XFA"}
PDF_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/RichMediaExecute", "/SubmitForm"}
PDF_ACTIVE_CONTENT = re.compile(
    rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA)(?![A-Za-z0-9])"
)
PDF_MAX_OBJECTS = 200_000
KEPT_IMAGE_INFO = ("icc_profile", "transparency")


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
        refuse(
            _("The file is too large; the limit is %(limit)s.") % {"limit": filesizeformat(limit)},
            "too_large",
        )
    if not data:
        refuse(_("The file is empty."), "empty")
    if data.startswith(PDF_MAGIC):
        return _check_pdf(data)
    if data.startswith(JPEG_MAGIC) or data.startswith(PNG_MAGIC):
        return _check_image(data)
    refuse(
        _("This file is neither a PDF nor a JPEG or PNG image. Only these formats are accepted."),
        "format",
    )


def _check_pdf(data):
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            refuse(
                _("This PDF is protected by a password. Send a PDF without protection."),
                "encrypted",
            )
        if len(reader.pages) == 0:
            refuse(_("This PDF has no page."), "empty")
        for page in reader.pages:
            page.mediabox  # noqa: B018 - reading each page proves the file is whole
        active = _has_active_content(reader.trailer)
    except ValidationError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        refuse(_("This PDF is damaged and cannot be opened."), "damaged")
    if active or PDF_ACTIVE_CONTENT.search(data):
        refuse(_("This PDF contains scripts or attached files, which are not accepted."), "active")
    return CheckedFile(ContentFile(data), "application/pdf", ".pdf")


def _has_active_content(trailer):
    """Walk every object reachable from the trailer, looking for scripts,
    launch actions and attachments."""
    seen = set()
    stack = [trailer]
    visited = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = obj.get_object()
        visited += 1
        if visited > PDF_MAX_OBJECTS:
            raise ValueError("too many objects")
        if isinstance(obj, DictionaryObject):
            for key, value in obj.items():
                if key in PDF_ACTIVE_KEYS or (key == "/S" and value in PDF_ACTIVE_ACTIONS):
                    return True
                stack.append(value)
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return False


_strict_lock = threading.Lock()


@contextmanager
def strict_decoding():
    """Refuse truncated images even though WeasyPrint, once imported, makes
    Pillow accept them process-wide (its own images are ours and whole)."""
    with _strict_lock:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _check_image(data):
    try:
        with strict_decoding(), Image.open(io.BytesIO(data)) as image:
            # Phones often write MPO: a JPEG followed by more pictures; the
            # first one is kept.
            if image.format not in {"JPEG", "MPO", "PNG"}:
                refuse(_("Only JPEG and PNG images are accepted."), "format")
            width, height = image.size
            if width * height > settings.DOCUMENT_MAX_PIXELS:
                refuse(
                    _("This image is too large in pixels; send a smaller scan or photo."),
                    "too_many_pixels",
                )
            image.load()
            image = ImageOps.exif_transpose(image)
            fmt = "JPEG" if data.startswith(JPEG_MAGIC) else "PNG"
            if fmt == "JPEG" and image.mode not in {"RGB", "L"}:
                image = image.convert("RGB")
            output = io.BytesIO()
            # Re-encoding keeps the pixels only. Pillow writes back some of
            # what it read (a JPEG comment, an ICC profile…), so what it read
            # is forgotten: EXIF (location…), XMP, IPTC, comments, PNG text
            # chunks and anything hidden after the image data are dropped;
            # the colour profile and a palette's transparency are kept.
            kept = {key: image.info[key] for key in KEPT_IMAGE_INFO if key in image.info}
            image.info = {}
            options = {"quality": 90} if fmt == "JPEG" else {"optimize": True}
            image.save(output, fmt, **options, **kept)
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        refuse(
            _("This image is too large in pixels; send a smaller scan or photo."), "too_many_pixels"
        )
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        refuse(_("This image is damaged or incomplete and cannot be read."), "damaged")
    if fmt == "JPEG":
        return CheckedFile(ContentFile(output.getvalue()), "image/jpeg", ".jpg")
    return CheckedFile(ContentFile(output.getvalue()), "image/png", ".png")


# Several photos of one document (a card's recto and verso, the pages of a
# notice) are put together into one PDF, a page each, fitted to A4.
MAX_PHOTOS = 10
PAGE_DPI = 200
PAGE_PIXELS = (1654, 2339)  # A4 at 200 dpi, portrait


def assemble_pdf(photos):
    """One PDF from checked images (CheckedFile, already re-encoded), a page
    each, in the order given."""
    pages = []
    for photo in photos:
        photo.content.seek(0)
        with Image.open(io.BytesIO(photo.content.read())) as image:
            image.load()
            if image.mode in {"RGBA", "LA", "P"}:
                image = image.convert("RGBA")
                flat = Image.new("RGB", image.size, "white")
                flat.paste(image, mask=image.getchannel("A"))
                image = flat
            elif image.mode != "RGB":
                image = image.convert("RGB")
            width, height = image.size
            box = PAGE_PIXELS if height >= width else PAGE_PIXELS[::-1]
            image.thumbnail(box)
            pages.append(image)
    output = io.BytesIO()
    pages[0].save(
        output,
        "PDF",
        save_all=True,
        append_images=pages[1:],
        resolution=float(PAGE_DPI),
        quality=85,
    )
    data = output.getvalue()
    limit = settings.DOCUMENT_MAX_BYTES
    if len(data) > limit:
        refuse(
            _("Put together, these photos are too large (%(size)s); the limit is %(limit)s.")
            % {"size": filesizeformat(len(data)), "limit": filesizeformat(limit)},
            "too_large",
        )
    return CheckedFile(ContentFile(data), "application/pdf", ".pdf")


def check_documents(uploads):
    """One upload checked as `check_document`; several must be photos, each
    checked, then put together into one PDF. Return (CheckedFile, original
    name) or raise ValidationError."""
    if len(uploads) == 1:
        return check_document(uploads[0]), uploads[0].name
    if len(uploads) > MAX_PHOTOS:
        refuse(
            _("Send at most %(count)d photos at once.") % {"count": MAX_PHOTOS},
            "too_many",
        )
    photos = []
    for upload in uploads:
        try:
            checked = check_document(upload)
        except ValidationError as error:
            refuse(
                _("%(name)s: %(reason)s") % {"name": upload.name, "reason": error.messages[0]},
                error.code,
            )
        if checked.content_type == "application/pdf":
            refuse(
                _(
                    "%(name)s is a PDF: several files can only be photos (JPEG or PNG). "
                    "Send a PDF on its own."
                )
                % {"name": upload.name},
                "pdf_among_photos",
            )
        photos.append(checked)
    stem = PurePath(uploads[0].name).stem or "document"
    return assemble_pdf(photos), f"{stem}.pdf"
