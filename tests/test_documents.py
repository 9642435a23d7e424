"""The documents app: one answer to "which documents are owed", judged the
same in Python (pages) and in SQL (the secretariat's filters), and uploaded
images that keep their pixels only."""

import io
import itertools
import struct
from datetime import date, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.utils import timezone
from PIL import Image, PngImagePlugin

from documents.checklist import next_year, this_year
from documents.models import DocumentKind
from documents.uploads import check_document
from families.documents import family_checklist, family_owes
from families.models import Family, FamilyDocument
from reenrollment import queries
from reenrollment.models import ReenrollmentRequest, Wish
from students.models import StudentDocument
from students.queries import student_checklist

from . import reenrollment_data, students_data
from .conftest import make_parent

Status = FamilyDocument.Status
PAYLOAD = b"<script>alert('hidden')</script>"


# Validity: the rule the database filters use is the rule of the pages.


@pytest.mark.parametrize(
    "validity, months",
    [
        (DocumentKind.Validity.MONTHS, 1),
        (DocumentKind.Validity.MONTHS, 3),
        (DocumentKind.Validity.MONTHS, 6),
        (DocumentKind.Validity.MONTHS, 12),
        (DocumentKind.Validity.SCHOOL_YEAR, 3),
        (DocumentKind.Validity.PERMANENT, 3),
    ],
)
def test_valid_since_is_exactly_the_expiry_rule(validity, months):
    kind = DocumentKind(validity=validity, validity_months=months)
    uploads = [date(2026, 1, 1) + timedelta(days=n) for n in range(0, 800, 1)]
    # Month ends and leap years are where "N months later" is tricky.
    for day in [
        date(2027, 2, 28),
        date(2028, 2, 29),
        date(2027, 3, 31),
        date(2027, 8, 31),
        date(2027, 9, 1),
        date(2027, 5, 30),
        date(2027, 12, 31),
    ]:
        since = kind.valid_since(day)
        for uploaded in uploads:
            expiry = kind.expires_on(uploaded)
            expired = expiry is not None and day >= expiry
            assert expired == (since is not None and uploaded < since), (day, uploaded)


# Families: the family page and the admin filter agree.


def family_document(family, kind, uploaded_at, status=Status.ACCEPTED):
    return FamilyDocument.objects.create(
        family=family,
        kind=kind,
        file="x.pdf",
        original_name="x.pdf",
        content_type="application/pdf",
        size=1,
        status=status,
        uploaded_at=uploaded_at,
    )


def owes_on_page(family, period=None):
    return any(item.needs_upload for item in family_checklist(family, period))


def test_the_family_filter_in_sql_agrees_with_the_family_page(combs, ploufragan):
    now = timezone.now()
    proof = DocumentKind.objects.create(
        site=combs,
        name="Justificatif de domicile",
        required=True,
        proves_address=True,
        validity=DocumentKind.Validity.MONTHS,
        validity_months=3,
    )
    insurance = DocumentKind.objects.create(
        site=combs, name="Assurance", required=True, validity=DocumentKind.Validity.SCHOOL_YEAR
    )
    optional = DocumentKind.objects.create(site=combs, name="Photo")
    DocumentKind.objects.create(site=combs, name="Ancienne pièce", required=True, is_active=False)
    DocumentKind.objects.create(site=ploufragan, name="Autre site", required=True)
    ages = [None, timedelta(days=10), timedelta(days=60), timedelta(days=120), timedelta(days=400)]
    statuses = [Status.ACCEPTED, Status.PENDING, Status.REFUSED]
    expected = {}
    scenarios = itertools.product(ages, statuses, [None, timedelta(days=30)], [False, True])
    for n, (age, status, moved, refused_newer) in enumerate(scenarios):
        family = Family.objects.create(site=combs, name=f"Famille {n}")
        if moved:
            Family.objects.filter(pk=family.pk).update(address_changed_at=now - moved)
            family.refresh_from_db()
        if age is not None:
            family_document(family, proof, now - age, status)
            family_document(family, insurance, now - age, status)
            family_document(family, optional, now - age, Status.REFUSED)
        if refused_newer:
            # An older accepted document does not make up for a newer refusal.
            family_document(family, insurance, now - timedelta(days=500))
            family_document(family, insurance, now, Status.REFUSED)
        expected[family.pk] = owes_on_page(family)
    assert set(expected.values()) == {True, False}
    owing = set(
        Family.objects.filter(site=combs).filter(family_owes()).values_list("pk", flat=True)
    )
    assert owing == {pk for pk, owes in expected.items() if owes}


