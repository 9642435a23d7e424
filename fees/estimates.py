"""The estimate a family reads before it is billed: the pricing function's
answer for one family and one school year, shown by the include
`fees/_estimate.html` on the re-enrollment and billing pages alike."""

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.template.loader import render_to_string

from families.versions import cached, family_cache_key

from .models import FeeGrid, Term
from .pricing import ZERO, Estimate, price_family


def grid_for(site, school_year):
    """The site's grid for that year, or None while none is voted."""
    if school_year is None:
        return None
    return (
        # One grid per site and year: no ordering (the default's would join the site).
        FeeGrid.objects.filter(site=site, school_year=school_year)
        .order_by("pk")
        .select_related("school_year")
        # Read once for the pricing and again for the estimate's periods.
        .prefetch_related(Prefetch("terms", Term.objects.order_by("number")))
        .first()
    )


def family_estimate(family, school_year, enrollments_by_student=None):
    """What `family` would be billed for `school_year`, as its invoices will
    be computed (the declared quotient counting, marked unverified); None
    when the site has no grid for that year. `enrollments_by_student`: see
    `fees.pricing.price_families`."""
    grid = grid_for(family.site_id, school_year)
    if grid is None:
        return None
    return price_family(
        family, grid, enrollments_by_student=enrollments_by_student, cached_rules=True
    )


@dataclass
class StudentPart:
    student: object  # None for the lines charged once to the family
    lines: list = field(default_factory=list)

    @property
    def total(self):
        return sum((line.amount for line in self.lines), ZERO)


def parts(estimate: Estimate):
    """The estimate's lines student by student, in the order priced (the
    most expensive first), then the family's own lines."""
    by_student = {}
    for line in estimate.lines:
        key = line.student.pk if line.student is not None else None
        if key not in by_student:
            by_student[key] = StudentPart(line.student)
        by_student[key].lines.append(line)
    family_part = by_student.pop(None, None)
    return list(by_student.values()) + ([family_part] if family_part else [])


def estimate_context(estimate, school_year, heading_level=2, assumed=()):
    """The context of `fees/_estimate.html`; `assumed`: the students whose
    wishes are not known, priced as this year."""
    context = {
        "estimate": estimate,
        "school_year": school_year,
        "heading": heading_level,
        "subheading": heading_level + 1,
        "assumed": assumed,
    }
    if estimate is not None and estimate.priced and estimate.lines:
        context["parts"] = parts(estimate)
        context["periods"] = estimate.by_period()
    return context


def cached_estimate(request, family, school_year, heading_level=2):
    """`family`'s estimate for `school_year`, rendered (empty without a grid):
    computed again only once the family or its site changed. `family` as the
    request loaded it, its versions read before anything else."""
    key = family_cache_key(request, family, f"estimate:{school_year.pk}:{heading_level}")

    def render():
        estimate = family_estimate(family, school_year)
        if estimate is None:
            return ""
        context = estimate_context(estimate, school_year, heading_level)
        return render_to_string("fees/_estimate.html", context)

    return cached(key, render)
