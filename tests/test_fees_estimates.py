"""The fee estimate families read on the re-enrollment validation step and on the
Facturation tab: per student and per item, each line explained, totals per year and
per term, the warnings about the quotient, and no price invented."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fees.models import FeeGrid, Price
from reenrollment.models import ReenrollmentRequest, Wish
from students.models import Enrollment

from . import factories
from .factories import make_parent
from .test_html_valid import validate


def plain(response):
    """The page's text, without tags, every run of spaces (non-breaking ones too) one space."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def data(combs):
    return factories.campaign(combs)


@pytest.fixture
def family(parent):
    factories.payer(parent.family)
    return parent.family


@pytest.fixture
def lea(family, data):
    """Formation musicale and dance this year."""
    courses = data["courses"]
    return factories.student(family, "Léa", courses=[courses[0], courses[2]])


@pytest.fixture
def hugo(family, data):
    """Piano this year."""
    return factories.student(
        family, "Hugo", courses=[data["courses"][1]], birth_date=date(2017, 10, 2), sex="M"
    )


def wishes(student, campaign, continued=(), new=()):
    """The request with its wishes saved: this year's courses of `continued`
    disciplines continued (the others stopped), `new` disciplines wished."""
    request = ReenrollmentRequest.objects.create(
        campaign=campaign, student=student, wishes_saved_at=campaign.opens_at
    )
    for enrollment in Enrollment.objects.filter(
        student=student, course__school_year=campaign.previous_year()
    ).select_related("course"):
        keep = enrollment.course.discipline in continued
        Wish.objects.create(
            request=request,
            enrollment=enrollment,
            discipline=enrollment.course.discipline,
            choice=Wish.Choice.CONTINUE if keep else Wish.Choice.STOP,
        )
    for rank, discipline in enumerate(new, start=1):
        Wish.objects.create(
            request=request, discipline=discipline, choice=Wish.Choice.NEW, rank=rank
        )
    return request


def validation(client, student):
    return client.get(reverse("reenrollment:validation", args=[student.pk]))


@pytest.fixture
def next_grid(combs, data):
    return factories.fee_grid(combs, data["next_year"], billing=FeeGrid.Billing.TERMS)


@pytest.fixture
def wished(data, lea, hugo):
    """Léa continues formation musicale and dance; Hugo continues piano and
    starts formation musicale."""
    wishes(lea, data["campaign"], continued=[data["fm"], data["dance"]])
    wishes(hugo, data["campaign"], continued=[data["piano"]], new=[data["fm"]])


# The validation step: next year's wishes priced.


def test_validation_step_shows_the_wishes_priced(
    parent_client, data, family, wished, lea, next_grid
):
    """By hand, with a declared quotient of 22 260 € ÷ 12 ÷ 2,5 = 742 € (T2), in the
    agglomeration: Hugo's cursus 250 €, the dearest student; Léa's dance 120 − 10 % =
    108 €, her formation musicale, second discipline, 90 − 50 % − 10 % = 40,50 €; the
    registration fee 20 €: 418,50 € in all. Per term, each line shared in three, the odd
    cents on the first term: 139,52 €, 139,49 €, 139,49 €."""
    factories.income(family, data["next_year"])
    page = validation(parent_client, lea)
    assert page.status_code == 200
    shown = plain(page)
    year = data["next_year"].name
    assert f"Estimation des frais {year}" in shown
    heading = "Tarif T2 (QF 742 €) à vérifier, Agglomération"
    for expected in [
        "Pour Hugo",
        f"Cursus complet {heading} 250,00 €",
        "Total pour Hugo 250,00 €",
        "Pour Léa",
        f"Danse {heading} ; 2e enfant : −10 % 108,00 €",
        f"Formation musicale seule {heading} ; Deuxième discipline : −50 % ; 2e enfant : −10 % "
        "40,50 €",
        "Total pour Léa 148,50 €",
        "Pour la famille",
        f"Frais de dossier {heading} 20,00 €",
        "Total de l’année 418,50 €",
        "Trimestre 1, à régler le 15/11/",
        "139,52 €",
        "Trimestre 2, à régler le 15/02/",
        "Trimestre 3, à régler le 15/05/",
        "Estimation établie avec le quotient déclaré, à vérifier par le secrétariat.",
    ]:
        assert expected in shown, expected
    assert shown.count("139,49 €") == 2
    # Hugo first: the dearest student comes first, as the reductions are counted.
    assert shown.index("Pour Hugo") < shown.index("Pour Léa") < shown.index("Pour la famille")
    assert "Sans quotient familial" not in shown


