"""Builders of test objects, in one place: accounts, school years and their courses,
students, re-enrollment campaigns, invoices. Dates come from the suite's frozen today
(tests/clock.py), never from the calendar."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from billing import ledger
from billing.models import Invoice, InvoiceLine, PaymentGateway
from directdebit import mandates
from directdebit.models import Creditor, Mandate
from documents.models import DocumentKind
from extranet.demo import DEMO_PASSWORD
from extranet.models import User
from families.models import Family, Guardian
from fees.models import (
    Band,
    Commune,
    FamilyIncome,
    FeeGrid,
    FeeItem,
    InstalmentPlan,
    Price,
    Reduction,
    Term,
    Zone,
)
from reenrollment.models import ReenrollmentCampaign, SchoolRules
from students.models import (
    ClosurePeriod,
    Course,
    Discipline,
    Enrollment,
    Room,
    SchoolYear,
    Student,
    Teacher,
)

from . import clock

PASSWORD = DEMO_PASSWORD


# Accounts.


@cache
def password_hash():
    """PASSWORD hashed once, shared by every account built below (logging in still checks
    it for real, with the real hashers in the tests about hashing)."""
    return make_password(PASSWORD)


def make_parent(site, username="demo", family_name="Martin", email=None, **fields):
    family = Family.objects.create(site=site, name=family_name)
    return User.objects.create(
        username=username,
        password=password_hash(),
        site=site,
        family=family,
        email=email if email is not None else f"{username}.{site.slug}@example.org",
        **fields,
    )


def staff(site, permissions, username="secretariat", **fields):
    """A secretary of `site` (not a superuser) with the given permission codenames,
    e.g. the SECRETARIAT_PERMISSIONS that each app's demo gives the secretariat."""
    user = User.objects.create_user(
        username=username, password="x" * 16, site=site, is_staff=True, **fields
    )
    user.user_permissions.set(Permission.objects.filter(codename__in=permissions))
    return user


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


# School years, courses, students.


def school_year(site, start_year=None, name=None, start=None, end=None):
    """The school year starting in `start_year` (by default the one of today), with its
    Toussaint holidays."""
    start_year = clock.THIS_YEAR if start_year is None else start_year
    year = SchoolYear.objects.create(
        site=site,
        name=name or clock.year_name(start_year),
        start_date=start or clock.first_day(start_year),
        end_date=end or clock.last_day(start_year),
    )
    closed_from, closed_to = clock.autumn_break(start_year)
    ClosurePeriod.objects.create(
        school_year=year, name="Toussaint", start_date=closed_from, end_date=closed_to
    )
    return year


def structure(site, year):
    medical = DocumentKind.objects.create(
        site=site,
        name="Certificat médical (danse)",
        scope=DocumentKind.Scope.STUDENT,
        validity=DocumentKind.Validity.SCHOOL_YEAR,
    )
    dance = Discipline.objects.create(site=site, name="Danse classique", category="dance")
    dance.required_documents.add(medical)
    piano = Discipline.objects.create(site=site, name="Piano", category="instrument")
    fm = Discipline.objects.create(site=site, name="Formation musicale", category="musicianship")
    teacher = Teacher.objects.create(site=site, first_name="Hélène", last_name="Rivière")
    room = Room.objects.create(site=site, name="Salle Debussy")
    courses = [
        Course.objects.create(
            site=site,
            school_year=year,
            discipline=fm,
            weekday=2,
            start_time=time(17),
            end_time=time(18),
            level="Cycle 1",
            teacher=teacher,
            room=room,
            methods="Dandelot",
        ),
        Course.objects.create(
            site=site,
            school_year=year,
            discipline=piano,
            weekday=2,
            start_time=time(14),
            end_time=time(14, 30),
            teacher=teacher,
            room=room,
            is_collective=False,
        ),
        Course.objects.create(
            site=site,
            school_year=year,
            discipline=dance,
            weekday=5,
            start_time=time(10),
            end_time=time(11, 30),
            room=room,
        ),
        Course.objects.create(
            site=site,
            school_year=year,
            discipline=fm,
            weekday=4,
            start_time=time(18),
            end_time=time(19),
            room=room,
        ),
    ]
    return {"medical": medical, "dance": dance, "piano": piano, "fm": fm, "courses": courses}


def student(family, first_name="Léa", courses=(), **fields):
    values = {"last_name": family.name, "birth_date": date(2015, 3, 12), "sex": "F"}
    values.update(fields)
    created = Student.objects.create(family=family, first_name=first_name, **values)
    for course in courses:
        Enrollment.objects.create(student=created, course=course)
    return created


# Re-enrollment.


