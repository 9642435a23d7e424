"""The quotient familial a family declares in the portal, and the
secretariat's check of it in the admin."""

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from documents.models import DocumentKind
from families.models import FamilyDocument
from fees.models import Band, FamilyIncome, FeeGrid

from . import clock, factories, files
from .html_fields import assert_error_next_to_field
from .test_html_valid import validate

INCOME = reverse("fees:income")
UPLOAD = reverse("fees:notice_upload")
BANDS = [("T1", "0"), ("T2", "400"), ("T3", "800"), ("T4", "1600")]


def grid(year, formula=FeeGrid.QFFormula.TAX_NOTICE):
    created = FeeGrid.objects.create(site=year.site, school_year=year, qf_formula=formula)
    for code, min_qf in BANDS:
        Band.objects.create(grid=created, code=code, min_qf=Decimal(min_qf))
    return created


@pytest.fixture
def year(combs):
    return factories.school_year(combs)


@pytest.fixture
def tax_grid(year):
    return grid(year)


def edit_url(year):
    return reverse("fees:income_edit", args=[year.pk])


def errors(response, field):
    assert response.status_code == 200
    return " ".join(response.context["form"].errors.get(field, []))


def notice_kind(site, **fields):
    values = {"name": "Avis d'imposition", "proves_income": True}
    values.update(fields)
    return DocumentKind.objects.create(site=site, **values)


def add_notice(family, kind, name="avis-2026.pdf"):
    document = FamilyDocument(
        family=family,
        kind=kind,
        original_name=name,
        content_type="application/pdf",
        size=100,
    )
    document.file.save("x.pdf", ContentFile(files.pdf()), save=False)
    document.save()
    return document


# Bad input: a French message next to the field.

TAX_CASES = [
    ({}, "reference_income", "Saisissez le revenu fiscal de référence"),
    ({}, "parts", "Saisissez le nombre de parts"),
    ({"reference_income": "   "}, "reference_income", "Saisissez le revenu fiscal"),
    ({"reference_income": "-100", "parts": "1"}, "reference_income", "ne peut pas être négatif"),
    ({"reference_income": "30000", "parts": "0"}, "parts", "au moins 1 part"),
    ({"reference_income": "30000", "parts": "40"}, "parts", "au plus 12"),
    ({"reference_income": "30000", "parts": "1,3"}, "parts", "par quarts"),
    ({"reference_income": "30000", "parts": "2,10"}, "parts", "par quarts"),
    ({"reference_income": "30000", "parts": "1,125"}, "parts", "par exemple 2 ou 2,5"),
    ({"reference_income": "0", "parts": "2"}, "reference_income", "contacter le secrétariat"),
    ({"reference_income": "20000000", "parts": "2"}, "reference_income", "semble faux"),
    ({"reference_income": "10 000 000", "parts": "2"}, "reference_income", "semble faux"),
    ({"reference_income": "12 3,4", "parts": "2"}, "reference_income", "chiffres"),
    ({"reference_income": "1.234,56", "parts": "2"}, "reference_income", "chiffres"),
    ({"reference_income": "1e5", "parts": "2"}, "reference_income", "chiffres"),
    ({"reference_income": "NaN", "parts": "2"}, "reference_income", "chiffres"),
    ({"reference_income": "Infinity", "parts": "2"}, "reference_income", "chiffres"),
    ({"reference_income": "1_000", "parts": "2"}, "reference_income", "chiffres"),
    ({"reference_income": "١٢٣", "parts": "2"}, "reference_income", "chiffres"),
    ({"reference_income": "--5", "parts": "2"}, "reference_income", "chiffres"),
    (
        {"reference_income": "<script>alert(1)</script>", "parts": "2"},
        "reference_income",
        "chiffres",
    ),
    ({"reference_income": "1" * 31, "parts": "2"}, "reference_income", "trop long"),
    ({"reference_income": "30000", "parts": "'; DROP TABLE fees;--"}, "parts", "par exemple"),
]


