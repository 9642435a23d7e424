"""Demonstration fee grids: each site's, voted for this year and the next,
and the demo families' quotients familiaux (one checked, one declared)."""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from extranet.models import Site, User
from families.models import Family
from students.models import SchoolYear

from .models import (
    Band,
    Commune,
    FamilyIncome,
    FeeGrid,
    FeeItem,
    InstalmentPlan,
    PlanChoice,
    Price,
    Reduction,
    Term,
    Zone,
)
from .permissions import grant_secretariat

PARIS = ZoneInfo("Europe/Paris")

# (name, what it prices), tried in this order for each student: Combs-la-Ville's.
ITEMS = [
    (
        "Cursus complet : formation musicale + instrument + pratique collective",
        {"categories": ["instrument", "musicianship", "ensemble"]},
    ),
    (
        "Cursus : formation musicale + instrument",
        {"categories": ["instrument", "musicianship"]},
    ),
    ("Instrument seul", {"categories": ["instrument"], "course_kind": "individual"}),
    ("Formation musicale seule", {"categories": ["musicianship"]}),
    ("Pratique collective seule", {"categories": ["ensemble"]}),
    ("Danse – 1 cours", {"categories": ["dance"], "max_courses": 1}),
    ("Danse – 2 cours", {"categories": ["dance"], "min_courses": 2}),
    ("Éveil musical", {"categories": ["other"]}),
    ("Théâtre", {"categories": ["theatre"]}),
    ("Frais de dossier", {"per_family": True}),
]

# Ploufragan's centre culturel: its music school, dance, theatre, and a
# membership per family.
PLOUFRAGAN_ITEMS = [
    (
        "École de musique : formation musicale + instrument",
        {"categories": ["instrument", "musicianship"]},
    ),
    ("Instrument seul", {"categories": ["instrument"], "course_kind": "individual"}),
    ("Formation musicale seule", {"categories": ["musicianship"]}),
    ("Éveil musical", {"categories": ["other"]}),
    ("Danse – 1 cours", {"categories": ["dance"], "max_courses": 1}),
    ("Danse – 2 cours", {"categories": ["dance"], "min_courses": 2}),
    ("Atelier théâtre", {"categories": ["theatre"]}),
    ("Adhésion au centre culturel", {"per_family": True}),
]

