from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from families.models import FamilyDocument
from reenrollment.models import ReenrollmentRequest, Wish
from students.models import Enrollment, StudentDocument

from . import clock, factories, files, reenrollment_data, students_data
from .factories import make_parent
from .html_fields import assert_error_next_to_field

Status = ReenrollmentRequest.Status


@pytest.fixture
def data(combs):
    return reenrollment_data.campaign(combs)


@pytest.fixture
def lea(parent, data):
    """Formation musicale and dance this year."""
    courses = data["courses"]
    return students_data.student(parent.family, "Léa", courses=[courses[0], courses[2]])


@pytest.fixture
def hugo(parent, data):
    """Piano this year."""
    return students_data.student(
        parent.family,
        "Hugo",
        courses=[data["courses"][1]],
        birth_date=students_data.date(2017, 10, 2),
        sex="M",
    )


def upload(name, content):
    return SimpleUploadedFile(name, content, "application/octet-stream")


def url(name, student):
    return reverse(name, args=[student.pk])


def enrollment_field(student, discipline):
    enrollment = Enrollment.objects.get(
        student=student,
        course__discipline=discipline,
        course__school_year__name=clock.school_year_of(clock.TODAY),
    )
    return f"enrollment_{enrollment.pk}"


def wishes_data(student, data, stop=(), **extra):
    values = {"comment": "", "musicianship_level": "", "new_1": "", "new_2": "", "new_3": ""}
    for enrollment in Enrollment.objects.filter(
        student=student, course__school_year=data["this_year"]
    ):
        discipline = enrollment.course.discipline
        values[f"enrollment_{enrollment.pk}"] = (
            Wish.Choice.STOP if discipline in stop else Wish.Choice.CONTINUE
        )
    values.update(extra)
    return values


def send(client, student, data, **extra):
    response = client.post(url("reenrollment:wishes", student), wishes_data(student, data, **extra))
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(
        url("reenrollment:validation", student), {"accept_rules": "on", "rules": data["rules"].pk}
    )
    assert response.status_code == 302
    return ReenrollmentRequest.objects.get(student=student)


def staff_client(site, username="secretariat", **fields):
    """A secretary of `site` with the permissions the demo gives the
    secretariat, not a superuser."""
    from django.contrib.auth.models import Permission

    from extranet.models import User
    from families.demo import SECRETARIAT_PERMISSIONS as FAMILIES
    from reenrollment.demo import SECRETARIAT_PERMISSIONS as REENROLLMENT
    from students.demo import SECRETARIAT_PERMISSIONS as STUDENTS

    user = User.objects.create_user(
        username=username, password="x" * 16, site=site, is_staff=True, **fields
    )
    user.user_permissions.set(
        Permission.objects.filter(codename__in=FAMILIES + STUDENTS + REENROLLMENT)
    )
    client = Client()
    client.force_login(user)
    return client, user


# The campaign's dates.


def test_before_opening_the_tab_says_when_it_opens(parent_client, data, lea):
    campaign = data["campaign"]
    campaign.opens_at = timezone.now() + timedelta(days=3)
    campaign.closes_at = timezone.now() + timedelta(days=30)
    campaign.save()
    page = parent_client.get(reverse("reenrollment:index"))
    assert page.status_code == 200
    assert "opens on" in page.text or "ouvre le" in page.text
    assert "conservatoire.combs@example.org" in page.text  # The secretariat's contacts.
    assert parent_client.get(url("reenrollment:documents", lea)).status_code == 404
    assert (
        parent_client.post(url("reenrollment:wishes", lea), wishes_data(lea, data)).status_code
        == 404
    )
    assert not ReenrollmentRequest.objects.exists()


def test_during_the_campaign_each_step_saves(parent_client, data, lea):
    page = parent_client.get(reverse("reenrollment:index"))
    assert "Léa" in page.text and data["campaign"].instructions in page.text
    for name in ["reenrollment:documents", "reenrollment:wishes", "reenrollment:validation"]:
        assert parent_client.get(url(name, lea)).status_code == 200, name
    request = send(parent_client, lea, data)
    assert request.status == Status.SUBMITTED
    assert parent_client.get(url("reenrollment:sent", lea)).status_code == 200


def test_after_closing_the_request_is_read_only(parent_client, data, lea, hugo):
    request = send(parent_client, lea, data)
    campaign = data["campaign"]
    campaign.opens_at = timezone.now() - timedelta(days=30)
    campaign.closes_at = timezone.now() - timedelta(minutes=1)
    campaign.save()
    page = parent_client.get(reverse("reenrollment:index"))
    assert "closed on" in page.text or "close le" in page.text or "fermée" in page.text
    page = parent_client.get(url("reenrollment:wishes", lea))
    assert page.status_code == 200 and 'type="submit" class="btn btn-primary">' not in page.text
    response = parent_client.post(
        url("reenrollment:wishes", lea), wishes_data(lea, data, stop=[data["dance"]])
    )
    assert response.status_code == 302
    assert not request.wishes.filter(choice=Wish.Choice.STOP).exists()
    # A student without a request has nothing to open any more.
    assert parent_client.get(url("reenrollment:documents", hugo)).status_code == 404


def test_an_incomplete_request_can_be_completed_after_closing(parent_client, data, lea):
    request = send(parent_client, lea, data)
    request.status = Status.INCOMPLETE
    request.missing_note = "Le justificatif de domicile."
    request.save()
    campaign = data["campaign"]
    campaign.opens_at = timezone.now() - timedelta(days=30)
    campaign.closes_at = timezone.now() - timedelta(minutes=1)
    campaign.save()
    assert "Le justificatif de domicile." in parent_client.get(reverse("reenrollment:index")).text
    send(parent_client, lea, data)
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED


def test_no_campaign_at_all(parent_client, combs):
    page = parent_client.get(reverse("reenrollment:index"))
    assert page.status_code == 200 and "conservatoire.combs@example.org" in page.text


# Acceptance of the rules.


def test_acceptance_is_required(parent_client, data, lea):
    parent_client.post(url("reenrollment:wishes", lea), wishes_data(lea, data))
    response = parent_client.post(url("reenrollment:validation", lea), {})
    assert response.status_code == 400
    assert "accept_rules" in response.context["form"].errors
    assert ReenrollmentRequest.objects.get(student=lea).status == Status.DRAFT


def test_acceptance_is_recorded_with_version_time_and_account(parent_client, parent, data, lea):
    before = timezone.now()
    request = send(parent_client, lea, data)
    assert request.rules_accepted == data["rules"]
    assert request.rules_version == "2027"
    assert request.rules_accepted_by == parent
    assert before <= request.rules_accepted_at <= timezone.now()
    assert request.submitted_at is not None


def test_wishes_come_before_validation(parent_client, data, lea):
    response = parent_client.post(
        url("reenrollment:validation", lea), {"accept_rules": "on", "rules": data["rules"].pk}
    )
    assert response.status_code == 302 and response["Location"] == url("reenrollment:wishes", lea)
    assert not ReenrollmentRequest.objects.filter(status=Status.SUBMITTED).exists()


# Documents.


def document(model, kind, **owner):
    return model.objects.create(
        kind=kind,
        file="x.pdf",
        original_name="x.pdf",
        content_type="application/pdf",
        size=1,
        **owner,
    )