@pytest.mark.parametrize(("data", "field", "message"), TAX_CASES)
def test_bad_tax_figures_are_refused_next_to_the_field(
    parent_client, parent, year, tax_grid, data, field, message
):
    response = parent_client.post(edit_url(year), data)
    assert message in errors(response, field)
    assert f'id="id_{field}"' in response.text
    assert_error_next_to_field(response.text, field)
    assert "<script>alert(1)</script>" not in response.text
    assert not FamilyIncome.objects.exists()


CAF_CASES = [
    ({}, "caf_quotient", "Saisissez le quotient familial"),
    ({}, "caf_number", "Saisissez votre numéro d’allocataire"),
    ({"caf_quotient": "0", "caf_number": "1234567"}, "caf_quotient", "contacter le secrétariat"),
    ({"caf_quotient": "-3", "caf_number": "1234567"}, "caf_quotient", "négatif"),
    ({"caf_quotient": "99999", "caf_number": "1234567"}, "caf_quotient", "vérifiez"),
    ({"caf_quotient": "742", "caf_number": "1" * 21}, "caf_number", "au plus 10 chiffres"),
    ({"caf_quotient": "742", "caf_number": "1" * 31}, "caf_number", "plus court"),
    ({"caf_quotient": "742", "caf_number": "12AB<b>"}, "caf_number", "chiffres uniquement"),
    ({"caf_quotient": "742", "caf_number": "١٢٣٤"}, "caf_number", "chiffres uniquement"),
]


@pytest.mark.parametrize(("data", "field", "message"), CAF_CASES)
def test_bad_caf_figures_are_refused_next_to_the_field(parent_client, year, data, field, message):
    grid(year, FeeGrid.QFFormula.CAF)
    response = parent_client.post(edit_url(year), data)
    assert message in errors(response, field)
    assert_error_next_to_field(response.text, field)
    assert not FamilyIncome.objects.exists()


def test_without_a_grid_the_family_must_choose_where_figures_come_from(parent_client, year):
    response = parent_client.post(edit_url(year), {"reference_income": "30000", "parts": "2"})
    assert "Choisissez" in errors(response, "source")
    assert_error_next_to_field(response.text, "source")  # Radio buttons in a fieldset.
    # Only the chosen source's figures are checked.
    response = parent_client.post(
        edit_url(year), {"source": "caf", "reference_income": "-5", "parts": "40"}
    )
    assert errors(response, "reference_income") == errors(response, "parts") == ""
    assert "Saisissez le quotient familial" in errors(response, "caf_quotient")
    response = parent_client.post(edit_url(year), {"source": "rfr", "caf_quotient": "742"})
    assert "Choisissez" in errors(response, "source")


# Saving: the band at once, to be checked.


@pytest.mark.parametrize(
    ("reference_income", "parts", "quotient", "band"),
    [
        ("32 480", "1,5", "1804.44", "T4"),
        ("32\u202f480,50", "1.5", "1804.47", "T4"),
        ("14400", "1,5", "800.00", "T3"),  # At a band's lower boundary.
        ("14399", "1,5", "799.94", "T2"),
        ("1", "12", "0.01", "T1"),
        ("9 999 999", "1", "833333.25", "T4"),
    ],
)
def test_the_band_is_shown_at_once_to_be_checked(
    parent_client, parent, year, tax_grid, reference_income, parts, quotient, band
):
    response = parent_client.post(
        edit_url(year), {"reference_income": reference_income, "parts": parts}, follow=True
    )
    assert response.redirect_chain == [(INCOME, 302)]
    income = FamilyIncome.objects.get()
    assert (income.family, income.school_year, income.source) == (parent.family, year, "tax_notice")
    assert income.quotient == Decimal(quotient)
    assert not income.verified
    page = response.text
    assert f"Tranche</dt>\n    <dd>{band}" in page
    assert "à vérifier" in page
    assert f"tranche {band}, à vérifier par le secrétariat" in page


