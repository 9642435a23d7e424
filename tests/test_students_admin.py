import pytest
from django.test import Client
from django.urls import reverse

from extranet.models import User
from students.models import Course, Enrollment, SchoolYear, Student


@pytest.fixture
def secretary(demo):
    client = Client()
    client.force_login(User.objects.get(username="secretariat-combs"))
    return client


@pytest.mark.parametrize(
    "model, site_lookup",
    [
        (Student, "family__site__slug"),
        (Course, "site__slug"),
        (SchoolYear, "site__slug"),
        (Enrollment, "course__site__slug"),
    ],
)
def test_secretary_lists_and_opens_only_her_site(secretary, model, site_lookup):
    name = model._meta.model_name
    page = secretary.get(reverse(f"admin:students_{name}_changelist"))
    assert page.status_code == 200
    shown = {obj.pk for obj in page.context["cl"].result_list}
    assert shown == set(
        model.objects.filter(**{site_lookup: "combs-la-ville"}).values_list("pk", flat=True)
    )
    foreign = model.objects.filter(**{site_lookup: "ploufragan"}).first()
    response = secretary.get(reverse(f"admin:students_{name}_change", args=[foreign.pk]))
    assert response.status_code == 302


def test_student_history_of_another_site_is_out_of_reach(secretary):
    foreign = Student.objects.filter(family__site__slug="ploufragan").first()
    url = reverse("admin:students_student_history", args=[foreign.pk])
    assert secretary.get(url).status_code == 404


def test_enrollment_autocomplete_stays_on_her_site(secretary):
    response = secretary.get(
        reverse("admin:autocomplete"),
        {"app_label": "students", "model_name": "enrollment", "field_name": "course", "term": ""},
    )
    assert response.status_code == 200
    ids = {int(result["id"]) for result in response.json()["results"]}
    assert ids and ids <= set(
        Course.objects.filter(site__slug="combs-la-ville").values_list("pk", flat=True)
    )


def test_inline_enrollment_on_another_site_course_is_refused(secretary):
    from families.models import Family

    martin = Family.objects.get(name="Martin")
    foreign_course = Course.objects.filter(site__slug="ploufragan").first()
    response = secretary.post(
        reverse("admin:students_student_add"),
        {
            "family": martin.pk,
            "last_name": "Martin",
            "first_name": "Zoé",
            "birth_date": "2016-05-04",
            "enrollments-TOTAL_FORMS": "1",
            "enrollments-INITIAL_FORMS": "0",
            "enrollments-MIN_NUM_FORMS": "0",
            "enrollments-MAX_NUM_FORMS": "1000",
            "enrollments-0-course": foreign_course.pk,
        },
    )
    assert response.status_code == 200
    assert not Student.objects.filter(first_name="Zoé").exists()
    assert not Enrollment.objects.filter(course=foreign_course, student__family=martin).exists()


def test_secretariat_save_makes_an_open_student_form_stale(secretary):
    lea = Student.objects.get(family__site__slug="combs-la-ville", first_name="Léa")
    parent = User.objects.get(site__slug="combs-la-ville", username="demo")
    family_client = Client()
    family_client.force_login(parent)
    stale = {
        "version": lea.version,
        "email": "",
        "mobile_phone": "",
        "school": "Autre",
        "school_class": "",
        "remarks": "",
    }
    page = secretary.get(reverse("admin:students_student_change", args=[lea.pk]))
    form = page.context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update(
        {
            "family": lea.family_id,
            "birth_date": "2015-03-12",
            "remarks": "Asthme",
            "guardian": "",
            "enrollments-TOTAL_FORMS": "0",
            "enrollments-INITIAL_FORMS": "0",
            "enrollments-MIN_NUM_FORMS": "0",
            "enrollments-MAX_NUM_FORMS": "1000",
        }
    )
    for key in ["image_rights", "may_leave_alone"]:
        data.pop(key, None)
    response = secretary.post(reverse("admin:students_student_change", args=[lea.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert family_client.post(reverse("students:detail", args=[lea.pk]), stale).status_code == 409
    lea.refresh_from_db()
    assert lea.remarks == "Asthme" and lea.school != "Autre"


@pytest.mark.parametrize("model", ["discipline", "teacher", "room", "studentdocument"])
def test_other_structures_are_scoped(secretary, model):
    from django.apps import apps

    model_class = apps.get_model("students", model)
    lookup = "student__family__site__slug" if model == "studentdocument" else "site__slug"
    if model == "studentdocument":
        from django.core.files.base import ContentFile

        from documents.models import DocumentKind
        from tests import files

        for slug in ["combs-la-ville", "ploufragan"]:
            student = Student.objects.filter(family__site__slug=slug).first()
            document = model_class(
                student=student,
                original_name="c.pdf",
                size=1,
                content_type="application/pdf",
                kind=DocumentKind.objects.filter(site__slug=slug, scope="student").first(),
            )
            document.file.save("c.pdf", ContentFile(files.pdf()))
    page = secretary.get(reverse(f"admin:students_{model}_changelist"))
    shown = {obj.pk for obj in page.context["cl"].result_list}
    assert shown == set(
        model_class.objects.filter(**{lookup: "combs-la-ville"}).values_list("pk", flat=True)
    )
    foreign = model_class.objects.filter(**{lookup: "ploufragan"}).first()
    assert (
        secretary.get(reverse(f"admin:students_{model}_change", args=[foreign.pk])).status_code
        == 302
    )
    if model == "studentdocument":
        url = reverse("admin:students_studentdocument_file", args=[foreign.pk])
        assert secretary.get(url).status_code == 404
        own = model_class.objects.filter(**{lookup: "combs-la-ville"}).first()
        assert (
            secretary.get(reverse("admin:students_studentdocument_file", args=[own.pk])).status_code
            == 200
        )


def test_discipline_required_documents_offer_only_her_site(secretary):
    from documents.models import DocumentKind

    page = secretary.get(reverse("admin:students_discipline_add"))
    offered = set(page.context["adminform"].form.fields["required_documents"].queryset)
    assert offered and all(kind.site.slug == "combs-la-ville" for kind in offered)
    assert DocumentKind.objects.filter(site__slug="ploufragan").exists()
