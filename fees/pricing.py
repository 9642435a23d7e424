"""What a family pays for a school year: the one function behind the
estimates families see and the invoices the secretariat generates.

`price_families()` prices many families with a fixed number of queries;
`price_family()` is the same for one. Each line keeps its explanation, in
the words families read on their estimate and on their invoice.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from extranet.formatting import eur
from extranet.models import Site
from extranet.money import money
from families.addresses import payer_of
from families.models import Family, Guardian
from families.versions import cached, site_cache_key
from students.models import Enrollment, Student

from .models import Commune, FamilyIncome, FeeGrid, FeeItem, Price, Reduction, normalized

ZERO = Decimal(0)


def joined(text, more):
    # French puts a space before a semicolon; the catalogue says how.
    return text + pgettext("between the parts of a price's explanation", "; ") + more


@dataclass
class Line:
    item: FeeItem
    amount: Decimal
    explanation: str
    student: Student | None = None
    base: Decimal = ZERO
    terms: tuple = ()  # the term numbers charged; () when the grid has no terms


@dataclass
class Estimate:
    family: Family
    grid: FeeGrid
    quotient: Decimal | None = None
    verified: bool = False
    band: object = None
    zone: object = None
    lines: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    @property
    def total(self):
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def priced(self):
        """Whether every enrollment found its price: otherwise nothing is billed."""
        return not self.problems

    def by_period(self):
        """[(term or None, amount)]: one period a year, or one per term, each
        line shared between the terms it is charged for (odd cents on the first)."""
        terms = terms_of(self.grid) if self.grid.billing == FeeGrid.Billing.TERMS else []
        if not terms:
            return [(None, self.total)]
        totals = dict.fromkeys((t.number for t in terms), ZERO)
        for line in self.lines:
            for number, share in split(line.amount, line.terms or tuple(totals)):
                totals[number] += share
        return [(term, totals[term.number]) for term in terms]


def split(amount, numbers):
    """`amount` shared between `numbers`, to the cent, the odd cents first."""
    numbers = list(numbers)
    share = money(amount / len(numbers)) if numbers else ZERO
    if share * len(numbers) > amount:
        share -= Decimal("0.01")
    first = amount - share * (len(numbers) - 1)
    return [(n, first if i == 0 else share) for i, n in enumerate(numbers)]


def terms_of(grid):
    """The grid's terms in order: those read with it (`grid_for`), else asked."""
    return list(
        grid.terms.all()
        if "terms" in getattr(grid, "_prefetched_objects_cache", {})
        else grid.terms.order_by("number")
    )


def band_for(bands, quotient):
    """The band of a quotient among `bands` (in ascending order); without a
    quotient, the highest."""
    if not bands:
        return None
    if quotient is None:
        return bands[-1]
    return next((band for band in reversed(bands) if band.min_qf <= quotient), bands[0])


class GridRules:
    """A grid read once: bands, zones and communes, items, prices, reductions."""

    def __init__(self, grid):
        # Each list in its models' order within one grid: their default
        # orderings begin with the grid, whose own ordering would join the
        # grid, its site and its school year to every one of these reads.
        self.grid = grid
        self.bands = list(grid.bands.order_by("min_qf"))
        zones = list(
            grid.zones.order_by("position", "name").prefetch_related(
                Prefetch("communes", Commune.objects.order_by("name"))
            )
        )
        self.outside = next((z for z in zones if z.is_outside), None)
        self.communes = {
            (c.postal_code, c.normalized_name): zone for zone in zones for c in zone.communes.all()
        }
        items = list(grid.items.order_by("position", "pk"))
        self.student_items = [i for i in items if not i.per_family]
        self.family_items = [i for i in items if i.per_family]
        self.prices = {
            (p.item_id, p.band_id, p.zone_id): p.amount
            for p in Price.objects.filter(item__grid=grid)
        }
        reductions = list(
            grid.reductions.order_by("kind", "from_rank").prefetch_related("families")
        )
        self.siblings = sorted(
            (r for r in reductions if r.kind == Reduction.Kind.SIBLING), key=lambda r: r.from_rank
        )
        self.second = next(
            (r for r in reductions if r.kind == Reduction.Kind.SECOND_DISCIPLINE), None
        )
        self.exemptions = [r for r in reductions if r.kind == Reduction.Kind.EXEMPTION]
        self.terms = terms_of(grid)

    def band_for(self, quotient):
        return band_for(self.bands, quotient)

    def zone_for(self, payer):
        if payer is None or not payer.postal_code.strip():
            return None
        key = (payer.postal_code.strip(), normalized(payer.city))
        return self.communes.get(key) or self.outside

    def start_term(self, day):
        """The term in progress on `day`; in the holidays, the next one."""
        return next((t.number for t in self.terms if day <= t.end_date), self.terms[-1].number)

    def stop_term(self, day):
        """The term in progress on `day`; in the holidays, the one just over."""
        return next(
            (t.number for t in reversed(self.terms) if t.start_date <= day), self.terms[0].number
        )


