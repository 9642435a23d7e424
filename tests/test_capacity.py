"""Course capacity: shown with the students in the course admin; a
re-enrollment validated into a full course warns and offers the waiting list
or an explicit enrollment beyond the capacity, never a silent one; each
course's waiting list in request order."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reenrollment import waiting, workflow
from reenrollment.models import ReenrollmentRequest, Wish
from students import capacity
from students.models import Course, Enrollment

from . import clock, factories
from .factories import make_parent, student
from .test_reenrollment import decide, send, staff_client

Status = ReenrollmentRequest.Status
FR = {"HTTP_ACCEPT_LANGUAGE": "fr"}
WAITING_LISTS = reverse("admin:reenrollment_waiting_lists")
FULL_DANCE = "Le cours Danse classique – Initiation 2 (samedi 10:00) est complet (1/1)."


@pytest.fixture
def data(combs):
    return factories.campaign(combs)


@pytest.fixture
def lea(parent, data):
    """Formation musicale and dance this year: continues both."""
    return student(parent.family, "Léa", courses=[data["courses"][0], data["courses"][2]])


def dancer(data, site, name, courses=None):
    """A child of another family, in `courses` (next year's dance class by default)."""
    parent = make_parent(site, username=name.lower(), family_name=name)
    child = student(parent.family, "Jade", courses=courses or [data["next"]["dance"]])
    client = Client()
    client.force_login(parent)
    return child, client


def full_dance(data, combs, places=1):
    """Next year's dance class with `places` places, all taken."""
    dance = data["next"]["dance"]
    dance.capacity = places
    dance.save()
    for n in range(places):
        dancer(data, combs, f"Danseuse{n}")
    return dance


def change(request):
    return reverse("admin:reenrollment_reenrollmentrequest_change", args=[request.pk])


def validate(staff, request, data, follow=False, **extra):
    """Post a validation (as test_reenrollment.decide does), by default of
    next year's formation musicale and dance."""
    seen = ReenrollmentRequest.objects.get(pk=request.pk).updated_at.isoformat()
    values = {
        "decision": Status.VALIDATED,
        "assigned_courses": [data["next"]["fm2"].pk, data["next"]["dance"].pk],
        "validate_incomplete": "on",  # The documents are not the point here.
        "missing_note": "",
        "refusal_reason": "",
        "seen": seen,
        **extra,
    }
    return staff.post(change(request), values, follow=follow)


def next_year_courses(student, data):
    return set(
        Enrollment.objects.filter(
            student=student, course__school_year=data["next_year"]
        ).values_list("course__discipline__name", flat=True)
    )


def enrolled(course):
    return capacity.with_enrolled(Course.objects.filter(pk=course.pk)).get().enrolled


# The course admin.


def test_the_course_admin_shows_students_and_capacity(data, combs):
    full_dance(data, combs, places=2)
    staff, _ = staff_client(combs)
    changelist = staff.get(reverse("admin:students_course_changelist"), **FR)
    assert "Élèves / capacité" in changelist.text
    shown = {c.pk: capacity.describe(c) for c in changelist.context["cl"].result_list}
    assert shown[data["next"]["dance"].pk] == "2/2"
    assert shown[data["next"]["fm3"].pk] == "0"  # No limit.
    page = staff.get(reverse("admin:students_course_change", args=[data["next"]["dance"].pk]))
    assert page.context["adminform"].form.initial["capacity"] == 2
    assert "2/2" in page.text


def test_a_capacity_is_at_least_one(data):
    course = data["next"]["dance"]
    course.capacity = 0
    with pytest.raises(ValidationError) as error:
        course.full_clean()
    assert "capacity" in error.value.message_dict
    course.capacity = None  # No limit.
    course.full_clean()


def test_a_student_who_stopped_frees_his_place(data, combs):
    dance = full_dance(data, combs)
    assert capacity.full_courses([dance])
    # Stopping later in the year: the place is still taken today.
    Enrollment.objects.filter(course=dance).update(stops_on=data["next_year"].start_date)
    assert capacity.full_courses([dance])
    Enrollment.objects.filter(course=dance).update(stops_on=clock.TODAY - timedelta(days=1))
    assert capacity.full_courses([dance]) == []


# Validating a re-enrollment.


def test_validation_under_capacity_enrolls(parent_client, data, combs, lea):
    dance = full_dance(data, combs)
    dance.capacity = 2
    dance.save()
    request = send(parent_client, lea, data)
    staff, _ = staff_client(combs)
    assert validate(staff, request, data).status_code == 302
    assert next_year_courses(lea, data) == {"Formation musicale", "Danse classique"}
    assert enrolled(dance) == 2


def test_validation_over_capacity_warns_and_offers_the_waiting_list(
    parent_client, data, combs, lea
):
    dance = full_dance(data, combs)
    request = send(parent_client, lea, data)
    staff, _ = staff_client(combs)
    # Opening the request: the course proposed is full, said at once.
    page = staff.get(change(request), **FR)
    assert FULL_DANCE in [str(m) for m in page.context["messages"]][0]
    labels = dict(page.context["adminform"].form.fields["assigned_courses"].choices)
    assert any("1/1, complet" in str(label) for label in labels.values())
    # Validating: refused next to the choice, nobody enrolled.
    response = validate(staff, request, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["when_full"]
    assert errors[0].startswith(FULL_DANCE)
    assert "Mettez le souhait sur la liste d’attente, ou inscrivez l’élève quand même." in errors[0]
    assert ReenrollmentRequest.objects.get(pk=request.pk).status == Status.SUBMITTED
    assert next_year_courses(lea, data) == set()
    # On the waiting list: the other course enrolled, the wish waits with its rank.
    response = validate(staff, request, data, when_full=workflow.WAITING_LIST, follow=True)
    assert response.status_code == 200
    assert any(
        "Léa Martin est n°\u00a01 sur la liste d’attente du cours Danse classique" in str(m)
        for m in response.context["messages"]
    )
    request.refresh_from_db()
    assert request.status == Status.VALIDATED
    assert next_year_courses(lea, data) == {"Formation musicale"}
    assert list(request.assigned_courses.all()) == [data["next"]["fm2"]]
    wish = request.wishes.get(discipline=data["dance"])
    assert (wish.answer, wish.waiting_course) == (Wish.Answer.WAITING_LIST, dance)
    assert enrolled(dance) == 1
    # The family reads it on its tab.
    page = parent_client.get(reverse("reenrollment:index"), **FR).text
    assert "sur liste d’attente" in page


def test_forcing_enrolls_beyond_capacity(parent_client, data, combs, lea):
    dance = full_dance(data, combs)
    request = send(parent_client, lea, data)
    staff, _ = staff_client(combs)
    assert validate(staff, request, data, when_full=workflow.FORCE).status_code == 302
    assert next_year_courses(lea, data) == {"Formation musicale", "Danse classique"}
    assert enrolled(dance) == 2
    wish = ReenrollmentRequest.objects.get(pk=request.pk).wishes.get(discipline=data["dance"])
    assert wish.answer == Wish.Answer.GRANTED and wish.waiting_course is None


def test_the_workflow_itself_refuses_a_silent_enrollment(parent_client, data, combs, lea):
    full_dance(data, combs)
    request = send(parent_client, lea, data)
    courses = [data["next"]["fm2"], data["next"]["dance"]]
    with pytest.raises(workflow.NotAllowed) as error:
        workflow.validate(request, courses, None, "http://testserver")
    assert (error.value.field, error.value.code) == ("when_full", "full")
    assert next_year_courses(lea, data) == set()


def test_a_full_course_nobody_wished_cannot_be_waited_for(parent_client, data, combs, lea):
    piano = data["next"]["piano"]
    piano.capacity = 1
    piano.save()
    dancer(data, combs, "Pianiste", courses=[piano])
    request = send(parent_client, lea, data)
    staff, _ = staff_client(combs)
    response = decide(
        staff,
        request,
        decision=Status.VALIDATED,
        assigned_courses=[data["next"]["fm2"].pk, data["next"]["dance"].pk, piano.pk],
        validate_incomplete="on",
        when_full=workflow.WAITING_LIST,
    )
    assert "Aucun souhait de la famille n’attend le cours Piano" in str(
        response.context["adminform"].form.errors["when_full"]
    )
    assert next_year_courses(lea, data) == set()


def test_a_student_already_in_the_course_takes_no_new_place(parent_client, data, combs, lea):
    dance = full_dance(data, combs)
    Enrollment.objects.create(student=lea, course=dance)
    dance.capacity = 2
    dance.save()
    request = send(parent_client, lea, data)
    staff, _ = staff_client(combs)
    assert validate(staff, request, data).status_code == 302
    assert enrolled(dance) == 2


def test_the_bulk_validation_leaves_full_courses_for_a_look(parent_client, data, combs, lea):
    full_dance(data, combs)
    request = send(parent_client, lea, data)
    staff, _ = staff_client(combs)
    response = staff.post(
        reverse("admin:reenrollment_reenrollmentrequest_changelist"),
        {"action": "validate_simple", "_selected_action": [request.pk]},
        follow=True,
        **FR,
    )
    assert ReenrollmentRequest.objects.get(pk=request.pk).status == Status.SUBMITTED
    assert next_year_courses(lea, data) == set()
    assert "Léa Martin" in response.text


# The waiting lists.


def waitlisted(data, combs, staff, parent_client, lea):
    """Léa and then Jade (another family) sent their requests in that order;
    the secretary validates Jade first. Both wait for the dance class."""
    lea_request = send(parent_client, lea, data)
    jade, jade_client = dancer(data, combs, "Bernard", courses=[data["courses"][2]])
    jade_request = send(jade_client, jade, data)
    for request, courses in [(jade_request, [data["next"]["dance"]]), (lea_request, None)]:
        extra = {"assigned_courses": [c.pk for c in courses]} if courses else {}
        response = validate(staff, request, data, when_full=workflow.WAITING_LIST, **extra)
        assert response.status_code == 302
    return lea_request, jade_request


def test_the_waiting_list_is_in_request_order(parent_client, data, combs, lea):
    dance = full_dance(data, combs)
    staff, _ = staff_client(combs)
    lea_request, jade_request = waitlisted(data, combs, staff, parent_client, lea)
    page = staff.get(WAITING_LISTS, {"course": dance.pk}, **FR)
    assert page.status_code == 200
    (found,) = page.context["lists"]
    assert found.course == dance
    assert [(rank, wish.request_id) for rank, wish in found.entries] == [
        (1, lea_request.pk),
        (2, jade_request.pk),
    ]
    assert "1/1 places occupées" in page.text
    wish = lea_request.wishes.get(discipline=data["dance"])
    assert waiting.rank_of(wish) == 1
    # The list of all courses, from the requests' list.
    changelist = staff.get(reverse("admin:reenrollment_reenrollmentrequest_changelist")).text
    assert WAITING_LISTS in changelist
    assert len(staff.get(WAITING_LISTS).context["lists"]) == 1


def test_a_place_freed_up_goes_to_the_first_of_the_list(parent_client, data, combs, lea):
    dance = full_dance(data, combs)
    staff, _ = staff_client(combs)
    lea_request, jade_request = waitlisted(data, combs, staff, parent_client, lea)
    lea_wish = lea_request.wishes.get(discipline=data["dance"])
    enroll = reverse("admin:reenrollment_waiting_enroll", args=[lea_wish.pk])
    # Still full: refused, said.
    response = staff.post(enroll, follow=True, **FR)
    assert any(FULL_DANCE in str(m) for m in response.context["messages"])
    assert "Danse classique" not in next_year_courses(lea, data)
    assert staff.get(enroll).status_code == 405
    # A dancer leaves: Léa gets the place.
    Enrollment.objects.filter(course=dance).exclude(student__family__name="Martin").delete()
    response = staff.post(enroll, follow=True, **FR)
    assert "Danse classique" in next_year_courses(lea, data)
    lea_wish.refresh_from_db()
    assert lea_wish.answer == Wish.Answer.GRANTED
    assert dance in lea_request.assigned_courses.all()
    # Jade moves up.
    jade_wish = jade_request.wishes.get(discipline=data["dance"])
    assert waiting.rank_of(jade_wish) == 1
    (found,) = response.context["lists"]
    assert [wish.pk for _rank, wish in found.entries] == [jade_wish.pk]
    # Done once: a second click finds nothing left to do.
    response = staff.post(enroll, follow=True, **FR)
    assert response.status_code == 404


def test_the_waiting_lists_are_the_sites_own(parent_client, data, combs, lea, ploufragan):
    dance = full_dance(data, combs)
    staff, _ = staff_client(combs)
    lea_request, _jade = waitlisted(data, combs, staff, parent_client, lea)
    stranger, _ = staff_client(ploufragan, username="plouf")
    assert stranger.get(WAITING_LISTS).context["lists"] == []
    assert stranger.get(WAITING_LISTS, {"course": dance.pk}).status_code == 404
    wish = lea_request.wishes.get(discipline=data["dance"])
    enroll = reverse("admin:reenrollment_waiting_enroll", args=[wish.pk])
    assert stranger.post(enroll).status_code == 404
    assert "Danse classique" not in next_year_courses(lea, data)


def test_the_waiting_list_needs_the_permissions(parent_client, data, combs, lea):
    from .factories import signed_in, staff

    full_dance(data, combs)
    secretary, _ = staff_client(combs)
    lea_request, _jade = waitlisted(data, combs, secretary, parent_client, lea)
    wish = lea_request.wishes.get(discipline=data["dance"])
    nobody = signed_in(staff(combs, [], username="stagiaire"))
    assert nobody.get(WAITING_LISTS).status_code == 403
    reader = signed_in(staff(combs, ["view_reenrollmentrequest"], username="lecteur"))
    assert reader.get(WAITING_LISTS).status_code == 200
    enroll = reverse("admin:reenrollment_waiting_enroll", args=[wish.pk])
    assert reader.post(enroll).status_code == 403


def test_the_waiting_list_query_count_does_not_grow(data, combs):
    staff, _ = staff_client(combs)
    counts = []
    for size in [1, 3]:
        dance = data["next"]["dance"]
        for n in range(size):
            child, _client = dancer(data, combs, f"Attente{size}x{n}", courses=[data["courses"][2]])
            request = ReenrollmentRequest.objects.create(
                campaign=data["campaign"], student=child, status=Status.SUBMITTED
            )
            Wish.objects.create(
                request=request,
                choice=Wish.Choice.CONTINUE,
                discipline=data["dance"],
                answer=Wish.Answer.WAITING_LIST,
                waiting_course=dance,
            )
        with CaptureQueriesContext(connection) as queries:
            assert staff.get(WAITING_LISTS).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_pages_are_valid_html(parent_client, data, combs, lea, tmp_path):
    from .test_html_valid import validate as validate_html

    dance = full_dance(data, combs)
    staff, _ = staff_client(combs)
    request = send(parent_client, lea, data)
    pages = {
        "full-warning": staff.get(change(request)).text,
        "full-error": validate(staff, request, data).text,
    }
    waitlisted_again = validate(staff, request, data, when_full=workflow.WAITING_LIST)
    assert waitlisted_again.status_code == 302
    pages["waiting-lists"] = staff.get(WAITING_LISTS).text
    pages["waiting-list"] = staff.get(WAITING_LISTS, {"course": dance.pk}).text
    pages["waiting-empty"] = staff.get(WAITING_LISTS, {"course": data["next"]["fm3"].pk}).text
    pages["courses"] = staff.get(reverse("admin:students_course_changelist")).text
    # The request's hidden “seen” field keeps a label of the admin's making.
    errors = [e for e in validate_html(pages, tmp_path) if "id_seen" not in e.get("extract", "")]
    assert errors == [], [
        (e["url"].rsplit("/", 1)[-1], e["message"], e.get("extract")) for e in errors
    ]


def test_the_demo_has_full_courses(demo):
    courses = capacity.with_enrolled(
        Course.objects.filter(site=demo["combs"], capacity__isnull=False)
    ).order_by("school_year__start_date")
    assert [(c.school_year.name, c.level, c.enrolled, c.capacity) for c in courses] == [
        ("2026-2027", "Cycle 1 – 2e année", 2, 2),
        ("2027-2028", "Cycle 1 – 3e année", 0, 1),
    ]


# Enrolling by hand in the students admin.

OVER = (
    "Cochez «\u00a0Inscrire quand même, au-delà de la capacité\u00a0» "
    "pour inscrire l’élève quand même."
)


def student_page_data(client, child):
    """What the student's change page posts back untouched, its enrollments included."""
    from django import forms

    page = client.get(reverse("admin:students_student_change", args=[child.pk]))
    forms_shown = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms_shown += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms_shown:
        for name, field in form.fields.items():
            value = form[name].value()
            if isinstance(field, forms.BooleanField):
                if value:
                    data[form.add_prefix(name)] = "on"
            else:
                data[form.add_prefix(name)] = "" if value is None else value
    return data


def add_rows(data, courses, **fields):
    """New enrollment rows in the student's form, one per course."""
    first = int(data["enrollments-TOTAL_FORMS"])
    for n, course in enumerate(courses, start=first):
        data[f"enrollments-{n}-course"] = course.pk
        for name, value in fields.items():
            data[f"enrollments-{n}-{name}"] = value
    data["enrollments-TOTAL_FORMS"] = first + len(courses)
    return data


def post_student(client, child, data):
    return client.post(reverse("admin:students_student_change", args=[child.pk]), data, **FR)


def row_errors(response):
    (inline,) = response.context["inline_admin_formsets"]
    return [dict(form.errors) for form in inline.formset.forms]


def test_the_student_admin_refuses_a_full_course_unless_told(data, combs, lea):
    dance = full_dance(data, combs)
    staff, _ = staff_client(combs)
    data_posted = add_rows(student_page_data(staff, lea), [dance])
    response = post_student(staff, lea, data_posted)
    assert response.status_code == 200
    errors = row_errors(response)
    assert errors[:2] == [{}, {}]  # This year's courses, untouched.
    assert errors[2] == {"course": [f"{FULL_DANCE} {OVER}"]}
    assert f"{FULL_DANCE} {OVER}" in response.text
    assert "Danse classique" not in next_year_courses(lea, data)
    data_posted["enrollments-2-beyond_capacity"] = "on"
    assert post_student(staff, lea, data_posted).status_code == 302
    assert "Danse classique" in next_year_courses(lea, data)
    assert enrolled(dance) == 2


def test_a_stopped_enrollment_frees_its_place_in_the_admin(data, combs, lea):
    dance = full_dance(data, combs)
    staff, _ = staff_client(combs)
    Enrollment.objects.filter(course=dance).update(stops_on=clock.TODAY - timedelta(days=1))
    response = post_student(staff, lea, add_rows(student_page_data(staff, lea), [dance]))
    assert response.status_code == 302
    assert enrolled(dance) == 1


def test_editing_an_enrollment_of_a_full_course_is_never_refused(data, combs, lea):
    dance = full_dance(data, combs)
    mine = Enrollment.objects.create(student=lea, course=dance)
    dance.capacity = 1  # Two students, one place: over the capacity already.
    dance.save()
    staff, _ = staff_client(combs)
    data_posted = student_page_data(staff, lea)
    row = next(k for k, v in data_posted.items() if k.endswith("-id") and v == mine.pk)
    data_posted[row.replace("-id", "-result")] = "Passage en 3e année"
    assert post_student(staff, lea, data_posted).status_code == 302
    mine.refresh_from_db()
    assert mine.result == "Passage en 3e année"
    # The enrollment admin alike.
    page = staff.get(reverse("admin:students_enrollment_change", args=[mine.pk]))
    assert "beyond_capacity" in page.context["adminform"].form.fields
    response = staff.post(
        reverse("admin:students_enrollment_change", args=[mine.pk]),
        enrollment_data(lea, dance, level="Initiation 2"),
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.level == "Initiation 2"


def enrollment_data(child, course, **fields):
    return {"student": child.pk, "course": course.pk, "level": "", "result": "", **fields}


def test_the_enrollment_admin_refuses_a_full_course_unless_told(data, combs, lea):
    dance = full_dance(data, combs)
    staff, _ = staff_client(combs)
    add = reverse("admin:students_enrollment_add")
    response = staff.post(add, enrollment_data(lea, dance), **FR)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"course": [f"{FULL_DANCE} {OVER}"]}
    assert "Danse classique" not in next_year_courses(lea, data)
    # Moving an enrollment into the full course is a new place too.
    fm = Enrollment.objects.create(student=lea, course=data["next"]["fm2"])
    change_url = reverse("admin:students_enrollment_change", args=[fm.pk])
    response = staff.post(change_url, enrollment_data(lea, dance), **FR)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"course": [f"{FULL_DANCE} {OVER}"]}
    assert next_year_courses(lea, data) == {"Formation musicale"}
    # An enrollment that stopped already takes no place.
    yesterday = (clock.TODAY - timedelta(days=1)).isoformat()
    stopped = enrollment_data(lea, dance, stops_on=yesterday)
    assert staff.post(change_url, stopped).status_code == 302
    fm.delete()  # Now in the dance class, stopped: out of the way.
    # Told: beyond the capacity.
    response = staff.post(add, enrollment_data(lea, dance, beyond_capacity="on"))
    assert response.status_code == 302
    assert enrolled(dance) == 2


def test_a_course_of_another_site_stays_out_of_reach(data, combs, lea, ploufragan):
    dance = full_dance(data, combs)
    mine = Enrollment.objects.create(student=lea, course=data["next"]["fm2"])
    stranger, _ = staff_client(ploufragan, username="plouf")
    change_url = reverse("admin:students_enrollment_change", args=[mine.pk])
    assert stranger.get(change_url).status_code == 302  # The admin's “does not exist”.
    told = enrollment_data(lea, dance, beyond_capacity="on")
    assert stranger.post(change_url, told).status_code == 302
    response = stranger.post(reverse("admin:students_enrollment_add"), told)
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"student", "course"}
    assert stranger.get(reverse("admin:students_student_history", args=[lea.pk])).status_code == 404
    assert next_year_courses(lea, data) == {"Formation musicale"}


