"""The demo data (`manage.py load_demo_data`): each site its own setup, as
its user guide describes it, and loading again changes nothing."""

import io

from django.apps import apps
from django.core.management import call_command

from documents.models import DocumentKind
from families.models import Family
from students.models import Course, Discipline, Room, Teacher


def snapshot():
    """Every row of every model, by its fields (files and timestamps
    included: nothing may be touched), but the content versions: they count
    the writes (a cache key moves for nothing), not the changes."""
    return {
        model._meta.label: sorted(
            map(
                repr,
                model.objects.values_list(
                    *(f.attname for f in model._meta.concrete_fields if f.name != "content_version")
                ),
            )
        )
        for model in apps.get_models()
        if model._meta.app_label not in {"sessions", "admin"}
    }


def names(model, site, *fields):
    return set(model.objects.filter(site=site).values_list(*fields))


def test_ploufragan_has_its_own_rooms_teachers_and_disciplines(demo):
    combs, plouf = demo["combs"], demo["ploufragan"]
    for model, fields in [(Room, ["name"]), (Teacher, ["first_name", "last_name"])]:
        mine = names(model, plouf, *fields)
        assert mine and not mine & names(model, combs, *fields), model
    # Ploufragan's courses are given by its own teachers in its own rooms.
    courses = Course.objects.filter(site=plouf)
    assert courses.exists()
    assert not courses.exclude(teacher__site=plouf).exists()
    assert not courses.exclude(room__site=plouf).exists()
    categories = set(Discipline.objects.filter(site=plouf).values_list("category", flat=True))
    assert {"instrument", "musicianship", "dance", "theatre"} <= categories


def test_each_site_asks_for_the_documents_its_guide_lists(demo):
    plouf = demo["ploufragan"]
    kinds = {kind.name: kind for kind in DocumentKind.objects.filter(site=plouf)}
    assert set(kinds) == {
        "Justificatif de domicile de moins de 3 mois",
        "Attestation sur l'honneur ou certificat médical",
    }
    address = kinds["Justificatif de domicile de moins de 3 mois"]
    assert (address.scope, address.required, address.proves_address) == (
        DocumentKind.Scope.FAMILY,
        True,
        True,
    )
    assert (address.validity, address.validity_months) == (DocumentKind.Validity.MONTHS, 3)
    dance = kinds["Attestation sur l'honneur ou certificat médical"]
    # Asked of the dance students only: through their disciplines.
    assert (dance.scope, dance.required) == (DocumentKind.Scope.STUDENT, False)
    requiring = Discipline.objects.filter(site=plouf, required_documents=dance)
    assert requiring.exists()
    assert set(requiring.values_list("category", flat=True)) == {"dance"}
    assert set(
        Discipline.objects.filter(site=plouf, category="dance").values_list("pk", flat=True)
    ) == set(requiring.values_list("pk", flat=True))
    # Combs-la-Ville keeps its own three family documents and dance certificate.
    assert set(DocumentKind.objects.filter(site=demo["combs"]).values_list("name", flat=True)) == {
        "Justificatif de domicile",
        "Avis d'imposition",
        "Attestation de responsabilité civile",
        "Certificat médical ou attestation (danse)",
    }


def test_ploufragan_demo_family_follows_its_own_courses(demo):
    plouf = demo["ploufragan"]

    family = Family.objects.get(site=plouf, accounts__username="demo")
    students = {s.first_name: s for s in family.students.all()}
    assert set(students) == {"Maëlys", "Ewen"}
    followed = set(
        students["Maëlys"].enrollments.values_list("course__discipline__name", flat=True)
    )
    assert followed == {"Danse modern'jazz", "Théâtre"}
    assert not Course.objects.filter(enrollments__student__family=family).exclude(site=plouf)


def test_loading_again_changes_nothing(demo):
    before = snapshot()
    call_command("load_demo_data", "--force", stdout=io.StringIO())
    assert snapshot() == before
