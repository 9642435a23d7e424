"""Every page is valid HTML, checked by the Nu Html Checker (vnu.jar, system Java)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

VNU = (
    Path(__file__).resolve().parent.parent
    / "node_modules"
    / "vnu-jar"
    / "build"
    / "dist"
    / "vnu.jar"
)


def validate(pages, tmp_path):
    assert VNU.exists(), f"vnu.jar missing: {VNU} (run `npm ci`)"
    java = shutil.which("java")
    assert java, "Java is needed to run the HTML checker"
    files = []
    for name, html in pages.items():
        path = tmp_path / f"{name.strip('/').replace('/', '_') or 'root'}.html"
        path.write_text(html)
        files.append(str(path))
    result = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
    )
    return json.loads(result.stderr or '{"messages": []}')["messages"]


@pytest.mark.django_db
def test_all_pages_are_valid_html(parent, combs, tmp_path):
    anonymous = Client()
    pages = {
        path: anonymous.get(path).text
        for path in [
            reverse("login"),
            reverse("password_reset"),
            reverse("password_reset_done"),
            reverse("accessibility_statement", args=[combs.slug]),
            "/nouveau-mot-de-passe/MQ/bad-token/",
        ]
    }
    pages["login-errors"] = anonymous.post(reverse("login"), {"site": ""}).text
    signed_in = Client()
    signed_in.force_login(parent)
    for name in ["home", "accessibility", "password_change"]:
        pages[name] = signed_in.get(reverse(name)).text
    pages["password-errors"] = signed_in.post(reverse("password_change"), {}).text
    # The family pages, with a guardian, a document and errors.
    from documents.models import DocumentKind
    from families.models import FamilyDocument, Guardian

    guardian = Guardian.objects.create(
        family=parent.family,
        civility="MME",
        first_name="Claire",
        last_name="Martin",
        address_line1="12 rue des Tilleuls",
        postal_code="77380",
        city="Combs-la-Ville",
        extra_phone_1="+33298765432",
        extra_phone_1_label="Grand-mère",
    )
    kind = DocumentKind.objects.create(site=combs, name="Justificatif de domicile", required=True)
    FamilyDocument.objects.create(
        family=parent.family,
        kind=kind,
        file="x.pdf",
        original_name="edf.pdf",
        content_type="application/pdf",
        size=10,
        status="refused",
        refusal_reason="Illisible",
    )
    pages["family"] = signed_in.get(reverse("families:family")).text
    pages["family-edit"] = signed_in.get(reverse("families:edit")).text
    pages["family-edit-errors"] = signed_in.post(reverse("families:edit"), {"version": 1}).text
    edit = reverse("families:guardian_edit", args=[guardian.pk])
    pages["guardian"] = signed_in.get(edit).text
    pages["guardian-errors"] = signed_in.post(edit, {"version": 1, "postal_code": "1"}).text
    pages["guardian-add"] = signed_in.get(reverse("families:guardian_add")).text
    pages["upload-errors"] = signed_in.post(reverse("families:document_upload"), {}).text
    signed_in.post(
        edit,
        {
            "version": 1,
            "civility": "MME",
            "first_name": "Claire",
            "last_name": "Martin",
            "address_line1": "1 rue Neuve",
            "postal_code": "77000",
            "city": "Melun",
            "country": "France",
        },
    )
    pages["changes-saved"] = signed_in.get(reverse("families:changes_saved")).text
    assert "Éléments modifiés" in pages["changes-saved"]
    # The students pages.
    from students.models import CalendarFeed
    from tests import factories

    year = factories.school_year(combs)
    structure = factories.structure(combs, year)
    lea = factories.student(parent.family, "Léa", courses=structure["courses"][:3])
    CalendarFeed.objects.create(family=parent.family)
    for name, url in [
        ("students", reverse("students:list")),
        ("timetable", reverse("students:timetable")),
        ("student", reverse("students:detail", args=[lea.pk])),
        ("courses", reverse("students:courses", args=[lea.pk])),
        ("history", reverse("students:history", args=[lea.pk])),
    ]:
        pages[name] = signed_in.get(url).text
    pages["student-errors"] = signed_in.post(
        reverse("students:detail", args=[lea.pk]), {"version": 1, "email": "x"}
    ).text
    messages = validate(pages, tmp_path)
    assert messages == [], [
        (m["url"].rsplit("/", 1)[-1], m.get("lastLine"), m["message"], m.get("extract"))
        for m in messages
    ]


def test_checker_detects_invalid_html(tmp_path):
    # Guards the check above against passing vacuously.
    messages = validate({"broken": "<!DOCTYPE html><title>x</title><p><div></span>"}, tmp_path)
    assert messages
