from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from documents.models import DocumentKind
from families.models import Family, FamilyDocument, Guardian

from . import files
from .factories import make_parent
from .html_fields import assert_error_next_to_field

FAMILY = reverse("families:family")


def make_guardian(family, **fields):
    values = {
        "civility": "MME",
        "first_name": "Claire",
        "last_name": "Martin",
        "address_line1": "12 rue des Tilleuls",
        "postal_code": "77380",
        "city": "Combs-la-Ville",
        "mobile_phone": "+33612345678",
    }
    values.update(fields)
    return Guardian.objects.create(family=family, **values)


@pytest.fixture
def guardian(parent):
    parent.family.reference_email = "famille.martin@example.org"
    parent.family.reference_mobile = "+33612345678"
    parent.family.save()
    return make_guardian(parent.family)


@pytest.fixture
def stranger_guardian(other_parent):
    return make_guardian(
        other_parent.family,
        first_name="Yann",
        last_name="Le Goff",
        postal_code="22440",
        city="Ploufragan",
    )


def guardian_data(guardian, **changes):
    data = {
        "version": guardian.version,
        "civility": guardian.civility,
        "last_name": guardian.last_name,
        "birth_name": guardian.birth_name,
        "first_name": guardian.first_name,
        "birth_date": guardian.birth_date.isoformat() if guardian.birth_date else "",
        "birth_place": guardian.birth_place,
        "birth_department": guardian.birth_department,
        "marital_status": guardian.marital_status,
        "pcs": guardian.pcs,
        "profession": guardian.profession,
        "address_line1": guardian.address_line1,
        "address_line2": guardian.address_line2,
        "postal_code": guardian.postal_code,
        "city": guardian.city,
        "country": guardian.country,
        "home_phone": "",
        "mobile_phone": str(guardian.mobile_phone or ""),
        "work_phone": "",
        "email": guardian.email,
        "extra_phone_1_label": "",
        "extra_phone_1": "",
        "extra_phone_2_label": "",
        "extra_phone_2": "",
        "extra_phone_3_label": "",
        "extra_phone_3": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def edit_url(guardian):
    return reverse("families:guardian_edit", args=[guardian.pk])


# Owner and stranger, every view.


def test_family_page_shows_own_family_only(parent_client, guardian, stranger_guardian):
    page = parent_client.get(FAMILY)
    assert page.status_code == 200
    assert "Claire" in page.text and "06 12 34 56 78" in page.text
    assert "Yann" not in page.text and "Le Goff" not in page.text


@pytest.mark.parametrize(
    "url_name",
    ["families:family", "families:edit", "families:guardian_add", "families:changes_saved"],
)
def test_anonymous_is_sent_to_login(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_account_without_family_gets_404(combs):
    from extranet.models import User

    user = User.objects.create_user("orphan", password="x" * 12, site=combs)
    client = Client()
    client.force_login(user)
    assert client.get(FAMILY).status_code == 404


def test_another_family_guardian_is_404(parent_client, guardian, stranger_guardian):
    assert parent_client.get(edit_url(stranger_guardian)).status_code == 404
    response = parent_client.post(
        edit_url(stranger_guardian), guardian_data(stranger_guardian, city="Pirate")
    )
    assert response.status_code == 404
    stranger_guardian.refresh_from_db()
    assert stranger_guardian.city == "Ploufragan"


def test_document_download_owner_and_strangers(
    parent_client, parent, other_parent, combs, ploufragan
):
    kind = DocumentKind.objects.create(site=combs, name="Justificatif de domicile")
    parent_client.post(
        reverse("families:document_upload"),
        {"kind": kind.pk, "file": _upload("edf.pdf", files.pdf())},
    )
    document = FamilyDocument.objects.get()
    response = parent_client.get(reverse("families:document", args=[document.pk]))
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith('attachment; filename="edf.pdf"')
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    # Same identifiant, other site, other family: 404.
    stranger = Client()
    stranger.force_login(other_parent)
    assert stranger.get(reverse("families:document", args=[document.pk])).status_code == 404
    # Same site, other family: 404.
    neighbour = make_parent(combs, username="voisin", family_name="Voisin")
    neighbour_client = Client()
    neighbour_client.force_login(neighbour)
    assert neighbour_client.get(reverse("families:document", args=[document.pk])).status_code == 404
    assert Client().get(reverse("families:document", args=[document.pk])).status_code == 302


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, "application/pdf")


# Validation rules, each with good and bad values.


@pytest.mark.parametrize("value", ["01", "19", "2A", "2b", "95", "971", "976", "99"])
def test_good_departments(parent_client, guardian, value):
    response = parent_client.post(
        edit_url(guardian), guardian_data(guardian, birth_department=value)
    )
    assert response.status_code == 302, response.context["form"].errors
    guardian.refresh_from_db()
    assert guardian.birth_department == value.upper()


@pytest.mark.parametrize("value", ["00", "20", "96", "970", "977", "2C", "ABC", "1"])
def test_bad_departments(parent_client, guardian, value):
    response = parent_client.post(
        edit_url(guardian), guardian_data(guardian, birth_department=value)
    )
    assert "département" in response.context["form"].errors["birth_department"][0]


@pytest.mark.parametrize(
    "postal_code, country, ok",
    [
        ("77380", "France", True),
        ("2244", "France", False),
        ("7738O", "France", False),
        ("773800", "", False),
        ("SW1A 1AA", "Royaume-Uni", True),
        ("1000", "Belgique", True),
    ],
)
def test_postal_codes(parent_client, guardian, postal_code, country, ok):
    response = parent_client.post(
        edit_url(guardian), guardian_data(guardian, postal_code=postal_code, country=country)
    )
    if ok:
        assert response.status_code == 302, response.context["form"].errors
    else:
        assert "5 chiffres" in response.context["form"].errors["postal_code"][0]


def test_birth_dates(parent_client, guardian):
    today = date.today()
    cases = {
        (today + timedelta(days=1)).isoformat(): "futur",
        "1850-01-01": "année",
        (today - timedelta(days=5 * 365)).isoformat(): "16 ans",
        "31/02/1980": "date",
    }
    for value, message in cases.items():
        response = parent_client.post(edit_url(guardian), guardian_data(guardian, birth_date=value))
        errors = " ".join(response.context["form"].errors["birth_date"])
        assert message in errors, (value, errors)
    response = parent_client.post(
        edit_url(guardian), guardian_data(guardian, birth_date="14/07/1980")
    )
    assert response.status_code == 302
    guardian.refresh_from_db()
    assert guardian.birth_date == date(1980, 7, 14)


@pytest.mark.parametrize(
    "written",
    ["06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "06.12.34.56.78", "+33612345678"],
)
def test_phones_are_stored_in_e164_and_shown_in_french(parent_client, guardian, written):
    guardian.mobile_phone = "+33700000000"
    guardian.save()
    response = parent_client.post(edit_url(guardian), guardian_data(guardian, mobile_phone=written))
    assert response.status_code == 302, response.context["form"].errors
    guardian.refresh_from_db()
    assert guardian.mobile_phone.as_e164 == "+33612345678"
    assert "06 12 34 56 78" in parent_client.get(FAMILY).text


@pytest.mark.parametrize("written", ["12", "06 12 34", "not a phone", "+33 6 12 34 56 78 90 12"])
def test_bad_phones_get_a_french_message(parent_client, guardian, written):
    response = parent_client.post(edit_url(guardian), guardian_data(guardian, home_phone=written))
    assert "numéro de téléphone" in response.context["form"].errors["home_phone"][0]


def test_extra_phone_needs_a_label(parent_client, guardian):
    response = parent_client.post(
        edit_url(guardian), guardian_data(guardian, extra_phone_1="0298765432")
    )
    assert "extra_phone_1_label" in response.context["form"].errors


@pytest.mark.parametrize(
    "field, value",
    [
        ("email", "pas-une-adresse"),
        ("email", "a@b"),
        ("last_name", ""),
        ("first_name", ""),
        ("civility", ""),
        ("address_line1", ""),
        ("city", ""),
        ("postal_code", ""),
        ("last_name", "x" * 101),
        ("civility", "XYZ"),
    ],
)
def test_bad_values_are_refused_next_to_the_field(parent_client, guardian, field, value):
    response = parent_client.post(edit_url(guardian), guardian_data(guardian, **{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert f'id="id_{field}_error"' in response.text
    assert_error_next_to_field(response.text, field)
    guardian.refresh_from_db()
    assert guardian.last_name == "Martin"  # Nothing saved.


def test_hostile_values_are_stored_as_text_and_escaped(parent_client, guardian):
    response = parent_client.post(
        edit_url(guardian),
        guardian_data(
            guardian, profession="<script>alert(1)</script>", address_line2="'; DROP TABLE x;--"
        ),
    )
    assert response.status_code == 302
    page = parent_client.get(FAMILY).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    guardian.refresh_from_db()
    assert guardian.address_line2 == "'; DROP TABLE x;--"


def test_family_reference_contacts_are_required(parent_client, guardian):
    response = parent_client.post(
        reverse("families:edit"), {"version": 1, "reference_email": "", "reference_mobile": ""}
    )
    errors = response.context["form"].errors
    assert "reference_email" in errors and "reference_mobile" in errors


# Acknowledgement e-mails, history, concurrency.


@pytest.mark.django_db(transaction=True)
def test_changes_are_acknowledged_field_by_field(guardian, parent, run_worker):
    client = Client()
    client.force_login(parent)
    response = client.post(
        edit_url(guardian),
        guardian_data(
            guardian, profession="Pianiste", mobile_phone="06 11 22 33 44", marital_status="married"
        ),
    )
    assert response["Location"] == reverse("families:changes_saved")
    page = client.get(response["Location"])
    assert "Éléments modifiés" in page.text
    assert mail.outbox == []  # Sent by the worker, after the commit.
    run_worker()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["famille.martin@example.org"]
    lines = [line for line in message.body.splitlines() if line.startswith("- ")]
    assert lines == [
        "- Situation familiale\u00a0: (vide) → marié(e)",
        "- Profession\u00a0: (vide) → Pianiste",
        "- Mobile\u00a0: 06 12 34 56 78 → 06 11 22 33 44",
    ]
    assert "justificatif de domicile" not in message.body
    html = message.alternatives[0][0]
    assert "Pianiste" in html and "06 11 22 33 44" in html


@pytest.mark.django_db(transaction=True)
def test_nothing_changed_sends_nothing(guardian, parent, run_worker):
    client = Client()
    client.force_login(parent)
    response = client.post(
        edit_url(guardian), guardian_data(guardian, mobile_phone="06 12 34 56 78")
    )
    assert response["Location"] == FAMILY
    assert DBTaskResult.objects.count() == 0
    run_worker()
    assert mail.outbox == []
    guardian.refresh_from_db()
    assert guardian.version == 1


def test_history_records_who_changed_what(parent_client, parent, guardian):
    parent_client.post(
        edit_url(guardian), guardian_data(guardian, city="Melun", postal_code="77000")
    )
    latest = guardian.history.first()
    assert latest.history_user == parent
    assert latest.city == "Melun"
    delta = latest.diff_against(latest.prev_record)
    assert {c.field for c in delta.changes} == {"city", "postal_code"}


def test_second_concurrent_save_is_refused(parent, guardian, combs):
    first, second = Client(), Client()
    first.force_login(parent)
    spouse = make_parent(combs, username="conjoint", family_name="x")
    spouse.family = parent.family
    spouse.save()
    second.force_login(spouse)
    form_a = guardian_data(guardian)
    form_b = guardian_data(guardian)
    assert first.post(edit_url(guardian), {**form_a, "profession": "Luthière"}).status_code == 302
    response = second.post(edit_url(guardian), {**form_b, "profession": "Chanteuse"})
    assert response.status_code == 409
    assert "pendant que vous" in response.text
    assert 'value="Luthière"' in response.text  # The current values are shown.
    guardian.refresh_from_db()
    assert guardian.profession == "Luthière" and guardian.version == 2


@pytest.mark.django_db(transaction=True)
def test_address_change_asks_for_a_new_proof_of_address(guardian, parent, combs, run_worker):
    kind = DocumentKind.objects.create(
        site=combs, name="Justificatif de domicile", required=True, proves_address=True
    )
    client = Client()
    client.force_login(parent)
    client.post(
        reverse("families:document_upload"),
        {"kind": kind.pk, "file": _upload("edf.pdf", files.pdf())},
    )
    FamilyDocument.objects.update(status=FamilyDocument.Status.ACCEPTED)
    assert "Accepté" in client.get(FAMILY).text
    with time_machine.travel(timedelta(minutes=5)):
        response = client.post(
            edit_url(guardian),
            guardian_data(
                guardian, address_line1="3 avenue de la Gare", city="Melun", postal_code="77000"
            ),
            follow=True,
        )
    assert "justificatif de domicile" in response.text
    run_worker()
    assert "justificatif de domicile" in mail.outbox[0].body
    assert "À renouveler (changement d’adresse)" in client.get(FAMILY).text
    family = Family.objects.get(pk=parent.family_id)
    assert family.address_changed_at is not None
    with time_machine.travel(timedelta(minutes=10)):
        client.post(
            reverse("families:document_upload"),
            {"kind": kind.pk, "file": _upload("nouveau.pdf", files.pdf())},
        )
    assert "À valider" in client.get(FAMILY).text


def test_stale_family_contacts_are_refused(parent, guardian):
    first, second = Client(), Client()
    first.force_login(parent)
    second.force_login(parent)
    data = {
        "version": 1,
        "reference_email": "famille.martin@example.org",
        "reference_mobile": "06 12 34 56 78",
    }
    assert (
        first.post(reverse("families:edit"), {**data, "reference_mobile": "0611111111"}).status_code
        == 302
    )
    response = second.post(
        reverse("families:edit"), {**data, "reference_email": "autre@example.org"}
    )
    assert response.status_code == 409
    family = Family.objects.get(pk=parent.family_id)
    assert family.reference_email == "famille.martin@example.org"
    assert family.reference_mobile.as_e164 == "+33611111111"


def test_contacts_save_keeps_a_concurrent_address_change(parent, guardian):
    client = Client()
    client.force_login(parent)
    family = Family.objects.get(pk=parent.family_id)
    client.post(edit_url(guardian), guardian_data(guardian, city="Melun", postal_code="77000"))
    assert Family.objects.get(pk=family.pk).address_changed_at is not None
    version = Family.objects.get(pk=family.pk).version
    client.post(
        reverse("families:edit"),
        {
            "version": version,
            "reference_email": "nouvelle@example.org",
            "reference_mobile": "06 12 34 56 78",
        },
    )
    assert Family.objects.get(pk=family.pk).address_changed_at is not None


@pytest.mark.django_db(transaction=True)
def test_new_reference_email_is_told_to_the_previous_one_too(parent, guardian, run_worker):
    client = Client()
    client.force_login(parent)
    client.post(
        reverse("families:edit"),
        {
            "version": 1,
            "reference_email": "pirate@example.org",
            "reference_mobile": "06 12 34 56 78",
        },
    )
    run_worker()
    assert sorted(mail.outbox[0].to) == ["famille.martin@example.org", "pirate@example.org"]


def test_document_validity_rules(combs, settings):
    from datetime import date as d

    months = DocumentKind(site=combs, validity=DocumentKind.Validity.MONTHS, validity_months=3)
    assert months.expires_on(d(2026, 11, 30)) == d(2027, 2, 28)
    year = DocumentKind(site=combs, validity=DocumentKind.Validity.SCHOOL_YEAR)
    assert year.expires_on(d(2026, 9, 1)) == d(2027, 9, 1)
    assert year.expires_on(d(2027, 6, 30)) == d(2027, 9, 1)
    assert DocumentKind(site=combs).expires_on(d(2020, 1, 1)) is None


def test_expired_document_shows_as_expired(parent_client, parent, combs):
    kind = DocumentKind.objects.create(
        site=combs,
        name="Attestation d'assurance",
        validity=DocumentKind.Validity.MONTHS,
        validity_months=3,
    )
    FamilyDocument.objects.create(
        family=parent.family,
        kind=kind,
        file="x.pdf",
        original_name="x.pdf",
        content_type="application/pdf",
        size=1,
        status="accepted",
    )
    assert "Accepté" in parent_client.get(FAMILY).text
    FamilyDocument.objects.update(uploaded_at=timezone.now() - timedelta(days=100))
    assert "Expiré" in parent_client.get(FAMILY).text


def test_add_a_guardian(parent_client, parent, guardian):
    data = guardian_data(guardian, first_name="Julien", civility="M", version=None)
    response = parent_client.post(reverse("families:guardian_add"), data)
    assert response.status_code == 302
    assert [g.first_name for g in parent.family.guardians.all()] == ["Claire", "Julien"]
    assert parent.family.guardians.get(first_name="Julien").position == 2


@pytest.mark.parametrize("count", [1, 4])
def test_family_page_query_count_does_not_grow(
    parent, combs, django_assert_num_queries, count, settings
):
    # The page cache in memory: in production it is Redis's, not the database's.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    kind = DocumentKind.objects.create(site=combs, name="Justificatif de domicile")
    for n in range(count):
        make_guardian(parent.family, first_name=f"Responsable {n}")
        FamilyDocument.objects.create(
            family=parent.family,
            kind=kind,
            file="x.pdf",
            original_name="x.pdf",
            content_type="application/pdf",
            size=1,
        )
    client = Client()
    client.force_login(parent)
    # Session, account (with its family and site), guardians, document kinds
    # (the checklist's, also the upload form's choices), documents.
    with django_assert_num_queries(5):
        assert client.get(FAMILY).status_code == 200
    # Again: the guardians and the checklist from the cache.
    with django_assert_num_queries(2):
        assert client.get(FAMILY).status_code == 200