GRIDS = {
    # Grand Paris Sud: eight bands; non-residents pay one rate whatever their quotient.
    "combs-la-ville": {
        "billing": FeeGrid.Billing.TERMS,
        "items": ITEMS,
        "notes": "Tarifs votés par le conseil communautaire de Grand Paris Sud.",
        "bands": [0, 400, 600, 800, 1000, 1300, 1600, 2000],
        "zone": "habitant de l’agglomération Grand Paris Sud",
        "outside": "hors agglomération",
        "communes": [
            ("77380", "Combs-la-Ville"),
            ("91080", "Évry-Courcouronnes"),
            ("77176", "Savigny-le-Temple"),
            ("91100", "Corbeil-Essonnes"),
            ("77127", "Lieusaint"),
            ("91250", "Saint-Germain-lès-Corbeil"),
            ("77550", "Moissy-Cramayel"),
            ("91130", "Ris-Orangis"),
            ("91350", "Grigny"),
            ("91070", "Bondoufle"),
            ("91090", "Lisses"),
            ("91100", "Villabé"),
            ("91250", "Tigery"),
            ("77240", "Cesson"),
            ("77240", "Vert-Saint-Denis"),
        ],
        # Per item: the residents' price in each band, and the non-residents'.
        "prices": [
            ([105, 150, 198, 252, 310, 372, 438, 510], 765),
            ([105, 150, 198, 252, 310, 372, 438, 510], 765),
            ([84, 120, 158, 201, 247, 297, 350, 408], 612),
            ([45, 63, 84, 107, 132, 158, 186, 216], 324),
            ([30, 42, 56, 71, 87, 105, 123, 144], 216),
            ([66, 93, 123, 156, 192, 231, 272, 318], 477),
            ([99, 140, 185, 235, 289, 347, 409, 477], 716),
            ([39, 54, 72, 92, 113, 135, 159, 186], 279),
            ([60, 84, 111, 141, 174, 209, 246, 288], 432),
            ([25] * 8, 25),
        ],
        "second_discipline": 30,
    },
    # Saint-Brieuc Armor Agglomération: five bands.
    "ploufragan": {
        "billing": FeeGrid.Billing.ANNUAL,
        "items": PLOUFRAGAN_ITEMS,
        "notes": "Tarifs votés par le conseil municipal de Ploufragan.",
        "bands": [0, 500, 900, 1300, 1800],
        "zone": "habitant de Saint-Brieuc Armor Agglomération",
        "outside": "hors agglomération",
        "communes": [
            ("22440", "Ploufragan"),
            ("22000", "Saint-Brieuc"),
            ("22360", "Langueux"),
            ("22950", "Trégueux"),
            ("22190", "Plérin"),
            ("22120", "Yffiniac"),
            ("22120", "Hillion"),
            ("22590", "Pordic"),
            ("22940", "Plaintel"),
            ("22800", "Quintin"),
            ("22680", "Binic-Étables-sur-Mer"),
        ],
        "prices": [
            ([132, 198, 270, 348, 432], 560),
            ([105, 158, 216, 278, 345], 448),
            ([54, 81, 110, 142, 176], 230),
            ([48, 72, 98, 126, 156], 203),
            ([84, 126, 171, 220, 273], 355),
            ([126, 189, 257, 330, 410], 533),
            ([75, 112, 153, 197, 245], 318),
            ([15] * 5, 15),
        ],
        "second_discipline": 20,
    },
}

# Next year's grid: this year's prices raised by 2 %, to the euro.
NEXT_YEAR_INCREASE = Decimal("1.02")

# The demo families' quotients: (site, year, fields); Martin's checked this
# year and declared for next year, Le Goff's declared (CAF) this year only.
INCOMES = [
    (
        "combs-la-ville",
        "2026-2027",
        {"reference_income": Decimal("41520"), "parts": Decimal(3), "verified": True},
    ),
    (
        "combs-la-ville",
        "2027-2028",
        {"reference_income": Decimal("42600"), "parts": Decimal(3)},
    ),
    (
        "ploufragan",
        "2026-2027",
        {
            "source": FamilyIncome.Source.CAF,
            "caf_quotient": Decimal(742),
            "caf_number": "1234567",
        },
    ),
]


def years(site):
    """This year (students/demo.py) and the next (the re-enrollment's, made
    here with the same dates when this runs first)."""
    this_year = SchoolYear.objects.get(site=site, name="2026-2027")
    next_year, _ = SchoolYear.objects.get_or_create(
        site=site,
        name="2027-2028",
        defaults={"start_date": date(2027, 9, 13), "end_date": date(2028, 6, 25)},
    )
    return [(this_year, Decimal(1)), (next_year, NEXT_YEAR_INCREASE)]


def terms(year):
    start, end = year.start_date, year.end_date
    return [
        (1, start, date(start.year, 12, 19), date(start.year, 11, 15)),
        (2, date(start.year + 1, 1, 4), date(start.year + 1, 3, 31), date(start.year + 1, 2, 15)),
        (3, date(start.year + 1, 4, 1), end, date(start.year + 1, 5, 15)),
    ]