def test_a_family_with_everything_valid_owes_nothing(combs):
    family = Family.objects.create(site=combs, name="Martin")
    kind = DocumentKind.objects.create(
        site=combs, name="Assurance", required=True, validity=DocumentKind.Validity.SCHOOL_YEAR
    )
    family_document(family, kind, timezone.now())
    assert not owes_on_page(family)
    assert not Family.objects.filter(family_owes()).exists()
    # On the first day of the next school year the same document is owed again.
    with time_machine.travel(date(timezone.localdate().year + 1, 9, 1), tick=False):
        assert owes_on_page(family)
        assert Family.objects.filter(family_owes()).exists()


# Re-enrollment: the step page, the admin's view of a request and its filter
# agree, and they all ask the site's required kinds.


@pytest.fixture
def data(combs):
    return reenrollment_data.campaign(combs)


def request_owes_on_page(request):
    family_items, student_items = queries.request_checklists(request)
    return any(item.needs_upload for item in family_items + student_items)


def test_the_request_filter_in_sql_agrees_with_the_request_pages(combs, data):
    courses, campaign = data["courses"], data["campaign"]
    now = timezone.now()
    expected = {}
    cases = itertools.product(
        [(), (courses[2],), (courses[0],)],  # dance this year, or not
        [None, "continue_dance", "stop_dance", "new_dance"],
        # Family documents: since the campaign opened, just before, long ago.
        [None, now - timedelta(hours=1), now - timedelta(days=3), now - timedelta(days=400)],
        [None, "before", "since"],  # the dance certificate
    )
    for n, (enrolled, wish, family_docs, certificate) in enumerate(cases):
        user = make_parent(combs, username=f"p{n}", family_name=f"Famille {n}")
        student = students_data.student(user.family, f"Élève {n}", courses=enrolled)
        request = ReenrollmentRequest.objects.create(campaign=campaign, student=student)
        if wish:
            choice = {
                "continue_dance": Wish.Choice.CONTINUE,
                "stop_dance": Wish.Choice.STOP,
                "new_dance": Wish.Choice.NEW,
            }[wish]
            Wish.objects.create(request=request, choice=choice, discipline=data["dance"])
        if family_docs:
            family_document(user.family, data["proof"], family_docs)
            family_document(user.family, data["insurance"], family_docs)
        if certificate:
            uploaded = campaign.opens_at + (
                timedelta(hours=1) if certificate == "since" else -timedelta(hours=2)
            )
            StudentDocument.objects.create(
                student=student,
                kind=data["medical"],
                file="x.pdf",
                original_name="x.pdf",
                content_type="application/pdf",
                size=1,
                status=Status.ACCEPTED,
                uploaded_at=uploaded,
            )
        expected[request.pk] = request_owes_on_page(request)
    assert set(expected.values()) == {True, False}
    owing = set(queries.requests_missing_documents(ReenrollmentRequest.objects.all()))
    assert owing == {pk for pk, owes in expected.items() if owes}


