"""The signed mandate as a PDF: rendered once after the signature (and again
after a change of account), then served from storage."""

from billing.pdfs import render_pdf
from extranet.files import store_once
from extranet.pdf import logo_uri

from .banking import grouped
from .models import Creditor, Mandate


def mandate_pdf_bytes(mandate):
    creditor = Creditor.objects.filter(site_id=mandate.site_id).first()
    return render_pdf(
        "directdebit/pdf/mandate.html",
        {
            "mandate": mandate,
            "creditor": creditor,
            "iban": grouped(mandate.iban),
            "site": mandate.site,
            "logo_uri": logo_uri(mandate.site),
        },
    )


def ensure_mandate_pdf(mandate):
    """The stored PDF of a signed mandate, rendered now if the worker has not
    done it yet. The first rendering stored wins; one rendered from an
    account changed meanwhile is not stored."""
    if mandate.pdf:
        return mandate
    mandate = Mandate.objects.select_related("site", "signed_by").get(pk=mandate.pk)
    if mandate.pdf or mandate.signed_at is None:
        return mandate
    pdf = mandate_pdf_bytes(mandate)
    # The account's version is in the name: a new rendering after a change.
    version = f"{mandate.amended_at:%Y%m%d%H%M%S%f}" if mandate.amended_at else "signed"
    stored = store_once(
        mandate,
        "pdf",
        f"mandat-{mandate.rum}-{version}.pdf",
        pdf,
        iban=mandate.iban,
        amended_at=mandate.amended_at,
    )
    if not stored.pdf:  # The account changed while this one was rendering.
        return ensure_mandate_pdf(stored)
    return stored
