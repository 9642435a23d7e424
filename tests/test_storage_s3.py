"""Stored files on an S3-compatible object storage: moto's standalone server,
a real HTTP server on a free port, with the portal's S3 settings pointed at it.
Documents, PDFs and logos go in and out through the real views; the objects
are read back with boto3; a storage that is down refuses uploads cleanly and
PDF tasks are tried again later."""

import io
import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
import requests
import time_machine
from botocore.response import StreamingBody
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from moto.server import ThreadedMotoServer
from pypdf import PdfReader

from billing.models import Invoice
from billing.tasks import render_invoice_pdf
from documents.models import DocumentKind
from extranet.pdf import logo_uri
from extranet.storage import open_stream
from extranet.storage_settings import storages_from_environment
from families.models import FamilyDocument

from . import billing_data, files
from .factories import make_parent, signed_in, staff

BUCKET = "extranet-private"
CREDENTIALS = {"S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing"}
ROOT = Path(__file__).resolve().parent.parent


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = closed_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint):
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="eu-west-3",
    )
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    try:
        yield client
    finally:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            for entry in page.get("Contents", ()):
                client.delete_object(Bucket=BUCKET, Key=entry["Key"])
        client.delete_bucket(Bucket=BUCKET)


def s3_storages(endpoint):
    return storages_from_environment(
        {
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": BUCKET,
            "S3_ENDPOINT_URL": endpoint,
            "S3_REGION": "eu-west-3",
            **CREDENTIALS,
        },
        documents_root=None,
        media_root=None,
    )


@pytest.fixture
def on_s3(settings, bucket, s3_endpoint):
    settings.STORAGES = {**settings.STORAGES, **s3_storages(s3_endpoint)}
    return bucket


@pytest.fixture
def storage_down(settings):
    """The same settings, the object storage unreachable (nothing listens)."""
    settings.STORAGES = {
        **settings.STORAGES,
        **s3_storages(f"http://127.0.0.1:{closed_port()}"),
    }


def keys(client, prefix=""):
    answer = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(entry["Key"] for entry in answer.get("Contents", ()))


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def proof_of_address(combs):
    return DocumentKind.objects.create(
        site=combs, name="Justificatif de domicile", required=True, proves_address=True
    )


def upload(client, kind, content, name="facture-edf.pdf"):
    return client.post(
        reverse("families:document_upload"),
        {"kind": kind.pk, "file": SimpleUploadedFile(name, content, "application/pdf")},
    )