def test_a_kind_required_by_the_site_is_asked_at_re_enrollment_too(parent, data):
    """The re-enrollment step used to ask only the campaign's kinds."""
    civil = DocumentKind.objects.create(
        site=parent.family.site, name="Attestation CAF", required=True
    )
    lea = students_data.student(parent.family, "Léa")
    request = ReenrollmentRequest.objects.create(campaign=data["campaign"], student=lea)
    family_items, _ = queries.request_checklists(request)
    assert civil in [item.kind for item in family_items]
    assert civil in [item.kind for item in family_checklist(parent.family)]


def test_before_any_wish_this_years_disciplines_decide(parent, data):
    """The admin's view of a request counted no discipline before the family
    chose its wishes; the step page counted this year's."""
    lea = students_data.student(parent.family, "Léa", courses=[data["courses"][2]])
    request = ReenrollmentRequest.objects.create(campaign=data["campaign"], student=lea)
    _, student_items = queries.request_checklists(request)
    assert [item.kind for item in student_items] == [data["medical"]]
    assert student_checklist(lea, {data["dance"].pk})[0].kind == data["medical"]


def test_next_year_period_counts_documents_sent_since_the_campaign_opened(data):
    period = next_year(data["campaign"])
    assert period.next_year_cutoff <= data["campaign"].opens_at
    assert this_year().next_year_cutoff is None


def test_extra_kinds_are_added_not_substituted(combs):
    kind = DocumentKind.objects.create(site=combs, name="Extra")
    family = Family.objects.create(site=combs, name="Martin")
    assert family_checklist(family, extra=Q(pk=kind.pk))[0].kind == kind
    assert not family_checklist(family, extra=Q(pk__in=[]))


# Uploaded images carry their pixels only.


def jpeg_with_everything():
    picture = Image.new("RGB", (40, 30), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010E] = PAYLOAD.decode()  # ImageDescription
    buffer = io.BytesIO()
    picture.save(
        buffer,
        "JPEG",
        exif=exif.tobytes(),
        comment=PAYLOAD,
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + PAYLOAD + b"</x:xmpmeta>",
        icc_profile=b"",
    )
    data = buffer.getvalue()
    # An IPTC block (APP13, Photoshop 3.0) right after the start of image.
    iptc = (
        b"Photoshop 3.0\x008BIM\x04\x04\x00\x00"
        + struct.pack(">I", len(PAYLOAD) + 5)
        + b"\x1c\x02\x78"
        + struct.pack(">H", len(PAYLOAD))
        + PAYLOAD
    )
    segment = b"\xff\xed" + struct.pack(">H", len(iptc) + 2) + iptc
    return data[:2] + segment + data[2:]


def png_with_everything():
    picture = Image.new("RGB", (40, 30), (10, 120, 200))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", PAYLOAD.decode())
    info.add_text("Compressed", PAYLOAD.decode(), zip=True)
    info.add_itxt("International", PAYLOAD.decode(), lang="fr")
    exif = Image.Exif()
    exif[0x010E] = PAYLOAD.decode()
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", pnginfo=info, exif=exif.tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name, make", [("scan.jpg", jpeg_with_everything), ("scan.png", png_with_everything)]
)
def test_re_encoded_images_keep_the_pixels_only(name, make):
    original = make()
    assert original.count(PAYLOAD) >= 3 or b"Compressed" in original  # the payloads are there
    checked = check_document(SimpleUploadedFile(name, original, "image/jpeg"))
    stored = checked.content.read()
    assert PAYLOAD not in stored
    assert b"adobe:ns:meta" not in stored and b"Photoshop 3.0" not in stored
    for chunk in [b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"Exif\x00"]:
        assert chunk not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert (
            set(image.info)
            - {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "icc_profile"}
            == set()
        )
        assert image.getpixel((5, 5))[2] > 150  # the picture itself is there


def test_the_colour_profile_may_stay():
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 0, 0)).save(buffer, "JPEG", icc_profile=profile)
    checked = check_document(SimpleUploadedFile("p.jpg", buffer.getvalue(), "image/jpeg"))
    with Image.open(checked.content) as image:
        assert image.info.get("icc_profile") == profile