def is_adult(student, grid):
    if student.birth_date is None:
        return False
    start = grid.school_year.start_date
    age = (
        start.year
        - student.birth_date.year
        - ((start.month, start.day) < (student.birth_date.month, student.birth_date.day))
    )
    return age >= grid.adult_age


def matches(rules, student, enrollments):
    """[(item, enrollments it prices)] and the enrollments no item prices."""
    adult = is_adult(student, rules.grid)
    left = list(enrollments)
    found = []
    for item in rules.student_items:
        if (item.age == FeeItem.Age.ADULT and not adult) or (
            item.age == FeeItem.Age.CHILD and adult
        ):
            continue
        pool = [
            e
            for e in left
            if e.course.discipline.category in item.categories and kind_fits(item, e.course)
        ]
        present = {e.course.discipline.category for e in pool}
        count = len(pool)
        if not pool or not set(item.categories) <= present or count < item.min_courses:
            continue
        if item.max_courses is not None and count > item.max_courses:
            continue
        found.append((item, pool))
        left = [e for e in left if e not in pool]
    return found, left


def kind_fits(item, course):
    if item.course_kind == FeeItem.CourseKind.COLLECTIVE:
        return course.is_collective
    if item.course_kind == FeeItem.CourseKind.INDIVIDUAL:
        return not course.is_collective
    return True


def charged_terms(rules, enrollments):
    """The terms an item is charged for: from the term its first enrollment
    starts in to the term in progress when the last one stops."""
    if not rules.terms:
        return ()
    year = rules.grid.school_year
    start = min(e.starts_on or year.start_date for e in enrollments)
    stop = max(e.stops_on or year.end_date for e in enrollments)
    first = rules.start_term(start)
    last = rules.stop_term(stop)
    return tuple(t.number for t in rules.terms if first <= t.number <= max(first, last))


def reduce(amount, reduction):
    if reduction.percent is not None:
        return money(amount * (1 - reduction.percent / 100))
    return max(ZERO, money(amount - reduction.amount))


def reduction_text(reduction):
    if reduction.percent is not None:
        value = f"{number_format(reduction.percent.normalize(), use_l10n=True)} %"
    else:
        value = eur(reduction.amount)
    return f"{reduction.name} : −{value}"


def describe(estimate):
    """The band and zone as families read them."""
    if estimate.quotient is None:
        band = _("Rate %(band)s (no quotient familial)") % {"band": estimate.band}
    else:
        quotient = number_format(estimate.quotient.quantize(1), 0, True, force_grouping=True)
        band = _("Rate %(band)s (QF %(qf)s €)") % {"band": estimate.band, "qf": quotient}
        if not estimate.verified:
            band += " " + _("to be checked")
    return f"{band}, {estimate.zone}"


def grid_rules(grid):
    """The grid's rules, read once per version of its site (a change of the
    grid moves it): one query for the version instead of nine. The version
    is read afresh: `grid` and its site may have been loaded before a change."""
    site = Site.objects.only("pk", "content_version").get(pk=grid.site_id)
    rules = cached(site_cache_key(site, f"grid-rules:{grid.pk}"), lambda: GridRules(grid))
    rules.grid = grid
    return rules