def test_a_document_goes_to_the_bucket_and_back_to_its_family_only(
    on_s3, s3_endpoint, parent_client, parent, combs, proof_of_address, client
):
    content = files.pdf(pages=2)
    assert upload(parent_client, proof_of_address, content).status_code == 302
    document = FamilyDocument.objects.get(family=parent.family)
    [key] = keys(on_s3)
    assert key == f"documents/{document.file.name}"
    assert on_s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == content

    response = parent_client.get(reverse("families:document", args=[document.pk]))
    assert response.status_code == 200
    assert response.streaming
    # What the response streams: the object storage's answer, read in
    # chunks, not a copy of the file first read whole.
    stream, size = open_stream(document.file)
    assert isinstance(stream, StreamingBody) and size == len(content)
    stream.close()
    assert body(response) == content
    assert response["Content-Length"] == str(len(content))
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"

    # Another family of the same site, and nobody signed in.
    stranger = make_parent(combs, username="dupont", family_name="Dupont")
    client.force_login(stranger)
    assert client.get(reverse("families:document", args=[document.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("families:document", args=[document.pk])).status_code == 302

    # Only the bucket's owner may read the object; the bucket itself answers
    # nobody without credentials.
    grants = on_s3.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert all(grant["Grantee"]["Type"] == "CanonicalUser" for grant in grants)
    assert requests.get(f"{s3_endpoint}/{BUCKET}/{key}", timeout=5).status_code == 403

    # No page of the family ever points at the object storage.
    for url in ["/", reverse("families:family"), reverse("billing:statement")]:
        page = parent_client.get(url).text
        assert s3_endpoint not in page and BUCKET not in page and key not in page


def test_stored_files_have_no_address_of_their_own(on_s3):
    with pytest.raises(NotImplementedError):
        default_storage.url("sites/logos/logo.png")
    with pytest.raises(NotImplementedError):
        FamilyDocument._meta.get_field("file").storage.url("family/1/x.pdf")


def test_an_invoice_pdf_is_stored_in_the_bucket_and_served_to_its_family(
    on_s3, parent_client, parent, combs, client
):
    combs.logo = SimpleUploadedFile("logo.png", files.image("PNG"), content_type="image/png")
    combs.save()
    billing_data.payer(parent.family)
    invoice = billing_data.issued(parent.family, lines=[("Piano – Hugo", "100.00")])
    response = parent_client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    content = body(response)
    invoice.refresh_from_db()
    assert f"documents/{invoice.pdf.name}" in keys(on_s3, "documents/")
    stored = on_s3.get_object(Bucket=BUCKET, Key=f"documents/{invoice.pdf.name}")["Body"].read()
    assert stored == content
    reader = PdfReader(io.BytesIO(content))
    assert "100,00" in reader.pages[0].extract_text()
    # The logo, read from the bucket, is drawn in the PDF.
    assert any(page.images for page in reader.pages)

    stranger = make_parent(combs, username="dupont", family_name="Dupont")
    client.force_login(stranger)
    assert client.get(reverse("billing:invoice_pdf", args=[invoice.pk])).status_code == 404


def test_a_logo_in_the_bucket_is_served_by_the_portal(on_s3, combs, client):
    png = files.image("PNG")
    combs.logo = SimpleUploadedFile("logo.png", png, content_type="image/png")
    combs.save()
    assert keys(on_s3, "media/") == [f"media/{combs.logo.name}"]
    response = client.get(reverse("site_logo", args=[combs.slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert body(response) == png
    assert logo_uri(combs).startswith("data:image/png;base64,")


@pytest.mark.parametrize("permissions", [["view_site", "change_site"], ["view_site"]])
def test_the_site_admin_links_the_logo_through_the_portal(on_s3, combs, permissions):
    combs.logo = SimpleUploadedFile("logo.png", files.image("PNG"), content_type="image/png")
    combs.save()
    client = signed_in(staff(combs, permissions))
    response = client.get(reverse("admin:extranet_site_change", args=[combs.pk]))
    assert response.status_code == 200
    assert f'href="{reverse("site_logo", args=[combs.slug])}"' in response.text
    assert BUCKET not in response.text


def test_an_upload_while_the_storage_is_down_is_refused_next_to_the_file_field(
    on_s3, storage_down, parent_client, parent, proof_of_address
):
    response = upload(parent_client, proof_of_address, files.pdf())
    assert response.status_code == 503  # Not a 500: the form again, with the reason.
    page = response.text
    assert "l’espace de stockage des documents est momentanément indisponible" in page
    # Next to the file field, linked to it for screen readers.
    form = response.context["upload_form"]
    assert form.has_error("file", "storage_unavailable")
    assert 'aria-invalid="true"' in page
    assert not FamilyDocument.objects.exists()
    assert keys(on_s3) == []  # Nothing half-saved in the bucket either.


def test_an_upload_to_a_documents_folder_that_cannot_be_written_is_refused_too(
    settings, tmp_path, parent_client, parent, proof_of_address
):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    settings.STORAGES = {
        **settings.STORAGES,
        **storages_from_environment({}, documents_root=blocked / "documents", media_root=tmp_path),
    }
    response = upload(parent_client, proof_of_address, files.pdf())
    assert response.status_code == 503
    assert response.context["upload_form"].has_error("file", "storage_unavailable")
    assert not FamilyDocument.objects.exists()


def test_replacing_a_file_while_the_storage_is_down_keeps_the_old_one(
    on_s3, settings, s3_endpoint, parent_client, parent, proof_of_address
):
    content = files.pdf()
    assert upload(parent_client, proof_of_address, content).status_code == 302
    document = FamilyDocument.objects.get()
    settings.STORAGES = {
        **settings.STORAGES,
        **s3_storages(f"http://127.0.0.1:{closed_port()}"),
    }
    response = parent_client.post(
        reverse("families:document_replace", args=[document.pk]),
        {"file": SimpleUploadedFile("autre.pdf", files.pdf(pages=3), "application/pdf")},
    )
    assert response.status_code == 503
    assert response.context["form"].has_error("file", "storage_unavailable")
    settings.STORAGES = {**settings.STORAGES, **s3_storages(s3_endpoint)}
    assert FamilyDocument.objects.get() == document
    assert FamilyDocument.objects.get().file.name == document.file.name
    [key] = keys(on_s3)
    assert on_s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == content


# The worker closes its database connection after a failed task, as in
# production: outside a test transaction.
@pytest.mark.django_db(transaction=True)
def test_an_invoice_pdf_task_with_the_storage_down_is_tried_again_later(
    on_s3, settings, s3_endpoint, parent, run_worker
):
    billing_data.payer(parent.family)
    invoice = billing_data.issued(parent.family, lines=[("Piano – Hugo", "100.00")])
    DBTaskResult.objects.all().delete()
    saved = settings.STORAGES
    settings.STORAGES = {**saved, **s3_storages(f"http://127.0.0.1:{closed_port()}")}
    render_invoice_pdf.enqueue(invoice.pk, "http://testserver")
    run_worker()
    failed = DBTaskResult.objects.get(status="FAILED")
    again = DBTaskResult.objects.get(status="READY")
    assert again.task_path == failed.task_path
    assert again.args_kwargs["kwargs"]["attempt"] == 2
    assert again.run_after > timezone.now()
    assert not Invoice.objects.get(pk=invoice.pk).pdf

    settings.STORAGES = saved  # The storage is back.
    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=True):
        run_worker()
    invoice.refresh_from_db()
    assert invoice.pdf
    assert keys(on_s3, "documents/") == [f"documents/{invoice.pdf.name}"]
    assert DBTaskResult.objects.get(pk=again.pk).status == "SUCCESSFUL"


def test_storage_backend_is_checked():
    with pytest.raises(ImproperlyConfigured, match="STORAGE_BACKEND"):
        storages_from_environment({"STORAGE_BACKEND": "ftp"}, None, None)
    with pytest.raises(ImproperlyConfigured, match="S3_BUCKET"):
        storages_from_environment({"STORAGE_BACKEND": "s3"}, None, None)


def test_the_deployment_check_stays_clean_with_object_storage():
    # As `make check-deploy`, with the object storage; not the tests' settings.
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "0",
        "SECRET_KEY": "k3y-" + "x9Q!" * 12,
        "ALLOWED_HOSTS": "extranet.example.org",
        "REDIS_URL": "redis://127.0.0.1:6379/4",
        "EMAIL_HOST": "smtp.example.org",
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": "https://objects.example.org",
        **CREDENTIALS,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