def test_a_stopped_course_is_not_priced(parent_client, data, family, lea, next_grid):
    """Léa stops dance: formation musicale alone, full price (no second discipline,
    no brother or sister), T3 without a quotient, plus the registration fee."""
    wishes(lea, data["campaign"], continued=[data["fm"]])
    shown = plain(validation(parent_client, lea))
    assert "Danse" not in shown.split("Estimation des frais")[1].split("Règlement")[0]
    assert (
        "Formation musicale seule Tarif T3 (sans quotient familial), Agglomération 120,00" in shown
    )
    assert "Total de l’année 140,00" in shown
    assert "Sans quotient familial, le tarif le plus élevé s’applique." in shown


def test_wishes_not_saved_count_this_years_courses(
    parent_client, data, family, lea, hugo, next_grid
):
    """Léa's wishes are saved (formation musicale only); Hugo's are not: his piano
    is counted as continued, and the page says so. Verified quotient of 1 000 € (T3):
    Hugo's piano 260 €; Léa's formation musicale 120 − 10 % = 108 €; fee 20 €."""
    factories.income(family, data["next_year"], reference_income="30000", verified=True)
    wishes(lea, data["campaign"], continued=[data["fm"]])
    shown = plain(validation(parent_client, lea))
    assert "Les souhaits de Hugo ne sont pas encore enregistrés" in shown
    assert "Instrument seul Tarif T3 (QF 1" in shown
    assert "Total de l’année 388,00" in shown
    assert "à vérifier par le secrétariat" not in shown
    assert "Sans quotient familial" not in shown


def test_outside_the_agglomeration(parent_client, data, family, lea, next_grid):
    family.guardians.update(postal_code="91100", city="Corbeil-Essonnes")
    wishes(lea, data["campaign"], continued=[data["fm"]])
    shown = plain(validation(parent_client, lea))
    assert "Tarif T3 (sans quotient familial), Hors agglomération 240,00" in shown


def test_no_estimate_without_a_grid(parent_client, data, family, wished, lea):
    shown = plain(validation(parent_client, lea))
    assert "Estimation des frais" not in shown


@pytest.mark.parametrize("problem", ["no postal code", "no price"])
def test_an_estimate_that_cannot_be_computed_invents_no_price(
    parent_client, data, family, wished, lea, next_grid, problem
):
    if problem == "no postal code":
        family.guardians.update(postal_code="")
    else:
        Price.objects.filter(item=next_grid["items"]["Danse"]).delete()
    shown = plain(validation(parent_client, lea))
    section = shown.split("Estimation des frais")[1].split("Règlement intérieur")[0]
    assert "le secrétariat les fixera" in section
    assert "€" not in section
    assert "Total" not in section


def test_another_familys_students_and_quotient_are_never_shown(
    parent_client, combs, data, family, wished, lea, next_grid
):
    other = make_parent(combs, username="voisins", family_name="Voisin").family
    factories.payer(other)
    zoe = factories.student(other, "Zoé", courses=[data["courses"][1]])
    wishes(zoe, data["campaign"], continued=[data["piano"]])
    factories.income(other, data["next_year"], reference_income="3000", parts="1", verified=True)
    shown = plain(validation(parent_client, lea))
    assert "Zoé" not in shown
    assert "T1" not in shown
    # Without a quotient of its own, T3: Hugo's cursus 350 €; Léa's dance 160 − 10 % =
    # 144 €, her formation musicale 120 − 50 % − 10 % = 54 €; the fee 20 €.
    assert "Total de l’année 568,00 €" in shown
    # Zoé's page is another family's: a 404.
    assert validation(parent_client, zoe).status_code == 404


# The Facturation tab: this year's enrollments priced.


def statement(client):
    return client.get(reverse("billing:statement"))