def price_families(
    families, grid, verified_only=False, enrollments_by_student=None, cached_rules=False
):
    """{family id: Estimate} for `families` (a queryset), in a fixed number of
    queries. `verified_only` (invoices): a quotient counts once the
    secretariat checked it; without one the highest band applies.

    `enrollments_by_student` ({student id: [Enrollment]}, maybe unsaved, their
    course and discipline set) prices those instead of the year's saved
    enrollments: a re-enrollment's wishes, before the secretariat creates them.
    A student missing from it follows no course. `cached_rules` (the pages):
    the grid's rules from the cache, see `grid_rules`."""
    rules = grid_rules(grid) if cached_rules else GridRules(grid)
    year = grid.school_year
    students = Student.objects.order_by("birth_date", "pk")
    if enrollments_by_student is None:
        enrollments = (
            Enrollment.objects.filter(course__school_year=year)
            .select_related("course__discipline")
            .order_by("course__discipline__name", "pk")
        )
        students = students.prefetch_related(
            Prefetch("enrollments", enrollments, to_attr="year_enrollments")
        )
    families = families.prefetch_related(
        Prefetch("guardians", Guardian.objects.order_by("position", "pk")),
        Prefetch("students", students),
        Prefetch("incomes", FamilyIncome.objects.filter(school_year=year), to_attr="year_income"),
    )
    if enrollments_by_student is not None:
        families = list(families)
        for family in families:
            for student in family.students.all():
                student.year_enrollments = sorted(
                    enrollments_by_student.get(student.pk, ()),
                    key=lambda e: (e.course.discipline.name, e.course.pk or 0),
                )
    exempted = defaultdict(list)
    for reduction in rules.exemptions:
        for family in reduction.families.all():
            exempted[family.pk].append(reduction)
    return {
        family.pk: price(rules, family, exempted[family.pk], verified_only) for family in families
    }


def price_family(family, grid, verified_only=False, enrollments_by_student=None, **options):
    families = Family.objects.filter(pk=family.pk)
    return price_families(families, grid, verified_only, enrollments_by_student, **options)[
        family.pk
    ]


def price(rules, family, exemptions, verified_only):
    estimate = Estimate(family, rules.grid)
    income = family.year_income[0] if family.year_income else None
    if income is not None and (income.verified or not verified_only):
        estimate.quotient, estimate.verified = income.quotient, income.verified
    estimate.band = rules.band_for(estimate.quotient)
    payer = payer_of(family)
    estimate.zone = rules.zone_for(payer)
    if estimate.band is None:
        estimate.problems.append(_("The grid has no quotient familial band."))
    if estimate.zone is None:
        estimate.problems.append(
            _("No postal code for the payer: the residence zone is unknown.")
            if payer is not None and not payer.postal_code.strip()
            else _("No payer, or no zone for the payer's commune (add an “everywhere else” zone).")
        )
    students = [s for s in family.students.all() if s.year_enrollments]
    if not students or estimate.problems:
        return estimate
    heading = describe(estimate)
    per_student = []
    for student in students:
        found, left = matches(rules, student, student.year_enrollments)
        for enrollment in left:
            estimate.problems.append(
                _("No fee item for %(student)s's course %(course)s.")
                % {"student": student.first_name, "course": enrollment.course.discipline}
            )
        lines = []
        for item, pool in found:
            line = priced_line(rules, estimate, item, student, pool, heading)
            if line is not None:
                lines.append(line)
        # A second discipline of the same student: the cheaper lines reduced.
        lines.sort(key=lambda line: line.amount, reverse=True)
        if rules.second:
            for line in lines[1:]:
                apply(line, rules.second)
        per_student.append(lines)
    # Brothers and sisters: the most expensive student first.
    per_student.sort(key=lambda lines: sum((line.amount for line in lines), ZERO), reverse=True)
    for rank, lines in enumerate(per_student, start=1):
        sibling = next((r for r in reversed(rules.siblings) if r.from_rank <= rank), None)
        for line in lines:
            if sibling:
                apply(line, sibling)
            estimate.lines.append(line)
    for item in rules.family_items:
        line = priced_line(rules, estimate, item, None, (), heading)
        if line is not None:
            estimate.lines.append(line)
    for line in estimate.lines:
        for exemption in exemptions:
            apply(line, exemption)
    return estimate


def priced_line(rules, estimate, item, student, pool, heading):
    base = rules.prices.get((item.pk, estimate.band.pk, estimate.zone.pk))
    if base is None:
        estimate.problems.append(
            _("No price for “%(item)s” in band %(band)s, zone %(zone)s.")
            % {"item": item, "band": estimate.band, "zone": estimate.zone}
        )
        return None
    terms = charged_terms(rules, pool) if pool else ()
    amount = base
    explanation = heading
    if terms and len(terms) < len(rules.terms):
        amount = money(base * len(terms) / len(rules.terms))
        explanation = joined(
            explanation,
            ngettext("%(count)d term of %(total)d", "%(count)d terms of %(total)d", len(terms))
            % {"count": len(terms), "total": len(rules.terms)},
        )
    return Line(item, amount, explanation, student, base, terms)


def apply(line, reduction):
    line.amount = reduce(line.amount, reduction)
    line.explanation = joined(line.explanation, reduction_text(reduction))
