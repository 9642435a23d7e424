"""A document not yet reviewed can be replaced; several photos of one
document become one PDF."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from documents.models import DocumentKind
from families.models import FamilyDocument
from students.models import StudentDocument

from . import factories, files

UPLOAD = reverse("families:document_upload")


@pytest.fixture
def proof(combs):
    return DocumentKind.objects.create(
        site=combs, name="Justificatif de domicile", required=True, proves_address=True
    )


@pytest.fixture
def certificate(combs):
    return DocumentKind.objects.create(
        site=combs, name="Certificat médical", scope=DocumentKind.Scope.STUDENT, required=True
    )


def photo(name, fmt="JPEG", size=(300, 400)):
    return SimpleUploadedFile(name, files.image(fmt, size=size), f"image/{fmt.lower()}")


def stored(document):
    return Path(settings.STORAGES["documents"]["OPTIONS"]["location"]) / document.file.name


def send(client, proof, *uploads):
    return client.post(UPLOAD, {"kind": proof.pk, "file": list(uploads)})


def test_two_photos_become_one_pdf_of_two_pages(parent_client, parent, proof):
    response = send(parent_client, proof, photo("recto.jpg"), photo("verso.png", "PNG"))
    assert response.status_code == 302
    document = FamilyDocument.objects.get(family=parent.family)
    assert document.content_type == "application/pdf"
    assert document.original_name == "recto.pdf"
    assert document.file.name.endswith(".pdf")
    reader = PdfReader(io.BytesIO(stored(document).read_bytes()))
    assert len(reader.pages) == 2
    # A portrait photo on a portrait page, no larger than A4.
    box = reader.pages[0].mediabox
    assert box.height > box.width and box.height <= 842 + 1
    download = parent_client.get(document.get_download_path())
    assert download["Content-Type"] == "application/pdf"


def test_a_single_file_is_kept_as_it_is(parent_client, parent, proof):
    send(parent_client, proof, photo("carte.jpg"))
    document = FamilyDocument.objects.get(family=parent.family)
    assert document.content_type == "image/jpeg" and document.original_name == "carte.jpg"


@pytest.mark.parametrize(
    "uploads, message",
    [
        (
            lambda: [photo("recto.jpg"), SimpleUploadedFile("avis.pdf", files.pdf())],
            "avis.pdf est un PDF\u00a0: plusieurs fichiers ne peuvent être que des photos",
        ),
        (
            lambda: [photo("recto.jpg"), SimpleUploadedFile("verso.jpg", files.truncated_jpeg())],
            "verso.jpg\u00a0: Cette image est endommagée",
        ),
        (
            lambda: [photo("recto.jpg"), SimpleUploadedFile("x.exe", files.EXECUTABLE)],
            "x.exe\u00a0: Ce fichier n’est ni un PDF",
        ),
        (
            lambda: [photo("a.png", "PNG"), SimpleUploadedFile("b.png", files.png_bomb())],
            "b.png\u00a0: Cette image contient trop de pixels",
        ),
        (lambda: [photo(f"p{n}.jpg") for n in range(11)], "Envoyez au plus 10 photos à la fois."),
    ],
)
def test_hostile_or_malformed_photos_are_refused(parent_client, parent, proof, uploads, message):
    response = send(parent_client, proof, *uploads())
    assert response.status_code == 400
    errors = " ".join(response.context["upload_form"].errors["file"])
    assert message in errors, errors
    assert not FamilyDocument.objects.exists()


def test_photos_too_large_together_are_refused(parent_client, proof, settings):
    one = photo("a.jpg")
    settings.DOCUMENT_MAX_BYTES = one.size * 3 // 2  # Each fits, not the two together.
    response = send(parent_client, proof, one, photo("b.jpg"))
    assert response.status_code == 400
    errors = " ".join(response.context["upload_form"].errors["file"])
    assert "Rassemblées, ces photos sont trop lourdes" in errors, errors
    assert not FamilyDocument.objects.exists()


def sent(parent, proof, status=FamilyDocument.Status.PENDING):
    document = FamilyDocument(family=parent.family, kind=proof, status=status)
    document.original_name, document.content_type = "ancien.pdf", "application/pdf"
    document.size = 10
    document.file.save("upload.pdf", io.BytesIO(files.pdf()), save=False)
    document.save()
    return document


@pytest.mark.django_db(transaction=True)
def test_replacing_a_file_not_yet_reviewed(parent_client, parent, proof):
    document = sent(parent, proof)
    old_path = stored(document)
    assert old_path.exists()
    url = reverse("families:document_replace", args=[document.pk])
    page = parent_client.get(url)
    assert page.status_code == 200 and "le nouveau fichier le remplace" in page.text
    family_page = parent_client.get(reverse("families:family")).text
    assert f'href="{url}"' in family_page and "Remplacer le fichier" in family_page
    response = parent_client.post(url, {"file": [photo("nouveau.jpg")]})
    assert response.status_code == 302 and response["Location"] == reverse("families:family")
    assert FamilyDocument.objects.count() == 1
    document.refresh_from_db()
    assert document.original_name == "nouveau.jpg" and document.content_type == "image/jpeg"
    assert document.status == FamilyDocument.Status.PENDING
    assert stored(document).exists() and not old_path.exists()


@pytest.mark.parametrize("status", ["accepted", "refused"])
def test_a_reviewed_file_is_sent_again_as_a_new_document(parent_client, parent, proof, status):
    document = sent(parent, proof, status=status)
    document.reviewed_at = timezone.now()
    document.refusal_reason = "Illisible" if status == "refused" else ""
    document.save()
    url = reverse("families:document_replace", args=[document.pk])
    assert "envoyé comme un nouveau document" in parent_client.get(url).text
    parent_client.post(url, {"file": [photo("autre.jpg"), photo("autre2.jpg")]})
    assert FamilyDocument.objects.count() == 2
    document.refresh_from_db()
    assert document.status == status and document.original_name == "ancien.pdf"
    assert stored(document).exists()
    new = FamilyDocument.objects.exclude(pk=document.pk).get()
    assert new.status == "pending" and new.kind == proof and new.family == parent.family
    assert new.reviewed_at is None and new.refusal_reason == ""
    assert new.original_name == "autre.pdf" and new.content_type == "application/pdf"


def test_replacing_needs_a_checked_file(parent_client, parent, proof):
    document = sent(parent, proof)
    url = reverse("families:document_replace", args=[document.pk])
    response = parent_client.post(url, {"file": [SimpleUploadedFile("x.html", files.SVG)]})
    assert response.status_code == 400
    assert "Ce fichier n’est ni un PDF" in response.text
    assert parent_client.post(url, {}).status_code == 400
    document.refresh_from_db()
    assert document.original_name == "ancien.pdf" and stored(document).exists()


def test_a_strangers_document_is_a_404(parent_client, parent, other_parent, proof, ploufragan):
    kind = DocumentKind.objects.create(site=ploufragan, name="Justificatif")
    theirs = sent(other_parent, kind)
    url = reverse("families:document_replace", args=[theirs.pk])
    assert parent_client.get(url).status_code == 404
    assert parent_client.post(url, {"file": [photo("x.jpg")]}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.original_name == "ancien.pdf"


def test_replacing_needs_a_signed_in_family(client, parent, proof):
    document = sent(parent, proof)
    response = client.get(reverse("families:document_replace", args=[document.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def student_document(student, kind):
    document = StudentDocument(student=student, kind=kind)
    document.original_name, document.content_type, document.size = "cm.pdf", "application/pdf", 1
    document.file.save("upload.pdf", io.BytesIO(files.pdf()), save=False)
    document.save()
    return document


def test_replacing_a_students_document(parent_client, parent, other_parent, certificate):
    lea = factories.student(parent.family, "Léa")
    document = student_document(lea, certificate)
    url = reverse("students:document_replace", args=[lea.pk, document.pk])
    assert f'href="{url}"' in parent_client.get(reverse("students:detail", args=[lea.pk])).text
    response = parent_client.post(url, {"file": [photo("recto.jpg"), photo("verso.jpg")]})
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.original_name == "recto.pdf"
    assert len(PdfReader(io.BytesIO(stored(document).read_bytes())).pages) == 2
    # Another family's student, or a document under another student: 404.
    stranger = factories.student(other_parent.family, "Inconnu")
    theirs = student_document(stranger, certificate)
    for pk, document_pk in [(stranger.pk, theirs.pk), (lea.pk, theirs.pk)]:
        url = reverse("students:document_replace", args=[pk, document_pk])
        assert parent_client.get(url).status_code == 404
        assert parent_client.post(url, {"file": [photo("x.jpg")]}).status_code == 404


def test_the_replace_page_is_valid_html(parent_client, parent, proof, tmp_path):
    from .test_html_valid import validate

    document = sent(parent, proof)
    url = reverse("families:document_replace", args=[document.pk])
    pages = {
        "replace": parent_client.get(url).text,
        "replace-error": parent_client.post(url, {}).text,
        "family": parent_client.get(reverse("families:family")).text,
    }
    assert validate(pages, tmp_path) == []