def step_items(client, student):
    step = client.get(url("reenrollment:documents", student)).context["step"]
    return {item.kind.name: item.state for item in step.family_items + step.student_items}


def test_a_valid_family_document_is_not_asked_again(parent_client, parent, data, lea):
    assert step_items(parent_client, lea)["Justificatif de domicile"] == "missing"
    document(
        FamilyDocument, data["proof"], family=parent.family, status=FamilyDocument.Status.ACCEPTED
    )
    step = parent_client.get(url("reenrollment:documents", lea)).context["step"]
    assert [item.kind.name for item in step.summary["missing_documents"]] == [
        "Attestation de responsabilité civile",
        "Certificat médical (danse)",
    ]
    assert step_items(parent_client, lea)["Justificatif de domicile"] == "accepted"


def test_an_expired_document_is_asked_again(parent_client, parent, data, lea):
    document(
        FamilyDocument,
        data["proof"],
        family=parent.family,
        status=FamilyDocument.Status.ACCEPTED,
        uploaded_at=timezone.now() - timedelta(days=120),
    )
    assert step_items(parent_client, lea)["Justificatif de domicile"] == "expired"


def test_dance_requires_the_medical_document(parent_client, data, lea, hugo):
    assert step_items(parent_client, lea)["Certificat médical (danse)"] == "missing"
    assert "Certificat médical (danse)" not in step_items(parent_client, hugo)
    # Stopping dance: no certificate asked.
    parent_client.post(
        url("reenrollment:wishes", lea), wishes_data(lea, data, stop=[data["dance"]])
    )
    assert "Certificat médical (danse)" not in step_items(parent_client, lea)
    # Hugo wishes to start dance: asked.
    parent_client.post(
        url("reenrollment:wishes", hugo), wishes_data(hugo, data, new_1=data["dance"].pk)
    )
    assert step_items(parent_client, hugo)["Certificat médical (danse)"] == "missing"


def test_upload_from_the_documents_step(parent_client, parent, data, lea):
    response = parent_client.post(
        url("reenrollment:upload", lea),
        {"kind": data["medical"].pk, "file": upload("certificat.pdf", files.pdf())},
    )
    assert response.status_code == 302
    assert StudentDocument.objects.get(student=lea).kind == data["medical"]
    parent_client.post(
        url("reenrollment:upload", lea),
        {"kind": data["proof"].pk, "file": upload("edf.jpg", files.image("JPEG"))},
    )
    assert FamilyDocument.objects.get(family=parent.family).kind == data["proof"]
    assert step_items(parent_client, lea)["Justificatif de domicile"] == "pending"


@pytest.mark.parametrize(
    "payload, message",
    [
        ({}, "Choose the kind of document"),
        ({"file": ("evil.pdf", b"<script>alert(1)</script>")}, "neither a PDF"),
        ({"file": ("empty.pdf", b"")}, "empty"),
    ],
)
def test_bad_uploads_are_refused_next_to_the_field(parent_client, data, lea, payload, message):
    post = {"kind": data["medical"].pk}
    if "file" in payload:
        post["file"] = upload(*payload["file"])
    else:
        post = {"file": upload("ok.pdf", files.pdf())}
    with_kind = parent_client.post(url("reenrollment:upload", lea), post, HTTP_ACCEPT_LANGUAGE="en")
    assert with_kind.status_code == 400
    assert message.lower() in with_kind.text.lower()
    assert not StudentDocument.objects.exists()


def test_a_kind_the_campaign_does_not_ask_cannot_be_uploaded_here(parent_client, combs, data, hugo):
    # Hugo plays piano: the dance certificate is not among his request's kinds.
    response = parent_client.post(
        url("reenrollment:upload", hugo),
        {"kind": data["medical"].pk, "file": upload("c.pdf", files.pdf())},
    )
    assert response.status_code == 400
    assert not StudentDocument.objects.exists()


# The wishes form.


def test_wishes_are_saved_in_order_of_preference(parent_client, data, hugo):
    from students.models import Discipline

    guitar = Discipline.objects.create(site=data["fm"].site, name="Guitare", category="instrument")
    students_data.Course.objects.create(
        site=guitar.site,
        school_year=data["next_year"],
        discipline=guitar,
        weekday=1,
        start_time=students_data.time(16),
        end_time=students_data.time(17),
    )
    response = parent_client.post(
        url("reenrollment:wishes", hugo),
        wishes_data(
            hugo,
            data,
            new_1="",
            new_2=guitar.pk,
            new_3=data["dance"].pk,
            musicianship_level="Cycle 1 – 3e année",
            comment="Plutôt le mercredi.",
        ),
    )
    assert response.status_code == 302
    request = ReenrollmentRequest.objects.get(student=hugo)
    assert [(w.choice, w.discipline.name, w.rank) for w in request.wishes.all()] == [
        (Wish.Choice.CONTINUE, "Piano", 0),
        (Wish.Choice.NEW, "Guitare", 1),
        (Wish.Choice.NEW, "Danse classique", 2),
    ]
    assert request.musicianship_level == "Cycle 1 – 3e année"
    assert request.comment == "Plutôt le mercredi."
    # The form shows them back.
    form = parent_client.get(url("reenrollment:wishes", hugo)).context["form"]
    assert form["new_1"].initial == guitar.pk and form["new_2"].initial == data["dance"].pk


@pytest.mark.parametrize(
    "change, field",
    [
        ({"ENROLLMENT": ""}, "ENROLLMENT"),
        ({"ENROLLMENT": "<script>alert(1)</script>"}, "ENROLLMENT"),
        ({"new_1": "abc"}, "new_1"),
        ({"new_1": "999999"}, "new_1"),
        ({"new_1": "DANCE", "new_2": "DANCE"}, "new_2"),
        ({"new_1": "PIANO"}, "new_1"),
        ({"musicianship_level": "Cycle 9"}, "musicianship_level"),
        ({"comment": "x" * 2001}, "comment"),
    ],
)
def test_bad_wishes_are_refused_next_to_the_field(parent_client, data, hugo, change, field):
    enrollment = enrollment_field(hugo, data["piano"])
    values = wishes_data(hugo, data)
    for name, value in change.items():
        value = {"DANCE": data["dance"].pk, "PIANO": data["piano"].pk}.get(value, value)
        values[enrollment if name == "ENROLLMENT" else name] = value
    response = parent_client.post(url("reenrollment:wishes", hugo), values)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert (enrollment if field == "ENROLLMENT" else field) in errors
    assert_error_next_to_field(response.text, enrollment if field == "ENROLLMENT" else field)
    if field == "ENROLLMENT":  # The summary leads to the first radio button.
        assert f'<a href="#id_{enrollment}_0">' in response.text
        assert f'id="id_{enrollment}_0"' in response.text
    assert 'class="alert alert-danger error-summary"' in response.text
    assert not ReenrollmentRequest.objects.filter(wishes_saved_at__isnull=False).exists()


def test_bad_wishes_keep_what_was_saved(parent_client, data, hugo):
    parent_client.post(
        url("reenrollment:wishes", hugo), wishes_data(hugo, data, comment="Premier commentaire")
    )
    parent_client.post(
        url("reenrollment:wishes", hugo), wishes_data(hugo, data, comment="y" * 2001)
    )
    assert ReenrollmentRequest.objects.get(student=hugo).comment == "Premier commentaire"