def test_caf_quotient_per_the_grid(parent_client, year):
    grid(year, FeeGrid.QFFormula.CAF)
    form = parent_client.get(edit_url(year)).context["form"]
    assert set(form.fields) == {"caf_quotient", "caf_number"}
    parent_client.post(edit_url(year), {"caf_quotient": "742", "caf_number": "123 4567"})
    income = FamilyIncome.objects.get()
    assert (income.source, income.caf_quotient, income.caf_number) == (
        "caf",
        Decimal(742),
        "1234567",
    )
    assert income.reference_income is None
    assert "<dd>T2" in parent_client.get(INCOME).text


def test_without_a_grid_both_are_offered_and_no_band_is_shown(parent_client, year):
    form = parent_client.get(edit_url(year)).context["form"]
    assert set(form.fields) == {"source", "reference_income", "parts", "caf_quotient", "caf_number"}
    response = parent_client.post(
        edit_url(year),
        {"source": "caf", "caf_quotient": "742", "caf_number": "1234567", "parts": "2"},
        follow=True,
    )
    income = FamilyIncome.objects.get()
    assert (income.source, income.parts) == ("caf", None)
    assert "ne sont pas encore publiées" in response.text
    assert "à vérifier" in response.text


def test_form_shows_the_saved_figures(parent_client, parent, year, tax_grid):
    FamilyIncome.objects.create(
        family=parent.family,
        school_year=year,
        reference_income=Decimal(32480),
        parts=Decimal("2.50"),
    )
    form = parent_client.get(edit_url(year)).context["form"]
    assert form["reference_income"].value() == "32480"
    assert form["parts"].value() == "2,5"
    assert "<dt>Nombre de parts</dt><dd>2,5</dd>" in parent_client.get(INCOME).text


# A change after the check asks for a new check; history kept.


def test_a_change_after_verification_asks_for_a_new_check(parent_client, parent, year, tax_grid):
    secretary = factories.staff(year.site, [])
    income = FamilyIncome.objects.create(
        family=parent.family,
        school_year=year,
        reference_income=Decimal(30000),
        parts=Decimal(2),
        verified=True,
        verified_by=secretary,
        verified_at=clock.NOW,
    )
    # The same figures, written differently: nothing changes, still verified.
    response = parent_client.post(
        edit_url(year), {"reference_income": "30 000,00", "parts": "2,00"}, follow=True
    )
    assert "Aucune modification." in response.text
    income.refresh_from_db()
    assert income.verified and income.verified_by == secretary
    assert income.history.count() == 1
    assert "vérifié" in response.text and "à vérifier" not in response.text

    parent_client.post(edit_url(year), {"reference_income": "31000", "parts": "2"})
    income.refresh_from_db()
    assert (income.verified, income.verified_at, income.verified_by) == (False, None, None)
    assert income.reference_income == Decimal(31000)
    records = list(income.history.order_by("history_date"))
    assert [r.reference_income for r in records] == [Decimal(30000), Decimal(31000)]
    assert records[-1].history_user == parent
    assert records[-1].verified is False and records[0].verified is True


def test_history_records_the_family_as_author(parent_client, parent, year, tax_grid):
    parent_client.post(edit_url(year), {"reference_income": "30000", "parts": "2"})
    parent_client.post(edit_url(year), {"reference_income": "30000", "parts": "2,5"})
    records = FamilyIncome.objects.get().history.order_by("history_date")
    assert [(r.history_type, r.parts, r.history_user) for r in records] == [
        ("+", Decimal(2), parent),
        ("~", Decimal("2.5"), parent),
    ]


# Which years.


