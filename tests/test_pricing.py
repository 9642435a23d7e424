"""The pricing function, rule by rule, with the euro amounts worked out by hand.

The grid (agglomeration / outside):
                          T1 (< 400)   T2 (400–800)   T3 (≥ 800)
    Cursus FM + instrument   300/450      400/550        500/650
    Instrument seul (enfant) 250/400      330/480        420/570
    Instrument adulte        600/750      600/750        600/750
    Formation musicale seule 99.99/160    120/160        140/160
    Danse – 1 cours          150/260      180/260        210/260
    Danse – 2 cours          240/400      280/400        320/400
    Frais de dossier (famille) 20/20      20/20          20/20
Reductions: 2nd child −10 %, 3rd and next −20 %, second discipline −15 %, staff's
children −50 %. Three terms: September–December, January–March, April–June.
"""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from families.models import Guardian
from fees.models import Band, Commune, FamilyIncome, FeeGrid, FeeItem, Price, Reduction, Term, Zone
from fees.pricing import price_family, split
from students.models import Course, Discipline, Enrollment

from . import clock, factories

D = Decimal
Category = Discipline.Category
PRICES = {
    # item: ([agglomeration T1, T2, T3], outside T1, T2, T3)
    "Cursus": ([300, 400, 500], [450, 550, 650]),
    "Instrument seul": ([250, 330, 420], [400, 480, 570]),
    "Instrument adulte": ([600, 600, 600], [750, 750, 750]),
    "Formation musicale seule": (["99.99", 120, 140], [160, 160, 160]),
    "Danse – 1 cours": ([150, 180, 210], [260, 260, 260]),
    "Danse – 2 cours": ([240, 280, 320], [400, 400, 400]),
    "Frais de dossier": ([20, 20, 20], [20, 20, 20]),
}


@pytest.fixture
def grid(combs):
    year = factories.school_year(combs)
    grid = FeeGrid.objects.create(site=combs, school_year=year, billing=FeeGrid.Billing.TERMS)
    start = year.start_date
    Term.objects.create(
        grid=grid,
        number=1,
        start_date=start,
        end_date=date(start.year, 12, 20),
        due_date=date(start.year, 10, 15),
    )
    Term.objects.create(
        grid=grid,
        number=2,
        start_date=date(start.year + 1, 1, 4),
        end_date=date(start.year + 1, 3, 31),
        due_date=date(start.year + 1, 1, 31),
    )
    Term.objects.create(
        grid=grid,
        number=3,
        start_date=date(start.year + 1, 4, 1),
        end_date=year.end_date,
        due_date=date(start.year + 1, 4, 30),
    )
    agglo = Zone.objects.create(grid=grid, name="habitant de l'agglomération", position=1)
    outside = Zone.objects.create(grid=grid, name="hors agglomération", is_outside=True, position=2)
    Commune.objects.create(zone=agglo, postal_code="77380", name="Combs-la-Ville")
    Commune.objects.create(zone=agglo, postal_code="91080", name="Évry-Courcouronnes")
    bands = [
        Band.objects.create(grid=grid, code=f"T{n + 1}", min_qf=D(limit))
        for n, limit in enumerate([0, 400, 800])
    ]
    items = {
        "Cursus": {"categories": [Category.MUSICIANSHIP, Category.INSTRUMENT]},
        "Instrument seul": {"categories": [Category.INSTRUMENT], "age": FeeItem.Age.CHILD},
        "Instrument adulte": {"categories": [Category.INSTRUMENT], "age": FeeItem.Age.ADULT},
        "Formation musicale seule": {"categories": [Category.MUSICIANSHIP]},
        "Danse – 1 cours": {"categories": [Category.DANCE], "max_courses": 1},
        "Danse – 2 cours": {"categories": [Category.DANCE], "min_courses": 2},
        "Frais de dossier": {"per_family": True},
    }
    for position, (name, rule) in enumerate(items.items()):
        item = FeeItem.objects.create(grid=grid, name=name, position=position, **rule)
        for zone, prices in zip([agglo, outside], PRICES[name], strict=True):
            for band, price in zip(bands, prices, strict=True):
                Price.objects.create(item=item, band=band, zone=zone, amount=D(str(price)))
    Reduction.objects.create(
        grid=grid, kind=Reduction.Kind.SIBLING, name="2e enfant", from_rank=2, percent=D(10)
    )
    Reduction.objects.create(
        grid=grid,
        kind=Reduction.Kind.SIBLING,
        name="3e enfant et suivants",
        from_rank=3,
        percent=D(20),
    )
    Reduction.objects.create(
        grid=grid, kind=Reduction.Kind.SECOND_DISCIPLINE, name="2e discipline", percent=D(15)
    )
    Reduction.objects.create(
        grid=grid, kind=Reduction.Kind.EXEMPTION, name="Enfant du personnel", percent=D(50)
    )
    return grid