def raised(amount, factor):
    return (Decimal(amount) * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def make_grid(site, year, factor, data):
    """The grid of `year`, made once: a grid already there is left as voted."""
    grid, created = FeeGrid.objects.get_or_create(
        site=site, school_year=year, defaults={"billing": data["billing"], "notes": data["notes"]}
    )
    if not created:
        return grid
    for number, first, last, due in terms(year):
        Term.objects.create(grid=grid, number=number, start_date=first, end_date=last, due_date=due)
    bands = [
        Band.objects.create(grid=grid, code=f"T{n}", min_qf=Decimal(floor))
        for n, floor in enumerate(data["bands"], start=1)
    ]
    inside = Zone.objects.create(grid=grid, name=data["zone"], position=1)
    outside = Zone.objects.create(grid=grid, name=data["outside"], is_outside=True, position=2)
    for postal_code, name in data["communes"]:
        Commune.objects.create(zone=inside, postal_code=postal_code, name=name)
    prices = []
    for position, ((name, fields), (resident, other)) in enumerate(
        zip(data["items"], data["prices"], strict=True), start=1
    ):
        item = FeeItem.objects.create(grid=grid, name=name, position=position, **fields)
        for band, amount in zip(bands, resident, strict=True):
            prices.append(Price(item=item, band=band, zone=inside, amount=raised(amount, factor)))
            prices.append(Price(item=item, band=band, zone=outside, amount=raised(other, factor)))
    Price.objects.bulk_create(prices)
    Reduction.objects.create(
        grid=grid, kind=Reduction.Kind.SIBLING, name="2e enfant", from_rank=2, percent=10
    )
    Reduction.objects.create(
        grid=grid,
        kind=Reduction.Kind.SIBLING,
        name="3e enfant et suivants",
        from_rank=3,
        percent=20,
    )
    Reduction.objects.create(
        grid=grid,
        kind=Reduction.Kind.SECOND_DISCIPLINE,
        name="deuxième discipline",
        percent=data["second_discipline"],
    )
    return grid


def load(stdout):
    grant_secretariat()
    for slug, data in GRIDS.items():
        site = Site.objects.get(slug=slug)
        for year, factor in years(site):
            make_grid(site, year, factor, data)
    secretary = User.objects.filter(username="secretariat-combs").first()
    for slug, year_name, fields in INCOMES:
        family = Family.objects.get(site__slug=slug, accounts__username="demo")
        year = SchoolYear.objects.get(site=family.site, name=year_name)
        if fields.get("verified"):
            fields = {
                **fields,
                "verified_at": datetime(2026, 10, 5, 10, tzinfo=PARIS),
                "verified_by": secretary,
            }
        FamilyIncome.objects.get_or_create(family=family, school_year=year, defaults=fields)
    for slug in GRIDS:
        make_plans(Site.objects.get(slug=slug))
    # The Combs family pays by direct debit in ten instalments.
    family = Family.objects.get(site__slug="combs-la-ville", accounts__username="demo")
    PlanChoice.objects.get_or_create(
        family=family,
        school_year=SchoolYear.objects.get(site=family.site, name="2026-2027"),
        defaults={"plan": InstalmentPlan.objects.get(site=family.site, instalments=10)},
    )
    stdout.write(
        "Fee grids 2026-2027 and 2027-2028, the demo families' quotients and the instalment "
        "plans, ready."
    )


ANY_MODE = ["cheque", "cash", "online_card", "direct_debit", "transfer", "ancv"]
PLANS = [
    # name, instalments, first month, months between, day, modes, minimum, default
    ("En une fois", 1, 10, 1, 15, ANY_MODE, "0", True),
    ("3 échéances (octobre, janvier, avril)", 3, 10, 3, 5, ANY_MODE, "30", False),
    ("10 prélèvements mensuels d'octobre à juillet", 10, 10, 1, 5, ["direct_debit"], "15", False),
]


def make_plans(site):
    for position, (name, count, month, between, day, modes, minimum, default) in enumerate(
        PLANS, start=1
    ):
        InstalmentPlan.objects.get_or_create(
            site=site,
            instalments=count,
            defaults={
                "name": name,
                "first_month": month,
                "months_between": between,
                "day": day,
                "modes": modes,
                "min_amount": Decimal(minimum),
                "is_default": default,
                "position": position,
            },
        )
