"""A family's quotient familial for a school year: which years it may
declare, what is wrong with declared figures, the band they fall in, and
the secretariat's check. The portal and the admin both go through here."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from documents.checklist import uploadable_kinds
from documents.models import DocumentKind
from families.models import FamilyDocument
from students.models import SchoolYear

from .models import FamilyIncome, FeeGrid
from .pricing import band_for

Source = FamilyIncome.Source
FIGURES = ["source", "reference_income", "parts", "caf_quotient", "caf_number"]
# Beyond these, a figure is a typing mistake rather than a household.
MAX_REFERENCE_INCOME = Decimal("9999999.99")  # Ten million and more: a typo.
MAX_PARTS = Decimal(12)
MAX_CAF_QUOTIENT = Decimal(10_000)
MAX_CAF_NUMBER_DIGITS = 10
QUARTER = Decimal("0.25")
ZERO_QUOTIENT = _(
    "A quotient familial of 0 cannot be used to compute your fees: please contact the secretariat."
)


def offered_years(site):
    """The year in progress and, once the site has created it (a
    re-enrollment is open or coming), the next one."""
    current = SchoolYear.objects.current(site)
    if current is None:
        return []
    following = (
        SchoolYear.objects.filter(site=site, start_date__gt=current.start_date)
        .order_by("start_date")
        .first()
    )
    return [current, following] if following else [current]


def rules_by_year(years, site=None):
    """The grid of each of `years` that has one, with its bands (all that a
    quotient needs: not the whole grid), by year id."""
    grids = (
        FeeGrid.objects.filter(school_year__in=years)
        .select_related("school_year")
        .prefetch_related("bands")
    )
    if site is not None:
        grids = grids.filter(site=site)
    return {grid.school_year_id: grid for grid in grids}


def band_of(income, grid):
    """The band `income` falls in, or None without a grid or a quotient."""
    if income is None or grid is None:
        return None
    quotient = income.quotient
    return None if quotient is None else band_for(list(grid.bands.all()), quotient)


def plain(value):
    """A figure as the family types it: 32480 or 2,5."""
    if value is None:
        return ""
    text = f"{value.normalize():f}" if value != value.to_integral() else f"{value:.0f}"
    return text.replace(".", ",")


@dataclass
class YearIncome:
    """One school year on the family's page: its declaration and its grid."""

    year: SchoolYear
    income: FamilyIncome | None
    rules: FeeGrid | None  # the year's grid, its bands read with it

    @property
    def formula(self):
        return self.rules.qf_formula if self.rules else None

    @property
    def band(self):
        return band_of(self.income, self.rules)

    @property
    def parts(self):
        return plain(self.income.parts) if self.income else ""


def income_errors(source, reference_income, parts, caf_quotient, caf_number):
    """What is wrong with declared figures, by field name (values already
    parsed; None when empty). Only the figures of `source` count."""
    errors = {}
    if source == Source.CAF:
        if caf_quotient is None:
            errors["caf_quotient"] = _("Enter the quotient familial shown by the CAF.")
        elif caf_quotient < 0:
            errors["caf_quotient"] = _("The quotient familial cannot be negative.")
        elif caf_quotient == 0:
            errors["caf_quotient"] = ZERO_QUOTIENT
        elif caf_quotient > MAX_CAF_QUOTIENT:
            errors["caf_quotient"] = _(
                "A CAF quotient familial is a monthly amount of a few hundred euros: check "
                "the figure on your CAF letter."
            )
        if not caf_number:
            errors["caf_number"] = _("Enter your CAF allocataire number.")
        elif not caf_number.isascii() or not caf_number.isdigit():
            errors["caf_number"] = _(
                "Enter the allocataire number with digits only, as on your CAF letters."
            )
        elif len(caf_number) > MAX_CAF_NUMBER_DIGITS:
            errors["caf_number"] = _("An allocataire number has at most %(max)s digits.") % {
                "max": MAX_CAF_NUMBER_DIGITS
            }
        return errors
    if reference_income is None:
        errors["reference_income"] = _("Enter the reference tax income of your tax notice.")
    elif reference_income < 0:
        errors["reference_income"] = _("The reference tax income cannot be negative.")
    elif reference_income == 0:
        errors["reference_income"] = ZERO_QUOTIENT
    elif reference_income > MAX_REFERENCE_INCOME:
        errors["reference_income"] = _(
            "This amount looks wrong: check the reference tax income on your notice (in euros "
            "per year)."
        )
    if parts is None:
        errors["parts"] = _("Enter the number of parts of your tax notice.")
    elif parts < 1:
        errors["parts"] = _("A household has at least 1 part.")
    elif parts > MAX_PARTS:
        errors["parts"] = _(
            "This number looks wrong: check the number of parts on your notice (at most %(max)s)."
        ) % {"max": MAX_PARTS}
    elif parts % QUARTER:
        errors["parts"] = _("Parts go by quarters: 1, 1.25, 1.5, 1.75, 2…")
    return errors


def declare(family, year, figures):
    """Save the figures the family declared for `year`. A change after the
    secretariat's check asks for a new check. Returns (income, changed)."""
    with transaction.atomic():
        income, created = FamilyIncome.objects.select_for_update().get_or_create(
            family=family, school_year=year, defaults=figures
        )
        if created:
            return income, True
        if all(getattr(income, name) == value for name, value in figures.items()):
            return income, False
        for name, value in figures.items():
            setattr(income, name, value)
        income.verified = False
        income.verified_at = None
        income.verified_by = None
        income.save()
    return income, True


def mark_verified(income, user):
    income.verified = True
    income.verified_at = timezone.now()
    income.verified_by = user


def income_kinds(site):
    """The kinds of document that prove the income (the avis d'imposition)."""
    return uploadable_kinds(site, DocumentKind.Scope.FAMILY).filter(proves_income=True)


def income_documents(family):
    """The family's income-proving documents, newest first."""
    return FamilyDocument.objects.filter(
        family=family, kind__proves_income=True, kind__is_active=True
    ).select_related("kind")