def test_the_places_are_counted_once_for_all_the_rows(data, combs, parent):
    """Adding 1 or 3 enrollments: a limit on their courses costs one query, not one per row."""
    staff, _ = staff_client(combs)
    courses = [data["next"]["fm2"], data["next"]["fm3"], data["next"]["piano"]]
    extra = {}
    for size in [1, 3]:
        counts = []
        for places in [None, 5]:
            Course.objects.filter(pk__in=[c.pk for c in courses]).update(capacity=places)
            child = student(parent.family, f"Enfant{size}{places}")
            posted = add_rows(student_page_data(staff, child), courses[:size])
            with CaptureQueriesContext(connection) as queries:
                assert post_student(staff, child, posted).status_code == 302
            counts.append(len(queries))
            assert Enrollment.objects.filter(student=child).count() == size
        extra[size] = counts[1] - counts[0]
    assert extra == {1: 1, 3: 1}


def test_the_pages_with_the_checkbox_are_valid_html(data, combs, lea, tmp_path):
    from .test_html_valid import validate as validate_html
    from .test_onboarding import ours

    dance = full_dance(data, combs)
    staff, _ = staff_client(combs)
    pages = {
        "student": post_student(staff, lea, add_rows(student_page_data(staff, lea), [dance])).text,
        "enrollment": staff.post(
            reverse("admin:students_enrollment_add"), enrollment_data(lea, dance)
        ).text,
    }
    # The autocomplete's required select with its chosen option is the admin's own markup.
    errors = ours(validate_html(pages, tmp_path))
    assert errors == [], [(e["message"], e.get("extract")) for e in errors]