def test_statement_shows_this_years_estimate(parent_client, data, family, lea, hugo, combs):
    """This year, no quotient given: T3. Hugo's piano alone 260 €; Léa's dance 160 −
    10 % = 144 €, her formation musicale 120 − 50 % − 10 % = 54 €; the fee 20 €: 478 €,
    billed once a year."""
    factories.fee_grid(combs, data["this_year"])
    shown = plain(statement(parent_client))
    heading = "Tarif T3 (sans quotient familial), Agglomération"
    for expected in [
        f"Estimation des frais {data['this_year'].name}",
        "Sans quotient familial, le tarif le plus élevé s’applique.",
        f"Pour Hugo Prestation Montant Instrument seul {heading} 260,00 € Total pour Hugo 260,00 €",
        f"Danse {heading} ; 2e enfant : −10 % 144,00 €",
        f"Formation musicale seule {heading} ; Deuxième discipline : −50 % ; 2e enfant : −10 % "
        "54,00 €",
        "Total pour Léa 198,00 €",
        f"Frais de dossier {heading} 20,00 €",
        "Total de l’année 478,00 €",
    ]:
        assert expected in shown, expected
    assert "Trimestre" not in shown


def test_statement_with_a_verified_quotient(parent_client, data, family, lea, combs):
    """A verified quotient of 3 000 € ÷ 12 ÷ 1 = 250 € (T1): formation musicale 60 €,
    dance 80 €: the dearer full, the other halved; the fee 20 €."""
    factories.fee_grid(combs, data["this_year"])
    factories.income(family, data["this_year"], reference_income="3000", parts="1", verified=True)
    shown = plain(statement(parent_client))
    assert "Danse Tarif T1 (QF 250 €), Agglomération 80,00 €" in shown
    assert "Total de l’année 130,00 €" in shown
    assert "à vérifier" not in shown
    assert "Sans quotient familial" not in shown


def test_statement_estimate_that_cannot_be_computed(parent_client, data, family, lea, combs):
    factories.fee_grid(combs, data["this_year"])
    family.guardians.all().delete()
    shown = plain(statement(parent_client))
    assert "Estimation des frais" in shown
    assert "le secrétariat les fixera" in shown
    assert "Total de l’année" not in shown


def test_statement_without_a_grid_shows_no_estimate(parent_client, data, lea):
    assert "Estimation des frais" not in plain(statement(parent_client))


def test_statement_never_prices_another_family(parent_client, combs, data, family, lea):
    factories.fee_grid(combs, data["this_year"])
    other = make_parent(combs, username="voisins", family_name="Voisin").family
    factories.payer(other)
    factories.student(other, "Zoé", courses=[data["courses"][1]])
    shown = plain(statement(parent_client))
    assert "Zoé" not in shown
    assert "Instrument seul" not in shown
    # Léa alone, T3: dance 160 €, formation musicale 60 €, fee 20 €.
    assert "Total de l’année 240,00 €" in shown


# Query counts: the same for 1 and 4 students.


def family_of(combs, data, size, username):
    parent = make_parent(combs, username=username, family_name=username.title())
    factories.payer(parent.family)
    factories.income(parent.family, data["this_year"])
    factories.income(parent.family, data["next_year"])
    students = []
    for n in range(size):
        courses = data["courses"][:3] if n % 2 else [data["courses"][0], data["courses"][2]]
        student = factories.student(parent.family, f"Élève{n}", courses=courses)
        if n % 2:
            wishes(
                student,
                data["campaign"],
                continued=[data["fm"], data["piano"]],
                new=[data["dance"]],
            )
        else:
            wishes(student, data["campaign"], continued=[data["fm"], data["dance"]])
        students.append(student)
    client = Client()
    client.force_login(parent)
    return client, students


@pytest.mark.parametrize("page", ["validation", "statement"])
def test_query_count_does_not_grow_with_the_family(
    combs, data, django_assert_max_num_queries, page, settings
):
    # The cache in memory, as Redis would be; each page measured once its cache
    # is warm (the grid's rules, the statement's fragments).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    factories.fee_grid(combs, data["this_year"])
    factories.fee_grid(combs, data["next_year"], billing=FeeGrid.Billing.TERMS)
    counts = []
    for size, username in [(1, "petite"), (4, "grande")]:
        client, students = family_of(combs, data, size, username)
        url = (
            reverse("reenrollment:validation", args=[students[0].pk])
            if page == "validation"
            else reverse("billing:statement")
        )
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        shown = plain(response)
        assert "Total de l’année" in shown
        assert shown.count("Total pour Élève") == size
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    # The page's own queries (the validation step also reads the site's instalment
    # plans) and the family priced, the grid's rules from the cache; the statement
    # from the cache but for the years, plans, payment service and mandate.
    with django_assert_max_num_queries({"validation": 27, "statement": 7}[page]):
        client.get(url)


