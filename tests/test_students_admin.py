import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from extranet.models import User
from students.models import Course, Enrollment, SchoolYear, Student


@pytest.fixture
def secretary(db):
    call_command("load_demo_data", "--force", stdout=open("/dev/null", "w"))
    client = Client()
    client.force_login(User.objects.get(username="secretariat-combs"))
    return client


@pytest.mark.parametrize("model, site_lookup", [
    (Student, "family__site__slug"), (Course, "site__slug"), (SchoolYear, "site__slug"),
    (Enrollment, "course__site__slug"),
])
def test_secretary_lists_and_opens_only_her_site(secretary, model, site_lookup):
    name = model._meta.model_name
    page = secretary.get(reverse(f"admin:students_{name}_changelist"))
    assert page.status_code == 200
    shown = {obj.pk for obj in page.context["cl"].result_list}
    assert shown == set(model.objects.filter(**{site_lookup: "combs-la-ville"})
                        .values_list("pk", flat=True))
    foreign = model.objects.filter(**{site_lookup: "ploufragan"}).first()
    response = secretary.get(reverse(f"admin:students_{name}_change", args=[foreign.pk]))
    assert response.status_code == 302


def test_student_history_of_another_site_is_out_of_reach(secretary):
    foreign = Student.objects.filter(family__site__slug="ploufragan").first()
    url = reverse("admin:students_student_history", args=[foreign.pk])
    assert secretary.get(url).status_code == 404


def test_enrollment_autocomplete_stays_on_her_site(secretary):
    response = secretary.get(reverse("admin:autocomplete"), {
        "app_label": "students", "model_name": "enrollment", "field_name": "course", "term": ""})
    assert response.status_code == 200
    ids = {int(result["id"]) for result in response.json()["results"]}
    assert ids and ids <= set(Course.objects.filter(site__slug="combs-la-ville")
                              .values_list("pk", flat=True))