def parent_meeting(start_year):
    """The piano parents' meeting of campaign() next year: the Wednesday before lessons."""
    return datetime.combine(
        clock.first_day(start_year) - timedelta(days=5), time(18), tzinfo=clock.PARIS
    )


def campaign(site, opens_at=None, closes_at=None, rules_text="Article 1 – Respect des horaires."):
    """This year with its structure (see structure()), next year with courses continuing it,
    and a campaign for next year, open around now unless told otherwise."""
    now = timezone.now()
    this_year = school_year(site)
    base = structure(site, this_year)
    next_year = school_year(site, clock.THIS_YEAR + 1)
    teacher = base["courses"][0].teacher
    room = Room.objects.create(site=site, name="Auditorium")
    fm, piano, dance = base["fm"], base["piano"], base["dance"]
    next_courses = {
        "fm2": Course.objects.create(
            site=site,
            school_year=next_year,
            discipline=fm,
            weekday=2,
            start_time=time(17),
            end_time=time(18),
            level="Cycle 1 – 2e année",
            teacher=teacher,
            room=room,
            methods="Dandelot, volume 2",
        ),
        "fm3": Course.objects.create(
            site=site,
            school_year=next_year,
            discipline=fm,
            weekday=3,
            start_time=time(18),
            end_time=time(19),
            level="Cycle 1 – 3e année",
            teacher=teacher,
            room=room,
            methods="Dandelot, volume 3",
        ),
        "piano": Course.objects.create(
            site=site,
            school_year=next_year,
            discipline=piano,
            weekday=2,
            start_time=time(14),
            end_time=time(14, 30),
            teacher=teacher,
            room=room,
            is_collective=False,
            parent_meeting=parent_meeting(clock.THIS_YEAR + 1),
        ),
        "dance": Course.objects.create(
            site=site,
            school_year=next_year,
            discipline=dance,
            weekday=5,
            start_time=time(10),
            end_time=time(11, 30),
            room=room,
            level="Initiation 2",
        ),
    }
    proof = DocumentKind.objects.create(
        site=site,
        name="Justificatif de domicile",
        required=True,
        proves_address=True,
        validity=DocumentKind.Validity.MONTHS,
        validity_months=3,
        position=1,
    )
    insurance = DocumentKind.objects.create(
        site=site,
        name="Attestation de responsabilité civile",
        position=2,
        validity=DocumentKind.Validity.SCHOOL_YEAR,
    )
    rules = SchoolRules.objects.create(site=site, version="2027", text=rules_text)
    created = ReenrollmentCampaign.objects.create(
        site=site,
        school_year=next_year,
        rules=rules,
        opens_at=opens_at or now - timedelta(days=1),
        closes_at=closes_at or now + timedelta(days=30),
        instructions="Vérifiez les pièces, indiquez vos souhaits, validez.",
    )
    created.family_documents.set([proof, insurance])
    return {
        **base,
        "this_year": this_year,
        "next_year": next_year,
        "campaign": created,
        "next": next_courses,
        "proof": proof,
        "insurance": insurance,
        "rules": rules,
    }


# Billing.


def payer(family, **fields):
    values = {
        "civility": "MME",
        "first_name": "Claire",
        "last_name": family.name,
        "address_line1": "12 rue des Tilleuls",
        "postal_code": "77380",
        "city": "Combs-la-Ville",
        "is_payer": True,
    }
    values.update(fields)
    return Guardian.objects.create(family=family, **values)


def draft(
    family,
    label=None,
    lines=(("Piano", "186.00"),),
    **fields,
):
    label = label or f"Cotisations {clock.school_year_of(clock.TODAY)}"
    invoice = Invoice.objects.create(site=family.site, family=family, label=label, **fields)
    for position, (line_label, price, *quantity) in enumerate(lines):
        InvoiceLine.objects.create(
            invoice=invoice,
            label=line_label,
            position=position,
            unit_price=Decimal(price),
            quantity=Decimal(quantity[0]) if quantity else Decimal(1),
        )
    return invoice


def issued(family, **fields):
    return ledger.issue(draft(family, **fields))


def simulator(site):
    return PaymentGateway.objects.create(site=site, backend=PaymentGateway.Backend.DUMMY)


# Fees.

# A small grid's prices, by item and band, (in the agglomeration, outside).
FEE_PRICES = {
    "Cursus complet": {"T1": ("150", "300"), "T2": ("250", "450"), "T3": ("350", "600")},
    "Formation musicale seule": {"T1": ("60", "120"), "T2": ("90", "180"), "T3": ("120", "240")},
    "Instrument seul": {"T1": ("100", "200"), "T2": ("180", "320"), "T3": ("260", "440")},
    "Danse": {"T1": ("80", "160"), "T2": ("120", "220"), "T3": ("160", "300")},
    "Frais de dossier": {"T1": ("20", "20"), "T2": ("20", "20"), "T3": ("20", "20")},
}