def test_a_discipline_of_another_site_is_refused(parent_client, data, hugo, ploufragan):
    other = reenrollment_data.students_data.structure(
        ploufragan, students_data.school_year(ploufragan)
    )
    response = parent_client.post(
        url("reenrollment:wishes", hugo), wishes_data(hugo, data, new_1=other["dance"].pk)
    )
    assert response.status_code == 400 and "new_1" in response.context["form"].errors


def test_wishes_are_shown_in_french(parent_client, data, hugo):
    values = wishes_data(hugo, data, new_1="abc")
    response = parent_client.post(
        url("reenrollment:wishes", hugo), values, HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert "Choisissez une discipline dans la liste." in response.text


# Changing a request after sending it.


def test_changes_after_sending_are_kept_until_the_secretariat_takes_it_up(parent_client, data, lea):
    request = send(parent_client, lea, data)
    response = parent_client.post(
        url("reenrollment:wishes", lea), wishes_data(lea, data, stop=[data["dance"]])
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED and request.changed_after_sending_at
    request.status = Status.IN_REVIEW
    request.save()
    response = parent_client.post(url("reenrollment:wishes", lea), wishes_data(lea, data))
    assert response.status_code == 302
    assert request.wishes.filter(choice=Wish.Choice.STOP).count() == 1  # Unchanged.
    response = parent_client.post(
        url("reenrollment:validation", lea), {"accept_rules": "on", "rules": data["rules"].pk}
    )
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW


# Another family, another site.

STEP_VIEWS = [
    "reenrollment:documents",
    "reenrollment:wishes",
    "reenrollment:validation",
    "reenrollment:sent",
]


@pytest.mark.parametrize("name", STEP_VIEWS + ["reenrollment:upload"])
def test_another_familys_student_is_a_404(data, lea, name):
    stranger = make_parent(lea.family.site, username="voisin", family_name="Voisin")
    client = Client()
    client.force_login(stranger)
    assert client.get(url(name, lea)).status_code in {404, 405}
    assert client.post(
        url(name, lea), {"accept_rules": "on", "rules": data["rules"].pk}
    ).status_code in {404, 405}
    assert not ReenrollmentRequest.objects.exists()


def test_a_parent_of_another_site_sees_another_campaign(other_parent, data, lea):
    client = Client()
    client.force_login(other_parent)
    page = client.get(reverse("reenrollment:index"))
    assert page.status_code == 200 and "Léa" not in page.text
    assert page.context["campaign"] is None
    assert client.get(url("reenrollment:wishes", lea)).status_code == 404


@pytest.mark.parametrize("name", ["reenrollment:index"])
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_rules_pdf_for_the_sites_families_only(parent_client, other_parent, data):
    from django.core.files.base import ContentFile

    rules = data["rules"]
    rules.file.save("r.pdf", ContentFile(files.pdf()))
    response = parent_client.get(reverse("reenrollment:rules", args=[rules.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    stranger = Client()
    stranger.force_login(other_parent)
    assert stranger.get(reverse("reenrollment:rules", args=[rules.pk])).status_code == 404


def test_staff_of_another_site_cannot_see_the_request(parent_client, data, lea, ploufragan):
    request = send(parent_client, lea, data)
    own, _ = staff_client(lea.family.site, "secretariat-combs", email="s@example.org")
    other, _ = staff_client(ploufragan, "secretariat-plou", email="p@example.org")
    change = reverse("admin:reenrollment_reenrollmentrequest_change", args=[request.pk])
    changelist = reverse("admin:reenrollment_reenrollmentrequest_changelist")
    assert own.get(change).status_code == 200
    assert "Léa" in own.get(changelist).text
    assert other.get(change).status_code == 302  # The admin's "does not exist" redirect.
    assert "Léa" not in other.get(changelist).text
    campaign = reverse("admin:reenrollment_reenrollmentcampaign_change", args=[data["campaign"].pk])
    assert other.get(campaign).status_code == 302
    other.post(change, {"decision": Status.VALIDATED, "assigned_courses": [data["next"]["fm2"].pk]})
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED


# E-mails, through the task queue.


@pytest.mark.django_db(transaction=True)
def test_sending_mails_the_family_and_the_secretariat(parent, combs, run_worker):
    data = reenrollment_data.campaign(combs)
    parent.family.reference_email = "famille.martin@example.org"
    parent.family.save()
    lea = students_data.student(
        parent.family, "Léa", courses=[data["courses"][0], data["courses"][2]]
    )
    client = Client()
    client.force_login(parent)
    request = send(client, lea, data, stop=[data["dance"]], comment="Merci !")
    assert mail.outbox == []  # Sent by the worker, after the commit.
    run_worker()
    assert len(mail.outbox) == 2
    family_mail = next(m for m in mail.outbox if m.to == ["famille.martin@example.org"])
    secretariat_mail = next(m for m in mail.outbox if m is not family_mail)
    assert family_mail.to == ["famille.martin@example.org"]
    assert "Léa Martin" in family_mail.subject and data["next_year"].name in family_mail.subject
    for text in ["Formation musicale", "Danse classique", "Merci !", data["next_year"].name]:
        assert text in family_mail.body, text
    assert secretariat_mail.to == ["conservatoire.combs@example.org"]
    assert secretariat_mail.reply_to == ["famille.martin@example.org"]
    admin_path = reverse("admin:reenrollment_reenrollmentrequest_change", args=[request.pk])
    assert f"http://testserver{admin_path}" in secretariat_mail.body
    html = secretariat_mail.alternatives[0][0]
    assert admin_path in html and "Merci !" in html


# The secretariat's side.


def decide(client, request, **post):
    """Post a decision as a secretary who has just opened the request."""
    change = reverse("admin:reenrollment_reenrollmentrequest_change", args=[request.pk])
    seen = ReenrollmentRequest.objects.get(pk=request.pk).updated_at.isoformat()
    values = {"decision": "", "missing_note": "", "refusal_reason": "", "seen": seen}
    values.update(post)
    return client.post(change, values)


def test_incomplete_needs_a_note_then_mails_it(
    parent_client, parent, data, lea, django_capture_on_commit_callbacks
):
    parent.family.reference_email = "famille.martin@example.org"
    parent.family.save()
    request = send(parent_client, lea, data)
    staff, _ = staff_client(lea.family.site)
    response = decide(staff, request, decision=Status.INCOMPLETE)
    assert response.status_code == 200
    assert "missing_note" in response.context["adminform"].form.errors
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED
    with django_capture_on_commit_callbacks() as callbacks:
        response = decide(
            staff,
            request,
            decision=Status.INCOMPLETE,
            missing_note="Le certificat médical pour la danse.",
        )
    assert response.status_code == 302
    assert len(callbacks) == 1  # The family's e-mail, queued once the decision is saved.
    request.refresh_from_db()
    assert request.status == Status.INCOMPLETE
    # The family sees it on the tab, completes, and sends again.
    assert (
        "Le certificat médical pour la danse."
        in parent_client.get(url("reenrollment:documents", lea)).text
    )
    send(parent_client, lea, data)
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED


def test_validation_creates_next_years_enrollments(parent_client, data, lea):
    request = send(parent_client, lea, data, musicianship_level="Cycle 1 – 3e année")
    staff, secretary = staff_client(lea.family.site)
    change = reverse("admin:reenrollment_reenrollmentrequest_change", args=[request.pk])
    form = staff.get(change).context["adminform"].form
    # Proposed from the wishes: the formation musicale level chosen, dance.
    assert set(form.initial["assigned_courses"]) == {
        data["next"]["fm3"].pk,
        data["next"]["dance"].pk,
    }
    response = decide(staff, request, decision=Status.VALIDATED, assigned_courses=[])
    assert "assigned_courses" in response.context["adminform"].form.errors
    response = decide(
        staff,
        request,
        decision=Status.VALIDATED,
        assigned_courses=[data["next"]["fm3"].pk, data["next"]["dance"].pk],
        validate_incomplete="on",  # The documents are not the point here.
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Status.VALIDATED and request.decided_by == secretary
    assert set(
        Enrollment.objects.filter(student=lea, course__school_year=data["next_year"]).values_list(
            "course__level", flat=True
        )
    ) == {"Cycle 1 – 3e année", "Initiation 2"}
    # Decided: the family can no longer change it, nor the secretariat decide again.
    response = parent_client.post(url("reenrollment:wishes", lea), wishes_data(lea, data))
    assert ReenrollmentRequest.objects.get(pk=request.pk).status == Status.VALIDATED
    decide(staff, request, decision=Status.REFUSED, refusal_reason="Non.")
    assert ReenrollmentRequest.objects.get(pk=request.pk).status == Status.VALIDATED


def test_a_course_of_another_year_or_site_cannot_be_assigned(parent_client, data, lea, ploufragan):
    request = send(parent_client, lea, data)
    staff, _ = staff_client(lea.family.site)
    other = reenrollment_data.campaign(ploufragan)
    for course in [data["courses"][0], other["next"]["fm2"]]:  # This year's; another site's.
        response = decide(staff, request, decision=Status.VALIDATED, assigned_courses=[course.pk])
        assert "assigned_courses" in response.context["adminform"].form.errors
    assert ReenrollmentRequest.objects.get(pk=request.pk).status == Status.SUBMITTED
    assert not Enrollment.objects.filter(course__school_year=data["next_year"]).exists()


def test_refusal_needs_a_reason(parent_client, data, lea):
    request = send(parent_client, lea, data)
    staff, _ = staff_client(lea.family.site)
    response = decide(staff, request, decision=Status.REFUSED)
    assert "refusal_reason" in response.context["adminform"].form.errors
    decide(staff, request, decision=Status.REFUSED, refusal_reason="Plus de place en danse.")
    request.refresh_from_db()
    assert request.status == Status.REFUSED
    page = parent_client.get(url("reenrollment:documents", lea))
    assert "Plus de place en danse." in page.text


@pytest.mark.django_db(transaction=True)
def test_decision_mails(parent, combs, run_worker):
    data = reenrollment_data.campaign(combs)
    parent.family.reference_email = "famille.martin@example.org"
    parent.family.save()
    lea = students_data.student(
        parent.family, "Léa", courses=[data["courses"][0], data["courses"][1]]
    )
    client = Client()
    client.force_login(parent)
    request = send(client, lea, data, musicianship_level="Cycle 1 – 3e année")
    staff, _ = staff_client(combs)
    decide(staff, request, decision=Status.INCOMPLETE, missing_note="L'avis d'imposition.")
    send(client, lea, data, musicianship_level="Cycle 1 – 3e année")
    decide(
        staff,
        request,
        decision=Status.VALIDATED,
        assigned_courses=[data["next"]["fm3"].pk, data["next"]["piano"].pk],
        validate_incomplete="on",
    )
    run_worker()
    to_family = [m for m in mail.outbox if m.to == ["famille.martin@example.org"]]
    incomplete = next(m for m in to_family if "incomplet" in m.subject.lower())
    assert "L'avis d'imposition." in incomplete.body
    validated = next(m for m in to_family if "valid" in m.subject.lower())
    body = validated.body
    # The collective course with day, time and room; the meeting; the methods.
    assert "Cycle 1 – 3e année" in body and "18:00" in body and "Auditorium" in body
    meeting = factories.parent_meeting(clock.THIS_YEAR + 1)  # In September.
    assert any(
        meeting.strftime(form) in body
        for form in ["%d/%m/%Y", f"{meeting.day} septembre %Y", f"Sept. {meeting.day}, %Y"]
    )
    assert "Dandelot, volume 3" in body
    assert "Dandelot, volume 2" not in body


def test_bulk_validation_of_simple_requests(parent_client, data, lea, hugo, combs):
    document(FamilyDocument, data["proof"], family=lea.family)
    document(FamilyDocument, data["insurance"], family=lea.family)
    document(StudentDocument, data["medical"], student=lea)  # Nothing missing for Léa either.
    simple = send(parent_client, hugo, data)  # Piano continued; nothing missing.
    with_new = send(parent_client, lea, data, new_1=data["piano"].pk)  # A new discipline.
    staff, _ = staff_client(combs)
    changelist = reverse("admin:reenrollment_reenrollmentrequest_changelist")
    response = staff.post(
        changelist,
        {"action": "validate_simple", "_selected_action": [simple.pk, with_new.pk]},
        follow=True,
    )
    assert response.status_code == 200
    simple.refresh_from_db()
    with_new.refresh_from_db()
    assert simple.status == Status.VALIDATED
    assert list(simple.assigned_courses.all()) == [data["next"]["piano"]]
    assert with_new.status == Status.SUBMITTED
    assert "Léa Martin" in response.text


def test_filters_by_discipline_and_missing_documents(parent_client, data, lea, hugo, combs):
    send(parent_client, lea, data)
    send(parent_client, hugo, data)
    staff, _ = staff_client(combs)
    changelist = reverse("admin:reenrollment_reenrollmentrequest_changelist")
    dance = staff.get(changelist, {"discipline": data["dance"].pk})
    assert [r.student for r in dance.context["cl"].result_list] == [lea]
    # Léa continues dance without the medical certificate; Hugo's piano needs none.
    document(FamilyDocument, data["proof"], family=lea.family)
    document(FamilyDocument, data["insurance"], family=lea.family)
    missing = staff.get(changelist, {"documents": "missing"})
    assert [r.student for r in missing.context["cl"].result_list] == [lea]
    complete = staff.get(changelist, {"documents": "complete"})
    assert [r.student for r in complete.context["cl"].result_list] == [hugo]
    # The same judgement as the family's page.
    assert step_items(parent_client, lea)["Certificat médical (danse)"] == "missing"


def test_exports_csv_and_xlsx(parent_client, data, lea, combs):
    import csv
    import io

    from openpyxl import load_workbook

    request = send(
        parent_client,
        lea,
        data,
        stop=[data["dance"]],
        new_1=data["piano"].pk,
        comment='=HYPERLINK("http://evil")',
    )
    staff, _ = staff_client(combs)
    changelist = reverse("admin:reenrollment_reenrollmentrequest_changelist")
    response = staff.post(changelist, {"action": "export_csv", "_selected_action": [request.pk]})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 4  # Headers, then formation musicale, dance, piano.
    choices = {(row[6], row[7]) for row in rows[1:]}
    assert len(choices) == 3 and all(row[2] == "Léa Martin" for row in rows[1:])
    assert all(row[12].startswith("'=") for row in rows[1:])  # Never a formula.
    response = staff.post(changelist, {"action": "export_xlsx", "_selected_action": [request.pk]})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert len(values) == 4 and values[1][2] == "Léa Martin"
    assert all(str(row[12]).startswith("'=") for row in values[1:])
    assert sheet.cell(row=2, column=13).data_type == "s"


# Query counts: bounded, the same for 1 and 5 students.


def step_counts(client, student):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    result = {}
    for name in [
        "reenrollment:index",
        "reenrollment:documents",
        "reenrollment:wishes",
        "reenrollment:validation",
        "reenrollment:sent",
    ]:
        path = reverse(name) if name == "reenrollment:index" else url(name, student)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200, name
        result[name] = len(queries)
    return result


def test_query_counts_do_not_grow_with_the_family(data, combs):
    counts = []
    for size, username in [(1, "petite"), (5, "grande")]:
        parent = make_parent(combs, username=username, family_name=username.title())
        students = [
            students_data.student(parent.family, f"Élève {n}", courses=data["courses"][:3])
            for n in range(size)
        ]
        client = Client()
        client.force_login(parent)
        for student in students:
            send(client, student, data)
        counts.append(step_counts(client, students[0]))
    assert counts[0] == counts[1], counts
    assert max(counts[1].values()) <= 20, counts


def test_admin_list_query_count_does_not_grow(parent_client, data, combs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff, _ = staff_client(combs)
    changelist = reverse("admin:reenrollment_reenrollmentrequest_changelist")
    family = combs.families.first()

    def count():
        result = []
        for query in [{}, {"documents": "missing"}, {"discipline": data["dance"].pk}]:
            with CaptureQueriesContext(connection) as queries:
                assert staff.get(changelist, query).status_code == 200
            result.append(len(queries))
        return result

    send(parent_client, students_data.student(family, "Un", courses=data["courses"][:3]), data)
    one = count()
    for n in range(8):
        send(
            parent_client, students_data.student(family, f"É{n}", courses=data["courses"][:3]), data
        )
    assert count() == one
    assert max(one) <= 25, one


def test_pages_are_valid_html(parent_client, data, lea, tmp_path):
    from .test_html_valid import validate

    pages = {"index-open": parent_client.get(reverse("reenrollment:index")).text}
    for name in STEP_VIEWS[:3]:
        pages[name] = parent_client.get(url(name, lea)).text
    pages["upload-errors"] = parent_client.post(url("reenrollment:upload", lea), {}).text
    pages["wishes-errors"] = parent_client.post(
        url("reenrollment:wishes", lea), wishes_data(lea, data, comment="x" * 2001)
    ).text
    parent_client.post(url("reenrollment:wishes", lea), wishes_data(lea, data))
    pages["validation-errors"] = parent_client.post(url("reenrollment:validation", lea), {}).text
    send(parent_client, lea, data)
    pages["sent"] = parent_client.get(url("reenrollment:sent", lea)).text
    campaign = data["campaign"]
    campaign.closes_at = timezone.now() - timedelta(minutes=1)
    campaign.opens_at = timezone.now() - timedelta(days=1)
    campaign.save()
    pages["index-closed"] = parent_client.get(reverse("reenrollment:index")).text
    pages["wishes-read-only"] = parent_client.get(url("reenrollment:wishes", lea)).text
    assert validate(pages, tmp_path) == []


def test_a_double_click_on_validate_sends_once(
    parent_client, data, lea, django_capture_on_commit_callbacks
):
    parent_client.post(url("reenrollment:wishes", lea), wishes_data(lea, data))
    accept = {"accept_rules": "on", "rules": data["rules"].pk}
    with django_capture_on_commit_callbacks() as callbacks:
        parent_client.post(url("reenrollment:validation", lea), accept)
        parent_client.post(url("reenrollment:validation", lea), accept)
    assert len(callbacks) == 2  # The family's and the secretariat's, once.
    # Changed after sending, then sent again: the secretariat is told again.
    parent_client.post(url("reenrollment:wishes", lea), wishes_data(lea, data, comment="Oubli"))
    with django_capture_on_commit_callbacks() as callbacks:
        parent_client.post(url("reenrollment:validation", lea), accept)
    assert len(callbacks) == 2


def test_rules_changed_meanwhile_must_be_read_again(parent_client, data, lea):
    from reenrollment.models import SchoolRules

    parent_client.post(url("reenrollment:wishes", lea), wishes_data(lea, data))
    shown = data["rules"].pk
    campaign = data["campaign"]
    campaign.rules = SchoolRules.objects.create(
        site=campaign.site, version="2027-bis", text="Article 1 modifié."
    )
    campaign.save()
    response = parent_client.post(
        url("reenrollment:validation", lea), {"accept_rules": "on", "rules": shown}
    )
    assert response.status_code == 400 and response.context["form"].non_field_errors()
    assert ReenrollmentRequest.objects.get(student=lea).status == Status.DRAFT


def test_a_decision_on_wishes_changed_meanwhile_is_refused(parent_client, data, lea):
    request = send(parent_client, lea, data)
    staff, _ = staff_client(lea.family.site)
    change = reverse("admin:reenrollment_reenrollmentrequest_change", args=[request.pk])
    seen = staff.get(change).context["adminform"].form["seen"].value()
    parent_client.post(
        url("reenrollment:wishes", lea), wishes_data(lea, data, stop=[data["dance"]])
    )
    response = staff.post(
        change,
        {
            "decision": Status.VALIDATED,
            "seen": seen,
            "missing_note": "",
            "refusal_reason": "",
            "assigned_courses": [data["next"]["dance"].pk],
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED and not request.assigned_courses.exists()


def test_courses_are_stored_only_by_a_validation(parent_client, data, lea):
    request = send(parent_client, lea, data)
    staff, _ = staff_client(lea.family.site)
    decide(
        staff,
        request,
        decision=Status.INCOMPLETE,
        missing_note="Le certificat.",
        assigned_courses=[data["next"]["dance"].pk],
    )
    request.refresh_from_db()
    assert request.status == Status.INCOMPLETE and not request.assigned_courses.exists()


def test_a_note_saved_without_decision_keeps_the_familys_changes(parent_client, data, lea):
    request = send(parent_client, lea, data)
    staff, _ = staff_client(lea.family.site)
    change = reverse("admin:reenrollment_reenrollmentrequest_change", args=[request.pk])
    form_page = staff.get(change)
    assert form_page.status_code == 200
    parent_client.post(url("reenrollment:wishes", lea), wishes_data(lea, data, comment="Ajout"))
    decide(staff, request, missing_note="Brouillon de note")
    request.refresh_from_db()
    assert request.comment == "Ajout" and request.missing_note == "Brouillon de note"


def test_a_school_year_document_of_this_year_is_asked_again_for_next_year(parent_client, data, lea):
    medical = document(
        StudentDocument, data["medical"], student=lea, status=StudentDocument.Status.ACCEPTED
    )
    # Sent this school year, before the campaign opened (just now: early in September, a
    # few days earlier could be last year).
    data["campaign"].opens_at = timezone.now() - timedelta(minutes=1)
    data["campaign"].save()
    StudentDocument.objects.filter(pk=medical.pk).update(
        uploaded_at=data["campaign"].opens_at - timedelta(minutes=1)
    )
    # Valid this year (until 1 September), not for next year.
    assert step_items(parent_client, lea)["Certificat médical (danse)"] == "next_year"
    document(StudentDocument, data["medical"], student=lea)  # Sent during the campaign.
    assert step_items(parent_client, lea)["Certificat médical (danse)"] == "pending"


def test_accepted_rules_cannot_be_edited(parent_client, data, lea, combs):
    from reenrollment.models import SchoolRules

    send(parent_client, lea, data)
    campaign = data["campaign"]
    campaign.rules = SchoolRules.objects.create(site=combs, version="2028", text="Nouveau.")
    campaign.save()
    staff, _ = staff_client(combs)
    change = reverse("admin:reenrollment_schoolrules_change", args=[data["rules"].pk])
    staff.post(change, {"site": combs.pk, "version": "2027", "text": "Réécrit."})
    data["rules"].refresh_from_db()
    assert data["rules"].text == "Article 1 – Respect des horaires."


# The workflow's rules, as the family and the secretariat meet them.


def test_the_campaign_state_is_named(data):
    from reenrollment.models import ReenrollmentCampaign

    State = ReenrollmentCampaign.State
    campaign = data["campaign"]
    assert campaign.state(campaign.opens_at - timedelta(seconds=1)) == State.UPCOMING
    assert campaign.state(campaign.opens_at) == State.OPEN
    assert campaign.state(campaign.closes_at) == State.CLOSED


def test_an_upload_to_a_sent_request_marks_it_changed(parent_client, data, lea):
    parent_client.post(url("reenrollment:wishes", lea), wishes_data(lea, data))
    parent_client.post(
        url("reenrollment:upload", lea),
        {"kind": data["medical"].pk, "file": upload("certificat.pdf", files.pdf())},
    )
    assert ReenrollmentRequest.objects.get(student=lea).changed_after_sending_at is None  # Draft.
    request = send(parent_client, lea, data)
    assert request.changed_after_sending_at is None
    parent_client.post(
        url("reenrollment:upload", lea),
        {"kind": data["proof"].pk, "file": upload("edf.pdf", files.pdf())},
    )
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED and request.changed_after_sending_at


def test_decisions_the_workflow_refuses_are_explained_next_to_the_field(parent_client, data, lea):
    parent_client.post(url("reenrollment:wishes", lea), wishes_data(lea, data))
    draft = ReenrollmentRequest.objects.get(student=lea)
    staff, _ = staff_client(lea.family.site)
    response = decide(staff, draft, decision=Status.REFUSED, refusal_reason="Non.")
    assert response.context["adminform"].form.errors["decision"] == [
        "Seule une demande envoyée peut faire l’objet d’une décision."
    ]
    request = send(parent_client, lea, data)
    decide(staff, request, decision=Status.IN_REVIEW)
    response = decide(staff, request, decision=Status.IN_REVIEW)
    assert response.context["adminform"].form.errors["decision"] == [
        "Seule une demande envoyée peut être prise en charge."
    ]
    response = decide(staff, request, decision=Status.INCOMPLETE, missing_note=" ")
    assert response.context["adminform"].form.errors["missing_note"] == [
        "Indiquez ce qui manque\u00a0: ce texte est communiqué à la famille."
    ]
    response = decide(
        staff, request, decision=Status.REFUSED, seen="garbled", refusal_reason="Non."
    )
    assert response.context["adminform"].form.non_field_errors() == [
        "La famille a modifié la demande pendant que vous la consultiez\u00a0: examinez-la de "
        "nouveau avant de décider."
    ]
    assert ReenrollmentRequest.objects.get(pk=request.pk).status == Status.IN_REVIEW


def test_the_workflow_checks_again_what_the_form_checked(parent_client, data, lea):
    from reenrollment import workflow

    request = send(parent_client, lea, data)
    with pytest.raises(workflow.NotAllowed) as refused:
        workflow.validate(request, [data["courses"][0]], None, "http://testserver")
    assert refused.value.field == "assigned_courses"
    with pytest.raises(workflow.NotAllowed) as refused:
        workflow.refuse(
            request,
            "Non.",
            None,
            "http://testserver",
            seen=request.updated_at - timedelta(seconds=1),
        )
    assert refused.value.code == "stale"
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED and not request.assigned_courses.exists()
    assert not Enrollment.objects.filter(student=lea, course__school_year=data["next_year"])
    workflow.start_review(request, None)
    with pytest.raises(workflow.NotAllowed) as refused:  # The family's side too.
        workflow.save_wishes(data["campaign"], lea, [], comment="x")
    assert refused.value.code == "read_only"
    assert ReenrollmentRequest.objects.get(pk=request.pk).comment == ""


def test_the_request_admin_page_is_built_from_templates_without_styles(parent_client, data, lea):
    document(FamilyDocument, data["proof"], family=lea.family)
    request = send(parent_client, lea, data, new_1=data["piano"].pk)
    staff, _ = staff_client(lea.family.site)
    page = staff.get(
        reverse("admin:reenrollment_reenrollmentrequest_change", args=[request.pk])
    ).text
    assert "css/admin.css" in page
    assert " style=" not in page  # The Content-Security-Policy forbids them.
    assert '<ul class="review-list"><li>Danse classique (poursuite)</li>' in page
    assert "<li>Piano (nouvelle discipline, choix 1)</li>" in page
    proof = FamilyDocument.objects.get(family=lea.family)
    link = reverse("admin:families_familydocument_change", args=[proof.pk])
    assert "Justificatif de domicile\u00a0: <strong>" in page and f'<a href="{link}">' in page
    assert "Certificat médical (danse)\u00a0: <strong>" in page


def test_the_validation_step_asks_how_next_year_will_be_paid(parent_client, data, lea, combs):
    from fees.models import PlanChoice

    plans = factories.instalment_plans(combs)
    parent_client.post(url("reenrollment:wishes", lea), wishes_data(lea, data))
    page = parent_client.get(url("reenrollment:validation", lea)).content.decode()
    assert "Comment réglez-vous l’année" in page and "10 prélèvements mensuels" in page
    accept = {"accept_rules": "on", "rules": data["rules"].pk}
    for bad in ["", "x", str(10**12), "<script>"]:
        response = parent_client.post(
            url("reenrollment:validation", lea), {**accept, "plan-plan": bad}
        )
        assert response.status_code == 400
        assert "formule" in response.content.decode() or "Choisissez" in response.content.decode()
    assert not PlanChoice.objects.exists()
    assert ReenrollmentRequest.objects.get(student=lea).status == Status.DRAFT
    response = parent_client.post(
        url("reenrollment:validation", lea), {**accept, "plan-plan": plans[10].pk}
    )
    assert response.status_code == 302
    choice = PlanChoice.objects.get(family=lea.family)
    assert (choice.plan, choice.school_year) == (plans[10], data["campaign"].school_year)


# Issue 14: the ending of a validated request, the answers to the wishes not
# granted, the incomplete file, the wishes form's defaults.


def theatre(data):
    """A discipline offered next year that nobody follows this year."""
    from students.models import Discipline

    discipline = Discipline.objects.create(
        site=data["fm"].site, name="Théâtre", category="collective"
    )
    students_data.Course.objects.create(
        site=discipline.site,
        school_year=data["next_year"],
        discipline=discipline,
        weekday=3,
        start_time=students_data.time(15),
        end_time=students_data.time(16),
    )
    return discipline


def complete_file(data, student):
    document(FamilyDocument, data["proof"], family=student.family)
    document(FamilyDocument, data["insurance"], family=student.family)
    document(StudentDocument, data["medical"], student=student)


def answer_fields(request, discipline):
    wish = request.wishes.get(discipline=discipline)
    return f"wish_{wish.pk}_answer", f"wish_{wish.pk}_note"


def validate_lea(staff, request, data, theatre, **extra):
    answer, note = answer_fields(request, theatre)
    values = {
        "decision": Status.VALIDATED,
        "assigned_courses": [data["next"]["fm3"].pk, data["next"]["dance"].pk],
        answer: Wish.Answer.REFUSED,
        note: "Plus de place en théâtre cette année.",
    }
    values.update(extra)
    return decide(staff, request, **values)


def test_a_validated_request_ends_with_next_years_courses(parent_client, data, lea):
    complete_file(data, lea)
    drama = theatre(data)
    level = "Cycle 1 – 3e année"
    request = send(parent_client, lea, data, new_1=drama.pk, musicianship_level=level)
    fr = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    index = parent_client.get(reverse("reenrollment:index"), **fr).text
    assert "Voir la demande de Léa" in index and "Continuer la demande" not in index
    staff, _ = staff_client(lea.family.site)
    answer, note = answer_fields(request, drama)
    # Théâtre has no course: it must be answered, and a refusal explained.
    response = validate_lea(staff, request, data, drama, **{answer: ""})
    assert answer in response.context["adminform"].form.errors
    response = validate_lea(staff, request, data, drama, **{note: " "})
    assert note in response.context["adminform"].form.errors
    assert ReenrollmentRequest.objects.get(pk=request.pk).status == Status.SUBMITTED
    assert validate_lea(staff, request, data, drama).status_code == 302
    assert {(w.discipline.name, w.answer) for w in request.wishes.all()} == {
        ("Formation musicale", Wish.Answer.GRANTED),
        ("Danse classique", Wish.Answer.GRANTED),
        ("Théâtre", Wish.Answer.REFUSED),
    }
    # The tab: next year's courses instead of the steps.
    index = parent_client.get(reverse("reenrollment:index"), **fr).text
    for text in [
        "La réinscription pour",
        "Cycle 1 – 3e année",
        "Initiation 2",
        "Auditorium",
        "Hélène Rivière",
        "de 18:00 à 19:00",
        "Théâtre",
        "Plus de place en théâtre cette année.",
        "Voir la demande de Léa",
    ]:
        assert text in index, text
    # The request's page is its ending: no steps left to fill in.
    for name in STEP_VIEWS[:3]:
        response = parent_client.get(url(name, lea))
        assert response.status_code == 302, name
        assert response.url == url("reenrollment:sent", lea)
    page = parent_client.get(url("reenrollment:sent", lea), **fr).text
    assert "La réinscription est validée" in page and "Étape suivante" not in page
    assert "1. Documents" not in page
    assert "Plus de place en théâtre cette année." in page and "refusé" in page
    assert "Niveau de formation musicale l’an prochain" in page


def test_a_wish_can_go_on_the_waiting_list(parent_client, data, lea):
    complete_file(data, lea)
    drama = theatre(data)
    request = send(parent_client, lea, data, new_1=drama.pk)
    staff, _ = staff_client(lea.family.site)
    answer, note = answer_fields(request, drama)
    response = validate_lea(staff, request, data, drama, **{answer: "waiting_list", note: ""})
    assert response.status_code == 302
    page = parent_client.get(reverse("reenrollment:index"), HTTP_ACCEPT_LANGUAGE="fr").text
    assert "sur liste d’attente" in page


def test_the_ending_is_the_familys_own(data, lea):
    from reenrollment import workflow

    complete_file(data, lea)
    client = Client()
    parent = make_parent(lea.family.site, username="lea-parent", family_name="Autre")
    request = ReenrollmentRequest.objects.create(
        campaign=data["campaign"], student=lea, status=Status.SUBMITTED
    )
    workflow.validate(request, [data["next"]["fm3"]], None, "http://testserver")
    client.force_login(parent)  # Another family of the same site.
    assert client.get(url("reenrollment:sent", lea)).status_code == 404
    assert lea.first_name not in client.get(reverse("reenrollment:index")).text


@pytest.mark.django_db(transaction=True)
def test_the_validation_mail_answers_the_wish_not_granted(
    parent, combs, run_worker, settings, free_port
):
    from .mail_sink import SMTPSink

    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port, "timeout": 5},
        }
    }
    data = reenrollment_data.campaign(combs)
    parent.family.reference_email = "famille.martin@example.org"
    parent.family.save()
    lea = students_data.student(
        parent.family, "Léa", courses=[data["courses"][0], data["courses"][2]]
    )
    complete_file(data, lea)
    drama = theatre(data)
    client = Client()
    client.force_login(parent)
    request = send(client, lea, data, new_1=drama.pk, musicianship_level="Cycle 1 – 3e année")
    staff, _ = staff_client(combs)
    assert validate_lea(staff, request, data, drama).status_code == 302
    with SMTPSink(free_port) as sink:
        run_worker()
    from email.header import decode_header, make_header

    validated = next(
        m for m in sink.messages if "validée" in str(make_header(decode_header(m["Subject"])))
    )
    assert validated["To"] == "famille.martin@example.org"
    part = next(p for p in validated.walk() if p.get_content_type() == "text/plain")
    body = part.get_payload(decode=True).decode()
    assert "Souhaits non retenus" in body
    assert "Théâtre\u00a0: refusé" in body and "refusé" in body
    assert "Plus de place en théâtre cette année." in body
    assert "Cycle 1 – 3e année" in body and "Auditorium" in body


def test_the_secretariat_is_warned_before_validating_an_incomplete_file(parent_client, data, lea):
    request = send(parent_client, lea, data)  # No document sent.
    staff, _ = staff_client(lea.family.site)
    change = reverse("admin:reenrollment_reenrollmentrequest_change", args=[request.pk])
    page = staff.get(change, HTTP_ACCEPT_LANGUAGE="fr")
    warnings = [str(m) for m in page.context["messages"]]
    assert any("Le dossier n’est pas complet" in m and "Certificat médical" in m for m in warnings)
    values = {
        "decision": Status.VALIDATED,
        "assigned_courses": [data["next"]["fm3"].pk, data["next"]["dance"].pk],
    }
    response = decide(staff, request, **values)
    assert "validate_incomplete" in response.context["adminform"].form.errors
    assert ReenrollmentRequest.objects.get(pk=request.pk).status == Status.SUBMITTED
    response = decide(staff, request, validate_incomplete="on", **values)
    assert response.status_code == 302
    assert ReenrollmentRequest.objects.get(pk=request.pk).status == Status.VALIDATED


def test_a_complete_file_gets_no_warning(parent_client, data, hugo):
    document(FamilyDocument, data["proof"], family=hugo.family)
    document(FamilyDocument, data["insurance"], family=hugo.family)
    request = send(parent_client, hugo, data)
    staff, _ = staff_client(hugo.family.site)
    change = reverse("admin:reenrollment_reenrollmentrequest_change", args=[request.pk])
    page = staff.get(change)
    assert not list(page.context["messages"])
    assert "validate_incomplete" not in page.text


def test_the_bulk_validation_skips_incomplete_files_and_says_so(
    parent_client, data, lea, hugo, combs
):
    document(FamilyDocument, data["proof"], family=lea.family)
    document(FamilyDocument, data["insurance"], family=lea.family)
    simple = send(parent_client, hugo, data)  # Piano continued; nothing missing.
    incomplete = send(parent_client, lea, data)  # Continues dance without the certificate.
    staff, _ = staff_client(combs)
    changelist = reverse("admin:reenrollment_reenrollmentrequest_changelist")
    response = staff.post(
        changelist,
        {"action": "validate_simple", "_selected_action": [simple.pk, incomplete.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    simple.refresh_from_db()
    incomplete.refresh_from_db()
    assert simple.status == Status.VALIDATED and incomplete.status == Status.SUBMITTED
    texts = [str(m) for m in response.context["messages"]]
    assert any("le dossier n’est pas complet" in t and "Léa Martin" in t for t in texts), texts
    assert not any("Hugo" in t for t in texts if "complet" in t)
    assert [w.answer for w in simple.wishes.all()] == [Wish.Answer.GRANTED]


def test_the_wishes_form_offers_new_disciplines_only(parent_client, data, hugo):
    form = parent_client.get(url("reenrollment:wishes", hugo)).context["form"]
    offered = {value for value, _label in form.fields["new_1"].choices if value}
    assert data["piano"].pk not in offered  # Hugo plays the piano already.
    assert {data["dance"].pk, data["fm"].pk} <= offered


def test_the_musicianship_level_defaults_to_the_one_the_result_implies(parent_client, data, lea):
    enrollment = Enrollment.objects.get(student=lea, course=data["courses"][0])
    enrollment.result = "Passage en 3e année"
    enrollment.save()
    page = parent_client.get(url("reenrollment:wishes", lea), HTTP_ACCEPT_LANGUAGE="fr")
    assert page.context["form"]["musicianship_level"].initial == "Cycle 1 – 3e année"
    assert "Poursuivre" in page.text and "Arrêter" in page.text
    assert "Je continue" not in page.text
    # Once the family chose, its choice stands.
    parent_client.post(
        url("reenrollment:wishes", lea), wishes_data(lea, data, musicianship_level="")
    )
    page = parent_client.get(url("reenrollment:wishes", lea))
    assert page.context["form"]["musicianship_level"].initial == ""


@pytest.mark.parametrize(
    "level, result, expected",
    [
        ("Cycle 1 – 2e année", "Passage en Cycle 1 – 3e année", "Cycle 1 – 3e année"),
        ("Cycle 1 – 2e année", "Admis", "Cycle 1 – 3e année"),
        ("Cycle 1 – 2e année", "Maintien", "Cycle 1 – 2e année"),
        ("Cycle 1", "Passage en 2e année", "Cycle 1 – 2e année"),
        ("", "", ""),
    ],
)
def test_the_level_a_result_implies(level, result, expected):
    from types import SimpleNamespace

    from reenrollment.queries import implied_musicianship_level

    course = SimpleNamespace(level=level, discipline=SimpleNamespace(category="musicianship"))
    enrollment = SimpleNamespace(level="", result=result, course=course)
    levels = ["Cycle 1 – 3e année", "Cycle 1 – 2e année", "Cycle 2 – 1re année"]
    assert implied_musicianship_level([enrollment], levels) == expected


def test_the_summary_shows_next_years_level(parent_client, data, lea):
    send(parent_client, lea, data, musicianship_level="Cycle 1 – 3e année")
    page = parent_client.get(url("reenrollment:sent", lea), HTTP_ACCEPT_LANGUAGE="fr").text
    assert "Formation musicale (Cycle 1)" not in page  # This year's level.
    assert "Niveau de formation musicale l’an prochain" in page
    assert "Cycle 1 – 3e année" in page


def test_elision_before_a_vowel(parent_client, data, hugo):
    from reenrollment.templatetags.reenrollment_tags import elides

    assert elides("Hugo") and elides("Émile") and elides("Inès") and not elides("Léa")
    send(parent_client, hugo, data)
    index = parent_client.get(reverse("reenrollment:index"), HTTP_ACCEPT_LANGUAGE="fr").text
    assert "Voir la demande d’Hugo" in index


def test_the_fiche_eleve_says_nothing_is_asked_without_contradiction(parent_client, data, hugo):
    page = parent_client.get(
        reverse("students:detail", args=[hugo.pk]), HTTP_ACCEPT_LANGUAGE="fr"
    ).text
    assert "Aucun document n’est demandé pour le moment" in page
    assert "Envoyer un document demandé par le secrétariat" in page
    assert "ne demande aucun document" not in page
    assert "Pour la danse, imprimez" not in page


def validated_family(data, combs, size, username):
    from reenrollment import workflow

    parent = make_parent(combs, username=username, family_name=username.title())
    drama = data.get("theatre") or theatre(data)
    data["theatre"] = drama
    for n in range(size):
        student = students_data.student(parent.family, f"Élève {n}", courses=data["courses"][:3])
        request = ReenrollmentRequest.objects.create(
            campaign=data["campaign"], student=student, status=Status.SUBMITTED
        )
        Wish.objects.create(request=request, choice=Wish.Choice.NEW, discipline=drama, rank=1)
        Wish.objects.create(request=request, choice=Wish.Choice.CONTINUE, discipline=data["piano"])
        wish = request.wishes.get(discipline=drama)
        workflow.validate(
            request,
            [data["next"]["piano"], data["next"]["fm3"]],
            None,
            "http://testserver",
            answers={wish.pk: (Wish.Answer.WAITING_LIST, "")},
        )
    client = Client()
    client.force_login(parent)
    return client, parent.family.students.first()


def test_the_ending_query_count_is_the_same_for_1_and_3_children(data, combs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size, username in [(1, "petite"), (3, "grande")]:
        client, student = validated_family(data, combs, size, username)
        result = []
        for path in [reverse("reenrollment:index"), url("reenrollment:sent", student)]:
            with CaptureQueriesContext(connection) as queries:
                page = client.get(path)
                assert page.status_code == 200 and "Auditorium" in page.text
            result.append(len(queries))
        counts.append(result)
    assert counts[0] == counts[1], counts
    assert max(counts[1]) <= 20, counts


def test_the_ending_pages_are_valid_html(data, combs, tmp_path):
    from .test_html_valid import validate

    client, student = validated_family(data, combs, 2, "valide")
    pages = {
        "ending-index": client.get(reverse("reenrollment:index")).text,
        "ending-request": client.get(url("reenrollment:sent", student)).text,
        "fiche-eleve": client.get(reverse("students:detail", args=[student.pk])).text,
    }
    assert validate(pages, tmp_path) == []
