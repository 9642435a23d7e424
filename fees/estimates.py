"""The estimate a family reads before it is billed: the pricing function's
answer for one family and one school year, shown by the include
`fees/_estimate.html` on the re-enrollment and billing pages alike."""

from dataclasses import dataclass, field

from django.db.models import Prefetch

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
    return price_family(family, grid, enrollments_by_student=enrollments_by_student)


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