# A place given from the waiting list: the family is told.


@pytest.mark.django_db(transaction=True)
def test_the_family_is_told_of_the_place_through_the_worker(
    parent_client, data, combs, lea, settings, run_worker, free_port
):
    from .mail_sink import SMTPSink
    from .test_debit_returns import subject

    dance = full_dance(data, combs)
    dance.teacher = data["next"]["fm2"].teacher
    dance.save()
    staff, _ = staff_client(combs)
    lea_request, _jade = waitlisted(data, combs, staff, parent_client, lea)
    run_worker()  # The e-mails of the requests and their validation.
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port, "timeout": 5},
        }
    }
    wish = lea_request.wishes.get(discipline=data["dance"])
    enroll = reverse("admin:reenrollment_waiting_enroll", args=[wish.pk])
    with SMTPSink(free_port) as sink:
        staff.post(enroll, **FR)  # Still full: refused, nobody told.
        run_worker()
        assert sink.messages == []
        Enrollment.objects.filter(course=dance).exclude(student__family__name="Martin").delete()
        response = staff.post(enroll, follow=True, **FR)
        run_worker()
    address = "demo.combs-la-ville@example.org"
    assert (
        "Léa Martin est inscrit(e) au cours Danse classique – Initiation 2 (samedi 10:00)\u00a0; "
        f"la famille en est informée par e-mail ({address})."
    ) in [str(m) for m in response.context["messages"]]
    (message,) = sink.messages
    assert message["To"] == address
    assert message["Reply-To"] == "conservatoire.combs@example.org"
    # build_message folds every white space of a subject, the no-break one too.
    assert subject(message) == "Liste d’attente\u00a0: une place pour Léa Martin en Danse classique"
    text, html = (part.get_payload(decode=True).decode() for part in message.get_payload())
    year = data["next_year"].name
    for body in [text, html]:
        assert "Léa Martin" in body and year in body
        assert "Danse classique" in body and "Initiation 2" in body
        assert "samedi 10:00–11:30" in body
        assert "Hélène Rivière" in body and "Auditorium" in body
    assert "http://testserver/reinscription/" in text


def test_a_family_without_e_mail_is_said_so(parent, parent_client, data, combs, lea):
    dance = full_dance(data, combs)
    staff, _ = staff_client(combs)
    lea_request, _jade = waitlisted(data, combs, staff, parent_client, lea)
    parent.email = ""
    parent.save()
    Enrollment.objects.filter(course=dance).exclude(student__family__name="Martin").delete()
    wish = lea_request.wishes.get(discipline=data["dance"])
    enroll = reverse("admin:reenrollment_waiting_enroll", args=[wish.pk])
    response = staff.post(enroll, follow=True, **FR)
    assert (
        "Léa Martin est inscrit(e) au cours Danse classique – Initiation 2 (samedi 10:00). "
        "La famille n’a pas d’adresse e-mail\u00a0: prévenez-la autrement."
    ) in [str(m) for m in response.context["messages"]]
    assert "Danse classique" in next_year_courses(lea, data)