def fee_grid(site, year, billing=FeeGrid.Billing.ANNUAL):
    """A grid for `year`: bands T1 < 400 €, T2 400–800 €, T3 ≥ 800 €; the zone
    "Agglomération" (Combs-la-Ville, where payer() lives, and Lieusaint) and
    "Hors agglomération"; the items and prices of FEE_PRICES (formation musicale +
    instrument, each alone, dance, and a registration fee per family); brothers and
    sisters −10 % from the second, −20 % from the third; a second discipline −50 %;
    three terms."""
    grid = FeeGrid.objects.create(site=site, school_year=year, billing=billing)
    start, end = year.start_date, year.end_date
    for number, first, last, due in [
        (1, start, date(start.year, 12, 19), date(start.year, 11, 15)),
        (2, date(start.year + 1, 1, 4), date(start.year + 1, 3, 31), date(start.year + 1, 2, 15)),
        (3, date(start.year + 1, 4, 1), end, date(start.year + 1, 5, 15)),
    ]:
        Term.objects.create(grid=grid, number=number, start_date=first, end_date=last, due_date=due)
    bands = {
        code: Band.objects.create(grid=grid, code=code, min_qf=Decimal(floor))
        for code, floor in [("T1", 0), ("T2", 400), ("T3", 800)]
    }
    inside = Zone.objects.create(grid=grid, name="Agglomération", position=1)
    outside = Zone.objects.create(grid=grid, name="Hors agglomération", is_outside=True, position=2)
    Commune.objects.create(zone=inside, postal_code="77380", name="Combs-la-Ville")
    Commune.objects.create(zone=inside, postal_code="77127", name="Lieusaint")
    items = {}
    for position, (name, fields) in enumerate(
        [
            ("Cursus complet", {"categories": ["instrument", "musicianship"]}),
            ("Formation musicale seule", {"categories": ["musicianship"]}),
            ("Instrument seul", {"categories": ["instrument"]}),
            ("Danse", {"categories": ["dance"]}),
            ("Frais de dossier", {"per_family": True}),
        ],
        start=1,
    ):
        items[name] = FeeItem.objects.create(grid=grid, name=name, position=position, **fields)
        for code, amounts in FEE_PRICES[name].items():
            for zone, amount in zip([inside, outside], amounts, strict=True):
                Price.objects.create(
                    item=items[name], band=bands[code], zone=zone, amount=Decimal(amount)
                )
    reductions = [
        Reduction.objects.create(
            grid=grid, kind=Reduction.Kind.SIBLING, name="2e enfant", from_rank=2, percent=10
        ),
        Reduction.objects.create(
            grid=grid,
            kind=Reduction.Kind.SIBLING,
            name="3e enfant et suivants",
            from_rank=3,
            percent=20,
        ),
        Reduction.objects.create(
            grid=grid, kind=Reduction.Kind.SECOND_DISCIPLINE, name="Deuxième discipline", percent=50
        ),
    ]
    return {
        "grid": grid,
        "bands": bands,
        "inside": inside,
        "outside": outside,
        "items": items,
        "reductions": reductions,
    }


def income(family, year, reference_income="22260", parts="2.5", verified=False):
    """The family's declared income for `year`: by default a quotient of 742 € (T2)."""
    return FamilyIncome.objects.create(
        family=family,
        school_year=year,
        reference_income=Decimal(reference_income),
        parts=Decimal(parts),
        verified=verified,
    )


# Yearly prices by item, then band (T1, T2, T3), then zone (agglomeration, outside).
BILLING_GRID_PRICES = {
    "Instrument": {
        "T1": ("120.00", "180.00"),
        "T2": ("210.00", "300.00"),
        "T3": ("300.00", "420.00"),
    },
    "Formation musicale": {
        "T1": ("60.00", "90.00"),
        "T2": ("90.00", "135.00"),
        "T3": ("120.00", "180.00"),
    },
    "Danse": {"T1": ("100.00", "150.00"), "T2": ("150.00", "225.00"), "T3": ("200.00", "300.00")},
    "Frais de dossier": {
        "T1": ("15.00", "15.00"),
        "T2": ("15.00", "15.00"),
        "T3": ("15.00", "15.00"),
    },
}