@pytest.fixture
def courses(grid):
    site, year = grid.site, grid.school_year

    def course(name, category, collective=True):
        discipline = Discipline.objects.create(site=site, name=name, category=category)
        return Course.objects.create(
            site=site,
            school_year=year,
            discipline=discipline,
            weekday=2,
            start_time=time(17),
            end_time=time(18),
            is_collective=collective,
        )

    return {
        "fm": course("Formation musicale", Category.MUSICIANSHIP),
        "piano": course("Piano", Category.INSTRUMENT, collective=False),
        "dance": course("Danse classique", Category.DANCE),
        "jazz": course("Danse jazz", Category.DANCE),
        "theatre": course("Théâtre", Category.THEATRE),
    }


def family(
    site,
    name="Martin",
    postal_code="77380",
    city="Combs-la-Ville",
    income=None,
    verified=True,
    grid=None,
):
    user = factories.make_parent(site, username=name.lower(), family_name=name)
    factories.payer(user.family, postal_code=postal_code, city=city)
    if income is not None:
        FamilyIncome.objects.create(
            family=user.family,
            school_year=grid.school_year,
            reference_income=D(income[0]),
            parts=D(income[1]),
            verified=verified,
        )
    return user.family


def child(family, name, *courses, born=date(2015, 3, 12), **enrollment):
    student = factories.student(family, name, birth_date=born)
    for course in courses:
        Enrollment.objects.create(student=student, course=course, **enrollment)
    return student


def amounts(estimate):
    return sorted(
        (
            (line.student.first_name if line.student else "", line.item.name, line.amount)
            for line in estimate.lines
        ),
    )


T1 = ("4000", "1")  # QF 333,33 €


@pytest.mark.parametrize(
    "income, verified, band",
    [
        (("4799.88", "1"), True, "T1"),  # QF 399,99 €
        (("4800", "1"), True, "T2"),  # QF exactly 400 €
        (("9600", "2"), True, "T2"),  # 9 600 ÷ 12 ÷ 2 = 400 €
        (("19199.88", "2"), True, "T2"),  # QF 799,995 €, rounded 800,00 €: T3
        (("19199", "2"), True, "T2"),  # QF 799,96 €
        (("9600", "1"), True, "T3"),  # QF 800 €
        (None, True, "T3"),  # no quotient: the highest band
        (T1, False, "T3"),  # declared, not verified: invoices take the highest
    ],
)
def test_bands_at_their_boundaries(grid, courses, combs, income, verified, band):
    if income == ("19199.88", "2"):
        band = "T3"  # the quotient is rounded to the cent first, as families read it
    martin = family(combs, income=income, verified=verified, grid=grid)
    child(martin, "Léa", courses["piano"], courses["fm"])
    estimate = price_family(martin, grid, verified_only=True)
    assert estimate.band.code == band
    cursus = {"T1": D(300), "T2": D(400), "T3": D(500)}[band]
    assert amounts(estimate) == [("", "Frais de dossier", D(20)), ("Léa", "Cursus", cursus)]
    assert estimate.total == cursus + 20


def test_estimates_use_the_declared_band_with_a_warning(grid, courses, combs):
    martin = family(combs, income=T1, verified=False, grid=grid)
    child(martin, "Léa", courses["piano"], courses["fm"])
    estimate = price_family(martin, grid)
    assert (estimate.band.code, estimate.verified) == ("T1", False)
    with translation.override("fr"):
        explanation = price_family(martin, grid).lines[0].explanation
    assert explanation.startswith("Tarif T1 (QF 333 €) à vérifier, habitant de l'agglomération")


