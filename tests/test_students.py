import io
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from dateutil.rrule import rrulestr
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from icalendar import Calendar
from pypdf import PdfReader

from students.models import CalendarFeed, Enrollment, SchoolYear, Student, StudentDocument

from . import clock, factories, files
from .factories import make_parent
from .html_fields import assert_error_next_to_field

PARIS = clock.PARIS
THIS_YEAR = clock.year_name(clock.THIS_YEAR)


@pytest.fixture
def year(combs):
    return factories.school_year(combs)


@pytest.fixture
def structure(combs, year):
    return factories.structure(combs, year)


@pytest.fixture
def lea(parent, structure):
    c = structure["courses"]
    return factories.student(parent.family, "Léa", courses=[c[0], c[2]])


@pytest.fixture
def hugo(parent, structure):
    c = structure["courses"]
    return factories.student(
        parent.family, "Hugo", courses=[c[1], c[0]], birth_date=date(2017, 10, 2), sex="M"
    )


@pytest.fixture
def stranger_student(other_parent, ploufragan):
    year = factories.school_year(ploufragan)
    other = factories.structure(ploufragan, year)
    return factories.student(other_parent.family, "Yann", courses=[other["courses"][2]])


def student_urls(student):
    return [
        reverse("students:detail", args=[student.pk]),
        reverse("students:courses", args=[student.pk]),
        reverse("students:history", args=[student.pk]),
        reverse("students:form", args=[student.pk, "certificat-medical"]),
        reverse("students:form", args=[student.pk, "attestation-sur-l-honneur"]),
    ]


def test_owner_sees_every_student_page(parent_client, lea):
    for url in student_urls(lea) + [reverse("students:list"), reverse("students:timetable")]:
        assert parent_client.get(url).status_code == 200, url


def test_strangers_get_404_or_login(parent_client, lea, stranger_student, combs):
    for url in student_urls(stranger_student):
        assert parent_client.get(url).status_code == 404, url
    neighbour = make_parent(combs, username="voisin", family_name="Voisin")
    client = Client()
    client.force_login(neighbour)
    for url in student_urls(lea):
        assert client.get(url).status_code == 404, url
    for url in student_urls(lea):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/connexion/")
    assert parent_client.get(reverse("students:form", args=[lea.pk, "autre"])).status_code == 404


def test_strangers_cannot_upload_or_download_student_documents(
    parent_client, lea, structure, stranger_student, other_parent
):
    upload = {
        "kind": structure["medical"].pk,
        "file": SimpleUploadedFile("c.pdf", files.pdf(), "application/pdf"),
    }
    assert (
        parent_client.post(
            reverse("students:document_upload", args=[stranger_student.pk]), upload
        ).status_code
        == 404
    )
    parent_client.post(
        reverse("students:document_upload", args=[lea.pk]),
        {**upload, "file": SimpleUploadedFile("c.pdf", files.pdf())},
    )
    document = StudentDocument.objects.get(student=lea)
    stranger = Client()
    stranger.force_login(other_parent)
    for url in [
        reverse("students:document", args=[lea.pk, document.pk]),
        reverse("students:document", args=[stranger_student.pk, document.pk]),
    ]:
        assert stranger.get(url).status_code == 404
    assert Client().get(reverse("students:document", args=[lea.pk, document.pk])).status_code == 302


def test_list_shows_own_students_and_their_disciplines(parent_client, lea, hugo, stranger_student):
    page = parent_client.get(reverse("students:list")).text
    assert "Léa" in page and "Hugo" in page and "Danse classique" in page
    assert "Yann" not in page


def student_form_data(student, **changes):
    data = {
        "version": student.version,
        "email": student.email,
        "mobile_phone": "",
        "school": student.school,
        "school_class": student.school_class,
        "remarks": student.remarks,
    }
    data.update(changes)
    return data


