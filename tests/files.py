"""Real files, good and hostile, made on the fly for the upload tests."""

import io
import struct
import zlib

from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript


def pdf(pages=1, encrypt=False, javascript=False):
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if javascript:
        writer.add_open_action(JavaScript("app.alert('hello');"))
    if encrypt:
        writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def image(fmt="PNG", size=(60, 40), exif=False):
    picture = Image.new("RGB", size, (200, 30, 30))
    buffer = io.BytesIO()
    options = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "PhoneMaker"  # Make
        data[0x8825] = {2: (48.0, 51.0, 0.0)}  # GPS latitude
        options["exif"] = data.tobytes()
    picture.save(buffer, fmt, **options)
    return buffer.getvalue()


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width=100_000, height=100_000):
    """A tiny PNG whose header announces billions of pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", rows)
        + _chunk(b"IEND", b"")
    )


def truncated_jpeg():
    data = image("JPEG", size=(400, 300))
    return data[: len(data) // 2]


EXECUTABLE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
    + b"\x00" * 200
    + b"This program cannot be run in DOS mode."
)
HTML_AS_PDF = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def pdf_with_escaped_page_script():
    """A page action whose names are escaped (/J#61vaScript), invisible to a
    plain byte search."""
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert(1)"),
        }
    )
    page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): action})
    buffer = io.BytesIO()
    writer.write(buffer)
    data = buffer.getvalue()
    return data.replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")


def large_png(width=8000, height=6300):
    """A real, well-formed PNG of 50 million pixels, small on disk."""
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def mpo_photo():
    """A phone-style MPO: a JPEG followed by a second picture."""
    first = Image.new("RGB", (60, 40), (10, 120, 10))
    second = Image.new("RGB", (60, 40), (10, 10, 120))
    buffer = io.BytesIO()
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    return buffer.getvalue()