@pytest.mark.parametrize(
    "postal_code, city, zone",
    [
        ("77380", "Combs-la-Ville", "habitant de l'agglomération"),
        ("91080", "EVRY COURCOURONNES", "habitant de l'agglomération"),  # accents, case, hyphens
        ("91080", "Évry-Courcouronnes ", "habitant de l'agglomération"),
        ("75011", "Paris", "hors agglomération"),
        ("77380", "Paris", "hors agglomération"),  # the postal code and the commune together
    ],
)
def test_the_payers_commune_decides_the_zone(grid, courses, combs, postal_code, city, zone):
    martin = family(combs, postal_code=postal_code, city=city, income=T1, grid=grid)
    child(martin, "Léa", courses["piano"])
    estimate = price_family(martin, grid)
    assert estimate.zone.name == zone
    instrument = D(250) if zone.startswith("habitant") else D(400)
    assert amounts(estimate) == [
        ("", "Frais de dossier", D(20)),
        ("Léa", "Instrument seul", instrument),
    ]


def test_the_payer_is_the_responsable_who_pays(grid, courses, combs):
    martin = family(combs, postal_code="75011", city="Paris", income=T1, grid=grid)
    Guardian.objects.filter(family=martin).update(is_payer=False)
    factories.payer(martin, first_name="Paul", position=2)  # lives in Combs-la-Ville
    child(martin, "Léa", courses["piano"])
    assert price_family(martin, grid).zone.name == "habitant de l'agglomération"


def test_brothers_and_sisters_the_most_expensive_first(grid, courses, combs):
    martin = family(combs, income=T1, grid=grid)
    child(martin, "Anna", courses["dance"])  # 150
    child(martin, "Bruno", courses["piano"], courses["fm"])  # 300, the first
    child(martin, "Chloé", courses["piano"])  # 250, the second: −10 %
    estimate = price_family(martin, grid)
    assert amounts(estimate) == [
        ("", "Frais de dossier", D(20)),
        ("Anna", "Danse – 1 cours", D("120.00")),  # third: 150 − 20 %
        ("Bruno", "Cursus", D(300)),
        ("Chloé", "Instrument seul", D("225.00")),
    ]
    assert estimate.total == D("665.00")
    with translation.override("fr"):
        anna = next(
            line
            for line in price_family(martin, grid).lines
            if line.student and line.student.first_name == "Anna"
        )
    assert anna.explanation.endswith("\u00a0; 3e enfant et suivants : −20 %")


def test_a_second_discipline_of_the_same_student(grid, courses, combs):
    martin = family(combs, income=T1, grid=grid)
    child(martin, "Léa", courses["piano"], courses["dance"])
    assert amounts(price_family(martin, grid)) == [
        ("", "Frais de dossier", D(20)),
        ("Léa", "Danse – 1 cours", D("127.50")),  # the cheaper one: 150 − 15 %
        ("Léa", "Instrument seul", D(250)),
    ]


def test_courses_counted_for_an_item(grid, courses, combs):
    martin = family(combs, income=T1, grid=grid)
    child(martin, "Léa", courses["dance"], courses["jazz"])
    assert amounts(price_family(martin, grid)) == [
        ("", "Frais de dossier", D(20)),
        ("Léa", "Danse – 2 cours", D(240)),
    ]


def test_rounding_half_up_to_the_cent(grid, courses, combs):
    martin = family(combs, income=T1, grid=grid)
    child(martin, "Léa", courses["piano"], courses["dance"], courses["jazz"])  # 250 + 240
    child(martin, "Hugo", courses["fm"])  # 99,99 − 10 % = 89,991 → 89,99
    estimate = price_family(martin, grid)
    assert {(s, i): a for s, i, a in amounts(estimate)}[("Hugo", "Formation musicale seule")] == D(
        "89.99"
    )
    # Léa's dance, the cheaper of her two: 240 − 15 % = 204,00
    assert ("Léa", "Danse – 2 cours", D("204.00")) in amounts(estimate)


