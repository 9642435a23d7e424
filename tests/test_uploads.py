from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from documents.models import DocumentKind
from families.models import FamilyDocument

from . import files
from .html_fields import assert_error_next_to_field

UPLOAD = reverse("families:document_upload")


@pytest.fixture
def proof_of_address(combs):
    return DocumentKind.objects.create(
        site=combs,
        name="Justificatif de domicile",
        required=True,
        proves_address=True,
        validity=DocumentKind.Validity.MONTHS,
        validity_months=3,
    )


def stored_files():
    root = Path(settings.STORAGES["documents"]["OPTIONS"]["location"])
    return sorted(p for p in root.rglob("*") if p.is_file())


def upload(client, kind, name, content, content_type="application/octet-stream"):
    return client.post(
        UPLOAD, {"kind": kind.pk, "file": SimpleUploadedFile(name, content, content_type)}
    )


@pytest.mark.parametrize(
    "name, content, stored_type",
    [
        ("facture-edf.pdf", files.pdf(pages=2), "application/pdf"),
        ("photo.JPG", files.image("JPEG"), "image/jpeg"),
        ("scan.png", files.image("PNG"), "image/png"),
    ],
)
def test_real_documents_are_accepted(
    parent_client, parent, proof_of_address, name, content, stored_type
):
    before = stored_files()
    response = upload(parent_client, proof_of_address, name, content)
    assert response.status_code == 302
    document = FamilyDocument.objects.get(family=parent.family)
    assert document.content_type == stored_type
    assert document.original_name == name
    assert document.status == FamilyDocument.Status.PENDING
    assert len(stored_files()) == len(before) + 1
    stored = Path(document.file.path)
    assert name not in stored.name and len(stored.stem) == 32  # Unguessable name.
    assert not str(stored).startswith(str(settings.STATIC_ROOT))


def test_phone_mpo_photos_are_kept_as_jpeg(parent_client, parent, proof_of_address):
    response = upload(parent_client, proof_of_address, "IMG_2026.JPG", files.mpo_photo())
    assert response.status_code == 302
    document = FamilyDocument.objects.get(family=parent.family)
    with Image.open(document.file.path) as stored:
        assert stored.format == "JPEG" and stored.getpixel((5, 5))[1] > 100


def test_images_are_reencoded_without_metadata(parent_client, parent, proof_of_address):
    upload(parent_client, proof_of_address, "photo.jpg", files.image("JPEG", exif=True))
    document = FamilyDocument.objects.get(family=parent.family)
    with Image.open(document.file.path) as stored:
        assert stored.format == "JPEG"
        assert dict(stored.getexif()) == {}
        assert stored.size == (60, 40)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("programme.pdf", files.EXECUTABLE, "ni un PDF"),
        ("page.pdf", files.HTML_AS_PDF, "ni un PDF"),
        ("dessin.svg", files.SVG, "ni un PDF"),
        ("protege.pdf", files.pdf(encrypt=True), "mot de passe"),
        ("script.pdf", files.pdf(javascript=True), "scripts"),
        ("coupee.jpg", files.truncated_jpeg(), "incomplète"),
        ("bombe.png", files.png_bomb(), "pixels"),
        ("grande.png", files.large_png(), "pixels"),
        ("cache.pdf", files.pdf_with_escaped_page_script(), "scripts"),
        ("vide.pdf", b"", "vide"),
        ("abime.pdf", b"%PDF-1.7\n garbage garbage", "endommagé"),
    ],
)
def test_hostile_or_broken_files_are_refused(
    parent_client, parent, proof_of_address, name, content, message
):
    before = stored_files()
    response = upload(parent_client, proof_of_address, name, content)
    assert response.status_code == 400
    errors = response.context["upload_form"].errors["file"]
    assert message in " ".join(errors), errors
    assert 'id="id_file_error"' in response.text
    assert_error_next_to_field(response.text, "file")
    assert stored_files() == before
    assert not FamilyDocument.objects.exists()


def test_oversized_file_is_refused(parent_client, parent, proof_of_address, settings):
    settings.DOCUMENT_MAX_BYTES = 50_000
    before = stored_files()
    response = upload(parent_client, proof_of_address, "gros.pdf", files.pdf() + b"0" * 60_000)
    assert response.status_code == 400
    assert "trop volumineux" in " ".join(response.context["upload_form"].errors["file"])
    assert stored_files() == before


def test_upload_needs_a_kind_of_this_site(parent_client, parent, proof_of_address, ploufragan):
    foreign = DocumentKind.objects.create(site=ploufragan, name="Autre")
    response = upload(parent_client, foreign, "a.pdf", files.pdf())
    assert response.status_code == 400
    assert "kind" in response.context["upload_form"].errors
    response = parent_client.post(UPLOAD, {"kind": proof_of_address.pk})
    assert "file" in response.context["upload_form"].errors
    assert not FamilyDocument.objects.exists()


def test_upload_is_post_only_and_private(client, parent_client, proof_of_address):
    assert parent_client.get(UPLOAD).status_code == 405
    response = upload(client, proof_of_address, "a.pdf", files.pdf())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not FamilyDocument.objects.exists()