def billing_grid(site, year, billing=FeeGrid.Billing.ANNUAL, sibling_percent="10"):
    """A small grid for `year`: three terms (due on the 15th of their second month), bands
    T1 < 400 €, T2 400–800 €, T3 ≥ 800 €, the zone "Agglomération" (Combs-la-Ville, Moissy-
    Cramayel) and "Hors agglomération" elsewhere, items for an instrument, musicianship,
    dance and a registration fee per family, and a reduction for brothers and sisters."""
    grid = FeeGrid.objects.create(site=site, school_year=year, billing=billing)
    start, end = year.start_date, year.end_date
    limits = [
        (start, date(start.year, 12, 31)),
        (date(end.year, 1, 1), date(end.year, 3, 31)),
        (date(end.year, 4, 1), end),
    ]
    for number, (first, last) in enumerate(limits, start=1):
        due = date(first.year, first.month, 15) + timedelta(days=31)
        Term.objects.create(grid=grid, number=number, start_date=first, end_date=last, due_date=due)
    inside = Zone.objects.create(grid=grid, name="Agglomération", position=1)
    outside = Zone.objects.create(grid=grid, name="Hors agglomération", is_outside=True, position=2)
    Commune.objects.create(zone=inside, postal_code="77380", name="Combs-la-Ville")
    Commune.objects.create(zone=inside, postal_code="77550", name="Moissy-Cramayel")
    bands = {
        code: Band.objects.create(grid=grid, code=code, min_qf=Decimal(floor))
        for code, floor in [("T1", 0), ("T2", 400), ("T3", 800)]
    }
    items = {
        "Instrument": FeeItem.objects.create(
            grid=grid, name="Instrument", categories=["instrument"], position=1
        ),
        "Formation musicale": FeeItem.objects.create(
            grid=grid, name="Formation musicale", categories=["musicianship"], position=2
        ),
        "Danse": FeeItem.objects.create(
            grid=grid, name="Danse", categories=["dance"], max_courses=2, position=3
        ),
        "Frais de dossier": FeeItem.objects.create(
            grid=grid, name="Frais de dossier", per_family=True, position=4
        ),
    }
    Price.objects.bulk_create(
        Price(item=items[name], band=bands[code], zone=zone, amount=Decimal(amount))
        for name, by_band in BILLING_GRID_PRICES.items()
        for code, amounts in by_band.items()
        for zone, amount in zip([inside, outside], amounts, strict=True)
    )
    if sibling_percent:
        Reduction.objects.create(
            grid=grid,
            kind=Reduction.Kind.SIBLING,
            name="2e enfant",
            from_rank=2,
            percent=Decimal(sibling_percent),
        )
    return grid


def instalment_plans(site):
    """The usual three plans: once (15 October, the default), three times
    (5 October, January, April) and ten monthly debits (5 October to 5
    July, direct debit only, at least 10 € each)."""
    any_mode = ["cheque", "cash", "online_card", "direct_debit", "transfer"]
    return {
        1: InstalmentPlan.objects.create(
            site=site,
            name="En une fois",
            instalments=1,
            first_month=10,
            day=15,
            modes=any_mode,
            is_default=True,
            position=1,
        ),
        3: InstalmentPlan.objects.create(
            site=site,
            name="3 échéances",
            instalments=3,
            first_month=10,
            months_between=3,
            day=5,
            modes=any_mode,
            position=2,
        ),
        10: InstalmentPlan.objects.create(
            site=site,
            name="10 prélèvements mensuels",
            instalments=10,
            first_month=10,
            day=5,
            modes=["direct_debit"],
            min_amount=Decimal(10),
            position=3,
        ),
    }


def creditor(site, **fields):
    """The site as SEPA creditor, with a valid ICS and account."""
    return Creditor.objects.create(
        site=site,
        **{
            "name": "Régie du conservatoire",
            "address": "1 place de l'Hôtel de Ville\n77380 Combs-la-Ville",
            "ics": "FR72ZZZ123456",
            "iban": "FR7630001007941234567890185",
            "bic": "BDFEFRPPCCT",
            **fields,
        },
    )


def mandate(family, iban="FR7630006000011234567890189", bic="AGRIFRPPXXX", **fields):
    """An active mandate, as if signed online."""
    found = Mandate(
        site_id=family.site_id,
        family=family,
        holder_name=fields.pop("holder_name", f"Claire {family.name}"),
        holder_address=fields.pop("holder_address", "3 rue des Lilas\n77380 Combs-la-Ville"),
        iban=iban,
        bic=bic,
        **fields,
    )
    return mandates.activate(found)


# Staff in their roles.


def member(site, *role_names, username="secretariat", **fields):
    """A staff member of `site` (None: the network) in the groups of `role_names`
    (workspace/roles.py), the groups made as the migration makes them."""
    from django.contrib.auth.models import Group

    from workspace import roles

    roles.sync()
    user = User.objects.create_user(
        username=username, password="x" * 16, site=site, is_staff=True, **fields
    )
    user.groups.set(Group.objects.filter(name__in=role_names))
    return user