@pytest.mark.parametrize(
    "starts, stops, terms, amount",
    [
        (None, None, (1, 2, 3), D(250)),
        ("january", None, (2, 3), D("166.67")),  # 250 × 2 ÷ 3 = 166,666…
        ("christmas", None, (2, 3), D("166.67")),  # joined in the holidays: from the next term
        ("term_end", None, (1, 2, 3), D(250)),  # joined on the first term's last day
        (None, "november", (1,), D("83.33")),  # stopped during the first term
        (None, "april", (1, 2, 3), D(250)),  # stopped in the third term: charged to its end
        ("january", "february", (2,), D("83.33")),
    ],
)
def test_proration_by_term(grid, courses, combs, starts, stops, terms, amount):
    year = grid.school_year.start_date.year
    days = {
        "january": date(year + 1, 1, 15),
        "christmas": date(year, 12, 28),
        "november": date(year, 11, 20),
        "april": date(year + 1, 4, 10),
        "february": date(year + 1, 2, 10),
        "term_end": date(year, 12, 20),
        None: None,
    }
    martin = family(combs, income=T1, grid=grid)
    child(martin, "Léa", courses["piano"], starts_on=days[starts], stops_on=days[stops])
    line = next(line for line in price_family(martin, grid).lines if line.student)
    assert (line.terms, line.amount) == (terms, amount)


def test_adults_from_the_grids_age_on_the_first_day(grid, courses, combs):
    first_day = grid.school_year.start_date
    martin = family(combs, income=T1, grid=grid)
    eighteen = first_day.replace(year=first_day.year - 18)
    child(martin, "Adulte", courses["piano"], born=eighteen)
    child(martin, "Presque", courses["piano"], born=eighteen + timedelta(days=1))
    assert amounts(price_family(martin, grid)) == [
        ("", "Frais de dossier", D(20)),
        ("Adulte", "Instrument adulte", D(600)),
        ("Presque", "Instrument seul", D("225.00")),  # 250, second child −10 %
    ]


def test_an_exemption_applies_to_the_families_named(grid, courses, combs):
    martin = family(combs, income=T1, grid=grid)
    child(martin, "Léa", courses["piano"], courses["fm"])
    Reduction.objects.get(kind=Reduction.Kind.EXEMPTION).families.add(martin)
    assert amounts(price_family(martin, grid)) == [
        ("", "Frais de dossier", D("10.00")),
        ("Léa", "Cursus", D("150.00")),
    ]


def test_terms_share_the_year_with_the_odd_cents_first(grid, courses, combs):
    martin = family(combs, income=T1, grid=grid)
    child(martin, "Léa", courses["fm"])  # 99,99 + 20 = 119,99
    periods = [(term.number, amount) for term, amount in price_family(martin, grid).by_period()]
    assert periods == [(1, D("40.01")), (2, D("39.99")), (3, D("39.99"))]
    assert split(D("100.00"), [1, 2, 3]) == [(1, D("33.34")), (2, D("33.33")), (3, D("33.33"))]
    grid.billing = FeeGrid.Billing.ANNUAL
    grid.save()
    assert [amount for _, amount in price_family(martin, grid).by_period()] == [D("119.99")]


def test_what_cannot_be_priced_is_said_not_invented(grid, courses, combs):
    martin = family(combs, income=T1, grid=grid)
    child(martin, "Léa", courses["theatre"], courses["piano"])
    Price.objects.filter(item__name="Instrument seul", band__code="T1").delete()
    estimate = price_family(martin, grid)
    assert not estimate.priced
    with translation.override("fr"):
        problems = price_family(martin, grid).problems
    assert len(problems) == 2
    assert "Théâtre" in problems[0] and "Instrument seul" in problems[1]
    nowhere = family(combs, name="Sansadresse", postal_code=" ", income=T1, grid=grid)
    child(nowhere, "Zoé", courses["piano"])
    assert price_family(nowhere, grid).problems and not price_family(nowhere, grid).lines


def test_a_family_without_enrollment_owes_nothing(grid, courses, combs):
    martin = family(combs, income=T1, grid=grid)
    factories.student(martin, "Léa")
    estimate = price_family(martin, grid)
    assert (estimate.lines, estimate.total, estimate.priced) == ([], 0, True)


def test_last_years_enrollments_are_not_priced(grid, courses, combs):
    martin = family(combs, income=T1, grid=grid)
    last = factories.school_year(combs, start_year=clock.THIS_YEAR - 1)
    old = Course.objects.create(
        site=combs,
        school_year=last,
        weekday=1,
        start_time=time(10),
        end_time=time(11),
        discipline=courses["piano"].discipline,
    )
    child(martin, "Léa", old)
    assert price_family(martin, grid).lines == []
