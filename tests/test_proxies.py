"""Behind a proxy: forwarded headers believed from TRUSTED_PROXIES only, and
private documents handed over to nginx (X-Accel-Redirect) after the check.
The real nginx in front of real nodes: tests/test_cluster.py."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse

from documents.models import DocumentKind
from extranet.proxies import TrustedProxyMiddleware
from extranet.throttling import client_address
from families.models import FamilyDocument

from . import files
from .factories import make_parent, signed_in

PROXY = "10.1.2.3"
CLIENT = "198.51.100.7"


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.1.0.0/16"]
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


def seen(remote_addr, **headers):
    """The request as the views get it, after the middleware."""
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)
    TrustedProxyMiddleware(lambda request: None)(request)
    return request


def test_the_address_a_trusted_proxy_forwards_is_the_client(behind_proxy):
    request = seen(PROXY, HTTP_X_FORWARDED_FOR=f"203.0.113.1, {CLIENT}")
    assert client_address(request) == CLIENT
    assert request.META["HTTP_X_FORWARDED_FOR"] == f"203.0.113.1, {CLIENT}"


def test_anyone_else_forwards_nothing(behind_proxy):
    request = seen(
        CLIENT,
        HTTP_X_FORWARDED_FOR="203.0.113.1",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="evil.example",
        HTTP_FORWARDED="for=203.0.113.1",
    )
    assert client_address(request) == CLIENT
    assert not request.is_secure()
    for name in ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST", "HTTP_FORWARDED"):
        assert name not in request.META


def test_the_throttle_ignores_the_header_even_without_the_middleware(behind_proxy):
    request = RequestFactory().get("/", REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client_address(request) == CLIENT


def test_by_default_only_this_machine_is_a_trusted_proxy(settings):
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert settings.TRUSTED_PROXIES == ["127.0.0.1", "::1"]
    assert client_address(seen("127.0.0.1", HTTP_X_FORWARDED_FOR=CLIENT)) == CLIENT
    assert client_address(seen(PROXY, HTTP_X_FORWARDED_FOR=CLIENT)) == PROXY


def test_a_wrong_trusted_proxy_is_refused(settings):
    settings.TRUSTED_PROXIES = ["not-an-address"]
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        seen(PROXY)


@pytest.mark.django_db
def test_https_is_believed_only_from_a_trusted_proxy(behind_proxy):
    behind_proxy.SECURE_SSL_REDIRECT = True
    url = reverse("login")
    claimed = Client().get(url, REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_PROTO="https")
    assert claimed.status_code == 301
    assert claimed["Location"].startswith("https://")
    forwarded = Client().get(url, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https")
    assert forwarded.status_code == 200


@pytest.fixture
def uploaded(parent_client, parent):
    kind = DocumentKind.objects.create(site=parent.site, name="Justificatif de domicile")
    response = parent_client.post(
        reverse("families:document_upload"),
        {"kind": kind.pk, "file": SimpleUploadedFile("avis.pdf", files.pdf(), "application/pdf")},
    )
    assert response.status_code == 302
    return FamilyDocument.objects.get(family=parent.family)


def test_a_document_is_handed_to_nginx_after_the_check(settings, parent_client, uploaded):
    settings.PRIVATE_FILES_ACCEL_PREFIX = "/_protected/"
    response = parent_client.get(uploaded.get_download_path())
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/_protected/{uploaded.file.name}"
    assert response.content == b""
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="avis.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"

    stranger = signed_in(make_parent(uploaded.family.site, "other", "Durand"))
    refused = stranger.get(uploaded.get_download_path())
    assert refused.status_code == 404
    assert not refused.has_header("X-Accel-Redirect")


def test_without_nginx_the_application_sends_the_file(settings, parent_client, uploaded):
    settings.PRIVATE_FILES_ACCEL_PREFIX = ""
    response = parent_client.get(uploaded.get_download_path())
    assert not response.has_header("X-Accel-Redirect")
    assert b"".join(response.streaming_content) == uploaded.file.open("rb").read()