def test_next_year_is_offered_once_the_site_has_it(parent_client, parent, year, tax_grid):
    older = factories.school_year(year.site, clock.THIS_YEAR - 1)
    page = parent_client.get(INCOME)
    assert [row.year for row in page.context["rows"]] == [year]
    assert parent_client.get(edit_url(older)).status_code == 404
    following = factories.school_year(year.site, clock.THIS_YEAR + 1)
    page = parent_client.get(INCOME)
    assert [row.year for row in page.context["rows"]] == [year, following]
    # Next year has no grid yet: both sources offered.
    assert "source" in parent_client.get(edit_url(following)).context["form"].fields
    parent_client.post(
        edit_url(following), {"source": "tax_notice", "reference_income": "40000", "parts": "3"}
    )
    assert FamilyIncome.objects.get().school_year == following


# Owner, stranger, anonymous, staff.


def test_a_family_sees_and_edits_only_its_own_figures(
    parent_client, parent, other_parent, year, tax_grid
):
    their_year = factories.school_year(other_parent.family.site)
    theirs = FamilyIncome.objects.create(
        family=other_parent.family,
        school_year=their_year,
        reference_income=Decimal("98765"),
        parts=Decimal(1),
    )
    page = parent_client.get(INCOME)
    assert "98\u202f765" not in page.text and "Le Goff" not in page.text
    assert parent_client.get(edit_url(their_year)).status_code == 404
    response = parent_client.post(edit_url(their_year), {"reference_income": "1000", "parts": "1"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.reference_income == Decimal("98765")
    # Their own page shows their figures.
    mine = factories.signed_in(other_parent).get(INCOME)
    assert "98\u202f765,00\xa0€" in mine.text


@pytest.mark.parametrize("url", ["income", "edit", "upload"])
def test_anonymous_and_staff_are_turned_away(combs, year, url):
    address = {"income": INCOME, "edit": edit_url(year), "upload": UPLOAD}[url]
    anonymous = Client()
    response = anonymous.post(address) if url == "upload" else anonymous.get(address)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    staff = factories.signed_in(factories.staff(combs, []))
    response = staff.post(address) if url == "upload" else staff.get(address)
    assert response.status_code == 404


# The tax notice.


def test_the_notice_is_uploaded_as_the_income_proving_kind(parent_client, parent, combs, year):
    notice = notice_kind(combs)
    address = DocumentKind.objects.create(
        site=combs, name="Justificatif de domicile", required=True
    )
    page = parent_client.get(INCOME)
    assert list(page.context["upload_form"].fields["kind"].queryset) == [notice]
    assert [item.kind for item in page.context["checklist"]] == [notice]
    assert "Manquant" in page.text

    response = parent_client.post(
        UPLOAD, {"kind": address.pk, "file": SimpleUploadedFile("a.pdf", files.pdf())}
    )
    assert response.status_code == 400
    assert "Choisissez un type de document dans la liste" in response.text
    assert not FamilyDocument.objects.exists()

    response = parent_client.post(
        UPLOAD,
        {"kind": notice.pk, "file": SimpleUploadedFile("avis.pdf", files.pdf())},
        follow=True,
    )
    assert response.redirect_chain == [(INCOME, 302)]
    document = FamilyDocument.objects.get()
    assert (document.family, document.kind, document.uploaded_by) == (parent.family, notice, parent)
    assert "avis.pdf" in response.text
    assert response.context["checklist"][0].state == "pending"


def test_a_bad_file_is_refused_on_the_page(parent_client, combs, year):
    notice = notice_kind(combs)
    response = parent_client.post(
        UPLOAD, {"kind": notice.pk, "file": SimpleUploadedFile("avis.pdf", b"<html>")}
    )
    assert response.status_code == 400
    assert response.context["upload_form"].errors["file"]
    assert not FamilyDocument.objects.exists()


def test_without_an_income_kind_no_upload_is_offered(parent_client, combs, year):
    DocumentKind.objects.create(site=combs, name="Justificatif de domicile")
    page = parent_client.get(INCOME)
    assert page.context["checklist"] == []
    assert UPLOAD not in page.text


# The Famille tab.


def test_the_family_tab_links_to_the_page_and_stays_current(parent_client, year):
    family = parent_client.get(reverse("families:family")).text
    assert f'href="{INCOME}"' in family
    for page in [INCOME, edit_url(year)]:
        text = parent_client.get(page).text
        assert f'<a href="{reverse("families:family")}" aria-current="page">' in text


# HTML and queries.


def test_the_pages_are_valid_html(parent_client, parent, combs, year, tax_grid, tmp_path):
    notice = notice_kind(combs)
    add_notice(parent.family, notice)
    following = factories.school_year(combs, clock.THIS_YEAR + 1)
    pages = {"empty": parent_client.get(INCOME).text}
    pages["form-tax"] = parent_client.get(edit_url(year)).text
    pages["form-choice"] = parent_client.get(edit_url(following)).text
    pages["form-errors"] = parent_client.post(edit_url(year), {"parts": "40"}).text
    pages["form-choice-errors"] = parent_client.post(edit_url(following), {"parts": "x"}).text
    parent_client.post(edit_url(year), {"reference_income": "30000", "parts": "2"})
    pages["filled"] = parent_client.get(INCOME).text
    pages["upload-errors"] = parent_client.post(UPLOAD, {}).text
    pages["family"] = parent_client.get(reverse("families:family")).text
    assert validate(pages, tmp_path) == []


def test_query_count_is_bounded_and_the_same_for_1_and_5_students(
    combs, django_assert_max_num_queries
):
    this_year = factories.school_year(combs)
    following = factories.school_year(combs, clock.THIS_YEAR + 1)
    grid(this_year)
    grid(following, FeeGrid.QFFormula.CAF)
    structure = factories.structure(combs, this_year)
    kind = notice_kind(combs)
    counts = []
    for size, username in [(1, "petite"), (5, "grande")]:
        parent = factories.make_parent(combs, username=username, family_name=username.title())
        for n in range(size):
            factories.student(parent.family, f"Élève {n}", courses=structure["courses"])
            add_notice(parent.family, kind, f"avis-{n}.pdf")
        for year in (this_year, following):
            FamilyIncome.objects.create(
                family=parent.family,
                school_year=year,
                reference_income=Decimal(30000),
                parts=Decimal(2),
            )
        client = factories.signed_in(parent)
        # Session and account, years (2), grids and their bands, incomes, kinds, notices
        # (10 here): nothing per student, document or year declared.
        with django_assert_max_num_queries(21) as queries:
            assert client.get(INCOME).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# The secretariat.

PERMISSIONS = ["view_familyincome", "change_familyincome", "view_familydocument"]


@pytest.fixture
def checked(parent, other_parent, year, tax_grid):
    """A Combs declaration with its notice, and a Ploufragan one."""
    notice = add_notice(parent.family, notice_kind(parent.family.site), "avis-martin.pdf")
    mine = FamilyIncome.objects.create(
        family=parent.family,
        school_year=year,
        reference_income=Decimal(14400),
        parts=Decimal("1.5"),
    )
    their_year = factories.school_year(other_parent.family.site)
    theirs = FamilyIncome.objects.create(
        family=other_parent.family,
        school_year=their_year,
        reference_income=Decimal(50000),
        parts=Decimal(2),
    )
    secretary = factories.staff(parent.family.site, PERMISSIONS)
    return {"mine": mine, "theirs": theirs, "notice": notice, "secretary": secretary}


def admin_change(income):
    return reverse("admin:fees_familyincome_change", args=[income.pk])


def test_the_secretary_lists_her_site_with_quotient_and_band(checked):
    client = factories.signed_in(checked["secretary"])
    changelist = reverse("admin:fees_familyincome_changelist")
    response = client.get(changelist)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [checked["mine"]]
    assert "800,00\xa0€" in response.text
    assert '<td class="field-band_display">T3</td>' in response.text
    assert list(client.get(changelist, {"q": "Le Goff"}).context["cl"].result_list) == []
    assert list(client.get(changelist, {"q": "mart"}).context["cl"].result_list) == [
        checked["mine"]
    ]
    assert client.get(changelist, {"verified__exact": "1"}).context["cl"].result_count == 0
    assert client.get(changelist, {"verified__exact": "0"}).context["cl"].result_count == 1
    year = checked["mine"].school_year_id
    assert client.get(changelist, {"school_year__id__exact": year}).context["cl"].result_count == 1


def test_the_notice_is_beside_the_figures(checked):
    client = factories.signed_in(checked["secretary"])
    response = client.get(admin_change(checked["mine"]))
    assert response.status_code == 200
    file_url = reverse("admin:families_familydocument_file", args=[checked["notice"].pk])
    assert f'<a href="{file_url}">avis-martin.pdf</a>' in response.text
    assert client.get(file_url).status_code == 200
    assert "T3" in response.text


def test_another_sites_income_is_out_of_reach(checked):
    client = factories.signed_in(checked["secretary"])
    theirs = checked["theirs"]
    response = client.get(admin_change(theirs))
    assert response.status_code == 302  # The admin's "does not exist" redirect.
    assert response["Location"] == reverse("admin:index")
    history = reverse("admin:fees_familyincome_history", args=[theirs.pk])
    assert client.get(history).status_code == 404
    client.post(
        reverse("admin:fees_familyincome_changelist"),
        {"action": "verify", "_selected_action": [theirs.pk]},
    )
    theirs.refresh_from_db()
    assert not theirs.verified


def test_the_action_marks_verified(checked):
    secretary = checked["secretary"]
    client = factories.signed_in(secretary)
    response = client.post(
        reverse("admin:fees_familyincome_changelist"),
        {"action": "verify", "_selected_action": [checked["mine"].pk]},
        follow=True,
    )
    assert "1 quotient marqué comme vérifié." in response.text
    mine = checked["mine"]
    mine.refresh_from_db()
    assert (mine.verified, mine.verified_by) == (True, secretary)
    assert mine.verified_at is not None
    assert mine.history.first().history_user == secretary


def change_data(income, **changes):
    data = {
        "source": income.source,
        "reference_income": str(income.reference_income or ""),
        "parts": str(income.parts or "").replace(".", ","),
        "caf_quotient": "",
        "caf_number": "",
    }
    if income.verified:
        data["verified"] = "on"
    data.update(changes)
    return data


def test_the_change_form_marks_verified(checked):
    secretary = checked["secretary"]
    client = factories.signed_in(secretary)
    mine = checked["mine"]
    response = client.post(admin_change(mine), change_data(mine, verified="on"))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.verified, mine.verified_by, mine.reference_income) == (
        True,
        secretary,
        Decimal(14400),
    )
    # Unchecked again: the check is withdrawn.
    data = change_data(mine)
    del data["verified"]
    client.post(admin_change(mine), data)
    mine.refresh_from_db()
    assert (mine.verified, mine.verified_at, mine.verified_by) == (False, None, None)


def test_the_secretary_corrects_the_figures_and_they_are_verified_by_her(checked):
    secretary = checked["secretary"]
    client = factories.signed_in(secretary)
    mine = checked["mine"]
    response = client.post(admin_change(mine), change_data(mine, parts="2,5"))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.parts, mine.verified, mine.verified_by) == (Decimal("2.5"), True, secretary)
    assert mine.history.first().history_user == secretary


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"parts": "40"}, "parts", "au plus 12"),
        ({"parts": "1,3"}, "parts", "par quarts"),
        ({"reference_income": "0"}, "reference_income", "contacter le secrétariat"),
        ({"reference_income": "-1"}, "reference_income", "négatif"),
        ({"source": "caf"}, "caf_number", "Saisissez votre numéro d’allocataire"),
    ],
)
def test_the_admin_refuses_bad_figures(checked, changes, field, message):
    client = factories.signed_in(checked["secretary"])
    mine = checked["mine"]
    response = client.post(admin_change(mine), change_data(mine, **changes))
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])
    mine.refresh_from_db()
    assert not mine.verified