def test_estimates_are_valid_html(parent_client, data, family, wished, lea, combs, tmp_path):
    factories.fee_grid(combs, data["this_year"])
    factories.fee_grid(combs, data["next_year"], billing=FeeGrid.Billing.TERMS)
    factories.income(family, data["next_year"])
    pages = {
        "validation": validation(parent_client, lea).content.decode(),
        "statement": statement(parent_client).content.decode(),
    }
    assert "Estimation des frais" in pages["validation"]
    assert "Estimation des frais" in pages["statement"]
    assert validate(pages, tmp_path) == []


# The demo data.


def test_demo_grids_and_quotients(demo):
    """Both sites priced for this year and the next; loading again changes nothing.
    Martin, Combs-la-Ville, checked quotient 41 520 € ÷ 12 ÷ 3 = 1 153 € (T5 of 8), in
    Grand Paris Sud: Hugo's formation musicale + piano 310 €; Léa's dance 192 − 10 % =
    172,80 €, her formation musicale 132 − 30 % − 10 % = 83,16 €; the fee 25 €."""
    from io import StringIO

    from django.core.management import call_command

    from families.models import Family
    from fees.estimates import family_estimate
    from fees.models import FamilyIncome
    from students.models import SchoolYear

    counts = (FeeGrid.objects.count(), Price.objects.count(), FamilyIncome.objects.count())
    call_command("load_demo_data", "--force", stdout=StringIO())
    assert counts == (
        FeeGrid.objects.count(),
        Price.objects.count(),
        FamilyIncome.objects.count(),
    )
    for site in demo.values():
        assert sorted(
            FeeGrid.objects.filter(site=site).values_list("school_year__name", flat=True)
        ) == [
            "2026-2027",
            "2027-2028",
        ]
    assert FeeGrid.objects.get(site=demo["combs"], school_year__name="2026-2027").bands.count() == 8
    assert (
        FeeGrid.objects.get(site=demo["ploufragan"], school_year__name="2026-2027").bands.count()
        == 5
    )
    martin = Family.objects.get(site=demo["combs"], accounts__username="demo")
    estimate = family_estimate(martin, SchoolYear.objects.get(site=demo["combs"], name="2026-2027"))
    assert (estimate.band.code, estimate.verified, estimate.problems) == ("T5", True, [])
    assert [line.amount for line in estimate.lines] == [
        Decimal("310.00"),
        Decimal("172.80"),
        Decimal("83.16"),
        Decimal("25.00"),
    ]
    assert estimate.total == Decimal("590.96")
    assert "habitant de l’agglomération Grand Paris Sud\u00a0; 2e enfant : −10 %" in (
        estimate.lines[1].explanation
    )
    # Le Goff, Ploufragan: a declared CAF quotient of 742 € (T2 of 5), not checked yet:
    # Maëlys's dance 126 €, her theatre 112 − 20 % = 89,60 €; Ewen (second child) music
    # school 198 − 10 % = 178,20 €; the membership 15 €.
    le_goff = Family.objects.get(site=demo["ploufragan"], accounts__username="demo")
    year = SchoolYear.objects.get(site=demo["ploufragan"], name="2026-2027")
    estimate = family_estimate(le_goff, year)
    assert (estimate.band.code, estimate.verified, estimate.quotient) == ("T2", False, 742)
    assert estimate.total == Decimal("408.80")


def test_a_new_discipline_without_a_course_next_year_is_priced_as_this_years(
    parent_client, data, family, lea, next_grid
):
    """Léa stops her courses and wishes piano, which has no course next year yet: the
    piano course of this year stands for it (this year's courses are read only when a
    wish needs one: tests/test_query_counts.py)."""
    data["next"]["piano"].delete()
    wishes(lea, data["campaign"], new=[data["piano"]])
    shown = plain(validation(parent_client, lea))
    assert "Instrument seul Tarif T3 (sans quotient familial), Agglomération" in shown
    assert "Formation musicale" not in shown.split("Estimation des frais")[1].split("Règlement")[0]