@pytest.mark.django_db(transaction=True)
def test_editing_a_student_is_acknowledged_and_kept_in_history(parent, lea, run_worker):
    parent.family.reference_email = "famille@example.org"
    parent.family.save()
    client = Client()
    client.force_login(parent)
    response = client.post(
        reverse("students:detail", args=[lea.pk]),
        student_form_data(
            lea,
            school="Collège Jean Moulin",
            image_rights="on",
            last_name="Pirate",
            birth_date="2000-01-01",
        ),
    )
    assert response["Location"] == reverse("families:changes_saved")
    page = client.get(response["Location"])
    assert "Éléments modifiés" in page.text
    assert reverse("students:detail", args=[lea.pk]) in page.text
    lea.refresh_from_db()
    assert lea.school == "Collège Jean Moulin" and lea.image_rights
    assert lea.last_name == "Martin" and lea.birth_date == date(2015, 3, 12)  # Read-only.
    run_worker()
    lines = [line for line in mail.outbox[0].body.splitlines() if line.startswith("- ")]
    assert lines == [
        "- Établissement scolaire\u00a0: (vide) → Collège Jean Moulin",
        "- Droit à l’image\u00a0: non → oui",
    ]
    assert lea.history.first().history_user == parent


@pytest.mark.parametrize(
    "field, value",
    [
        ("email", "pas-une-adresse"),
        ("mobile_phone", "12"),
        ("school", "x" * 151),
        ("remarks", "y" * 2001),
    ],
)
def test_bad_student_values_are_refused(parent_client, lea, field, value):
    response = parent_client.post(
        reverse("students:detail", args=[lea.pk]), student_form_data(lea, **{field: value})
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert f'id="id_{field}_error"' in response.text
    assert_error_next_to_field(response.text, field)


def test_stale_student_edit_is_refused(parent, lea):
    first, second = Client(), Client()
    first.force_login(parent)
    second.force_login(parent)
    data = student_form_data(lea)
    first.post(reverse("students:detail", args=[lea.pk]), {**data, "school": "A"})
    response = second.post(reverse("students:detail", args=[lea.pk]), {**data, "school": "B"})
    assert response.status_code == 409
    lea.refresh_from_db()
    assert lea.school == "A"


def test_courses_page(parent_client, lea):
    page = parent_client.get(reverse("students:courses", args=[lea.pk])).text
    for text in [
        "Formation musicale",
        "Danse classique",
        "Hélène Rivière",
        "Salle Debussy",
        "17:00–18:00",
        "Mercredi",
        "Samedi",
        "Dandelot",
    ]:
        assert text in page, text


def test_week_view_gathers_the_family(during_lessons, parent_client, lea, hugo):
    page = parent_client.get(reverse("students:timetable")).text
    wednesday = page.index("Mercredi")
    saturday = page.index("Samedi")
    assert wednesday < page.index("14:00–14:30") < page.index("17:00–18:00") < saturday
    assert page.count("Formation musicale") == 2


def test_history_newest_year_first(parent_client, parent, lea, combs, structure):
    for start_year, result in [
        (clock.THIS_YEAR - 2, "Admise en 1re année"),
        (clock.THIS_YEAR - 1, "Admise en 2e année"),
    ]:
        past = factories.school_year(combs, start_year)
        course = structure["courses"][0]
        old = type(course).objects.create(
            site=combs,
            school_year=past,
            discipline=structure["fm"],
            weekday=2,
            start_time=course.start_time,
            end_time=course.end_time,
        )
        Enrollment.objects.create(student=lea, course=old, level="Cycle 1", result=result)
    page = parent_client.get(reverse("students:history", args=[lea.pk])).text
    assert page.index(clock.year_name(clock.THIS_YEAR - 1)) < page.index(
        clock.year_name(clock.THIS_YEAR - 2)
    )
    assert "Admise en 2e année" in page and THIS_YEAR not in page


def test_between_two_years_the_next_one_is_shown(parent_client, parent, lea, combs, structure):
    past = factories.school_year(combs, clock.THIS_YEAR - 1)
    old = type(structure["courses"][0]).objects.create(
        site=combs,
        school_year=past,
        discipline=structure["piano"],
        weekday=1,
        start_time=structure["courses"][0].start_time,
        end_time=structure["courses"][0].end_time,
    )
    Enrollment.objects.create(student=lea, course=old, result="Admise")
    with time_machine.travel(datetime(clock.THIS_YEAR, 7, 10, 10, tzinfo=PARIS)):
        parent_client.force_login(parent)  # That day may be weeks ahead: a fresh session.
        courses = parent_client.get(reverse("students:courses", args=[lea.pk])).text
        assert "Danse classique" in courses and THIS_YEAR in courses
        history = parent_client.get(reverse("students:history", args=[lea.pk])).text
        assert past.name in history and THIS_YEAR not in history
        assert (
            "Certificat médical à imprimer"
            in parent_client.get(reverse("students:detail", args=[lea.pk])).text
        )


def test_dance_requires_the_medical_document(parent_client, lea, hugo, structure):
    page = parent_client.get(reverse("students:detail", args=[lea.pk])).text
    assert "Certificat médical (danse)" in page and "Manquant" in page
    assert (
        "Certificat médical (danse)"
        not in parent_client.get(reverse("students:detail", args=[hugo.pk])).text.split(
            "Envoyer un document"
        )[0]
    )
    response = parent_client.post(
        reverse("students:document_upload", args=[lea.pk]),
        {
            "kind": structure["medical"].pk,
            "file": SimpleUploadedFile("certificat.pdf", files.pdf(), "application/pdf"),
        },
    )
    assert response.status_code == 302
    document = StudentDocument.objects.get(student=lea)
    assert "À valider" in parent_client.get(reverse("students:detail", args=[lea.pk])).text
    download = reverse("students:document", args=[lea.pk, document.pk])
    assert parent_client.get(download).status_code == 200
    assert (
        parent_client.get(reverse("students:document", args=[hugo.pk, document.pk])).status_code
        == 404
    )


def test_student_upload_refuses_hostile_files(parent_client, lea, structure):
    response = parent_client.post(
        reverse("students:document_upload", args=[lea.pk]),
        {
            "kind": structure["medical"].pk,
            "file": SimpleUploadedFile("certificat.pdf", files.HTML_AS_PDF, "application/pdf"),
        },
    )
    assert response.status_code == 400
    assert not StudentDocument.objects.exists()


def pdf_text(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.mark.parametrize(
    "form_name, title",
    [("certificat-medical", "Certificat médical"), ("attestation-sur-l-honneur", "Attestation")],
)
def test_printable_forms_are_prefilled(parent_client, lea, combs, form_name, title):
    from django.core.files.uploadedfile import SimpleUploadedFile as Upload

    combs.logo = Upload("logo.png", files.image("PNG"), "image/png")
    combs.save()
    response = parent_client.get(reverse("students:form", args=[lea.pk, form_name]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"].startswith("attachment")
    text = " ".join(pdf_text(response).split())
    for expected in [
        title,
        "Martin",
        "Léa",
        "12/03/2015",
        "Danse classique",
        THIS_YEAR,
        "Conservatoire Maurice Ohana",
    ]:
        assert expected in text, expected
    reader = PdfReader(io.BytesIO(response.content))
    assert reader.pages[0].images, "the site's logo is on the form"


# iCalendar subscription.


def make_feed(parent_client):
    parent_client.post(reverse("students:calendar_renew"))
    return CalendarFeed.objects.get()


def test_calendar_feed_gives_weekly_events_without_closures(parent_client, lea, hugo, year):
    feed = make_feed(parent_client)
    response = Client().get(reverse("calendar_feed", args=[feed.token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == Enrollment.objects.count() == 4
    fm = next(e for e in events if str(e["summary"]) == "Léa – Formation musicale")
    start = fm.decoded("dtstart")
    first_wednesday = year.start_date + timedelta(days=(2 - year.start_date.weekday()) % 7)
    assert start == datetime.combine(first_wednesday, time(17), tzinfo=PARIS)
    assert fm["rrule"]["FREQ"] == ["WEEKLY"]
    rule = rrulestr(fm["rrule"].to_ical().decode(), dtstart=start)
    excluded = {d.dt for exdate in [fm["exdate"]] for d in exdate.dts}
    occurrences = [o for o in rule if o not in excluded]
    # Same local time before and after the change to winter time (end of October).
    assert {o.astimezone(PARIS).time() for o in occurrences} == {start.time()}
    assert [o.astimezone(PARIS).utcoffset() for o in occurrences[:2]] == [timedelta(hours=2)] * 2
    assert occurrences[-1].astimezone(PARIS).utcoffset() == timedelta(hours=2)
    assert any(o.astimezone(PARIS).utcoffset() == timedelta(hours=1) for o in occurrences)
    # The Toussaint holidays run from a Saturday to a Sunday.
    holidays = year.closures.get()
    closed = [o for o in occurrences if holidays.start_date <= o.date() <= holidays.end_date]
    assert closed == []
    assert holidays.start_date - timedelta(days=3) in {o.date() for o in occurrences}
    assert holidays.end_date + timedelta(days=3) in {o.date() for o in occurrences}
    assert max(o.date() for o in occurrences) <= year.end_date
    assert calendar.walk("VTIMEZONE"), "the time zone is described in the feed"
    assert str(fm["uid"]).endswith("@testserver")
    first_closed = holidays.start_date + timedelta(days=4)
    assert fm["exdate"].to_ical().startswith(f"{first_closed:%Y%m%d}T170000".encode())
    assert fm["exdate"].params["TZID"] == "Europe/Paris"


def test_calendar_token_is_unguessable_and_renewable(parent_client, lea):
    feed = make_feed(parent_client)
    old = feed.token
    assert len(old) >= 40
    assert Client().get(reverse("calendar_feed", args=["wrong-token"])).status_code == 404
    parent_client.post(reverse("students:calendar_renew"))
    feed.refresh_from_db()
    assert feed.token != old
    assert Client().get(reverse("calendar_feed", args=[old])).status_code == 404
    assert Client().get(reverse("calendar_feed", args=[feed.token])).status_code == 200
    assert feed.token in parent_client.get(reverse("students:timetable")).text


def test_calendar_feed_holds_only_its_family(parent_client, lea, stranger_student, other_parent):
    other = Client()
    other.force_login(other_parent)
    other.post(reverse("students:calendar_renew"))
    feed = CalendarFeed.objects.get(family=other_parent.family)
    body = Client().get(reverse("calendar_feed", args=[feed.token])).content.decode()
    assert "Yann" in body and "Léa" not in body


def test_renew_is_post_only(parent_client):
    assert parent_client.get(reverse("students:calendar_renew")).status_code == 405


# Query counts: the same for 1 and for 5 students, each in 4 courses.


def count_queries(parent, structure, students):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    site = parent.family.site
    past = SchoolYear.objects.filter(
        site=site, name=clock.year_name(clock.THIS_YEAR - 1)
    ).first() or factories.school_year(site, clock.THIS_YEAR - 1)
    old = type(structure["courses"][0]).objects.get_or_create(
        site=site,
        school_year=past,
        discipline=structure["fm"],
        weekday=3,
        start_time=structure["courses"][0].start_time,
        end_time=structure["courses"][0].end_time,
    )[0]
    for n in range(students):
        student = factories.student(
            parent.family, f"Élève {n}", courses=[*structure["courses"], old]
        )
        StudentDocument.objects.create(
            student=student,
            kind=structure["medical"],
            file="x.pdf",
            original_name="x.pdf",
            content_type="application/pdf",
            size=1,
        )
    first = parent.family.students.order_by("pk").first()
    client = Client()
    client.force_login(parent)
    counts = {}
    for url in [
        reverse("students:list"),
        reverse("students:timetable"),
        reverse("students:detail", args=[first.pk]),
        reverse("students:courses", args=[first.pk]),
        reverse("students:history", args=[first.pk]),
    ]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        # Without the database cache's own (the tests' cache; production's is Redis).
        sql = [q["sql"] for q in queries.captured_queries]
        counts[url.replace(str(first.pk), "<pk>")] = sum(
            "extranet_cache" not in q and "SAVEPOINT" not in q for q in sql
        )
    Student.objects.filter(family=parent.family).delete()
    return counts


@pytest.mark.parametrize("days_after_the_start", [60, -30], ids=["in-year", "summer"])
def test_query_counts_are_bounded_and_do_not_grow(parent, structure, year, days_after_the_start):
    day = year.start_date + timedelta(days=days_after_the_start)
    with time_machine.travel(datetime.combine(day, time(10), tzinfo=PARIS)):
        one = count_queries(parent, structure, 1)
        five = count_queries(parent, structure, 5)
    assert one == five
    assert max(one.values()) <= 7, one


def test_pdf_fetcher_refuses_files_outside_static_and_media():
    from extranet.pdf import STATIC_DIR, LocalFilesFetcher

    fetcher = LocalFilesFetcher()
    for url in [
        (STATIC_DIR / ".." / "pyproject.toml").as_uri(),
        STATIC_DIR.as_uri() + "/%2e%2e/pyproject.toml",
        "http://127.0.0.1/",
        "file:///etc/passwd",
    ]:
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert fetcher.fetch((STATIC_DIR / "css" / "extranet.css").as_uri())
