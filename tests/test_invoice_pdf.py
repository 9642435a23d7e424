"""The invoice PDF read back: the sender once, plain zeros, the font embedded."""

import io

from django.urls import reverse
from pypdf import PdfReader

from . import billing_data


def fonts_of(reader):
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_invoice_pdf_names_the_sender_once_with_plain_zeros_in_dejavu_sans(parent_client, parent):
    billing_data.payer(parent.family)
    invoice = billing_data.issued(parent.family, lines=[("Piano – Hugo", "100.00")])
    response = parent_client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    content = b"".join(response.streaming_content) if response.streaming else response.content
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    assert flat.count(invoice.site_name) == 1, text
    assert flat.count("Rue Baptiste Marcet") == 1, text
    assert invoice.issue_date.strftime("%d/%m/%Y") in text
    assert "100,00" in text
    assert "Ø" not in text and "ø" not in text
    fonts = fonts_of(reader)
    # The bundled DejaVu Sans (static/fonts/), whose zero has no slash.
    assert fonts == {name for name in fonts if name.split("+")[-1].startswith("DejaVu-Sans")}
    assert fonts, fonts
