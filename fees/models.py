"""The fee grid a city council votes each school year, and the families'
quotient familial. Prices are computed by `fees.pricing`, nowhere else."""

import unicodedata
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from extranet.models import Site
from extranet.money import money
from families.models import Family
from students.models import Discipline, SchoolYear

MONEY = {"max_digits": 9, "decimal_places": 2}


def normalized(text):
    """A commune's name as compared: no accents, case, hyphens or apostrophes."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    for sign in "-'’.":
        text = text.replace(sign, " ")
    text = " ".join(text.split())
    return text.replace("saint ", "st ").replace("sainte ", "ste ")


class FeeGrid(models.Model):
    """One site's fees for one school year; last year's stays as it was voted."""

    class QFFormula(models.TextChoices):
        TAX_NOTICE = "tax_notice", _("reference tax income ÷ 12 ÷ number of parts")
        CAF = "caf", _("the CAF's quotient familial")

    class Billing(models.TextChoices):
        ANNUAL = "annual", _("one invoice for the year")
        TERMS = "terms", _("one invoice per term")

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="fee_grids"
    )
    school_year = models.ForeignKey(
        SchoolYear,
        verbose_name=_("school year"),
        on_delete=models.PROTECT,
        related_name="fee_grids",
    )
    qf_formula = models.CharField(
        _("quotient familial"), max_length=12, choices=QFFormula, default=QFFormula.TAX_NOTICE
    )
    billing = models.CharField(_("billing"), max_length=8, choices=Billing, default=Billing.ANNUAL)
    adult_age = models.PositiveSmallIntegerField(
        _("adult from (age)"),
        default=18,
        validators=[MinValueValidator(14), MaxValueValidator(30)],
        help_text=_("Age on the first day of the school year from which the adult fee applies."),
    )
    notes = models.TextField(_("notes"), blank=True, help_text=_("For example the council's vote."))

    class Meta:
        verbose_name = _("fee grid")
        verbose_name_plural = _("fee grids")
        ordering = ["site", "-school_year__start_date"]
        constraints = [
            models.UniqueConstraint(fields=["site", "school_year"], name="one_grid_per_year")
        ]

    def __str__(self):
        return _("Fees %(year)s") % {"year": self.school_year}

    def clean(self):
        if self.school_year_id and self.site_id and self.school_year.site_id != self.site_id:
            raise ValidationError({"school_year": _("This belongs to another site.")})


class Term(models.Model):
    """A trimestre: enrollments are charged from the term they start in to
    the term they stop in; with billing per term, one invoice each."""

    grid = models.ForeignKey(FeeGrid, on_delete=models.CASCADE, related_name="terms")
    number = models.PositiveSmallIntegerField(
        _("term"), validators=[MinValueValidator(1), MaxValueValidator(3)]
    )
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    due_date = models.DateField(_("invoices due on"))

    class Meta:
        verbose_name = _("term")
        verbose_name_plural = _("terms")
        ordering = ["grid", "number"]
        constraints = [
            models.UniqueConstraint(fields=["grid", "number"], name="one_term_per_number")
        ]

    def __str__(self):
        return _("Term %(number)s") % {"number": self.number}

    def clean(self):
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The term must end after it starts.")})


class Zone(models.Model):
    """Where the payer lives: the agglomeration's communes, or outside."""

    grid = models.ForeignKey(FeeGrid, on_delete=models.CASCADE, related_name="zones")
    name = models.CharField(_("name"), max_length=80)
    is_outside = models.BooleanField(
        _("everywhere else"),
        default=False,
        help_text=_("The zone of payers living in none of the communes listed."),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("residence zone")
        verbose_name_plural = _("residence zones")
        ordering = ["grid", "position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["grid"], condition=models.Q(is_outside=True), name="one_outside_zone"
            )
        ]

    def __str__(self):
        return self.name


class Commune(models.Model):
    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="communes")
    postal_code = models.CharField(_("postal code"), max_length=5)
    name = models.CharField(_("commune"), max_length=100)
    normalized_name = models.CharField(max_length=100, editable=False)

    class Meta:
        verbose_name = _("commune")
        verbose_name_plural = _("communes")
        ordering = ["zone", "name"]

    def __str__(self):
        return f"{self.postal_code} {self.name}"

    def save(self, *args, **kwargs):
        self.normalized_name = normalized(self.name)
        super().save(*args, **kwargs)


class Band(models.Model):
    """A quotient familial band (tranche), from `min_qf` up to the next
    band's; the last one has no ceiling. Bands cannot overlap."""

    grid = models.ForeignKey(FeeGrid, on_delete=models.CASCADE, related_name="bands")
    code = models.CharField(_("band"), max_length=10, help_text=_("For example T1."))
    min_qf = models.DecimalField(
        _("from a quotient of"), **MONEY, validators=[MinValueValidator(Decimal(0))]
    )

    class Meta:
        verbose_name = _("quotient familial band")
        verbose_name_plural = _("quotient familial bands")
        ordering = ["grid", "min_qf"]
        constraints = [
            models.UniqueConstraint(fields=["grid", "min_qf"], name="bands_do_not_overlap"),
            models.UniqueConstraint(fields=["grid", "code"], name="one_band_per_code"),
        ]

    def __str__(self):
        return self.code


class FeeItem(models.Model):
    """A line of the grid, and which of a student's enrollments it prices:
    those of `categories` (all of them present), counted within
    `min_courses`–`max_courses`, of a course kind and an age. Items are
    tried in order; each enrollment is priced once."""

    class CourseKind(models.TextChoices):
        ANY = "any", _("any lesson")
        COLLECTIVE = "collective", _("collective lessons")
        INDIVIDUAL = "individual", _("individual lessons")

    class Age(models.TextChoices):
        ANY = "any", _("any age")
        CHILD = "child", _("children")
        ADULT = "adult", _("adults")

    grid = models.ForeignKey(FeeGrid, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(_("name"), max_length=120)
    per_family = models.BooleanField(
        _("once per family"),
        default=False,
        help_text=_("For example the registration fee, charged once to each family enrolled."),
    )
    categories = models.JSONField(
        _("disciplines"),
        default=list,
        blank=True,
        help_text=_("The categories of discipline the student must follow together."),
    )
    min_courses = models.PositiveSmallIntegerField(_("from (courses)"), default=1)
    max_courses = models.PositiveSmallIntegerField(_("up to (courses)"), null=True, blank=True)
    course_kind = models.CharField(
        _("lessons"), max_length=10, choices=CourseKind, default=CourseKind.ANY
    )
    age = models.CharField(_("age"), max_length=5, choices=Age, default=Age.ANY)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("fee item")
        verbose_name_plural = _("fee items")
        ordering = ["grid", "position", "pk"]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        known = set(Discipline.Category.values)
        if not isinstance(self.categories, list) or not set(self.categories) <= known:
            errors["categories"] = _("Choose categories from the list.")
        elif not self.per_family and not self.categories:
            errors["categories"] = _("Choose at least one category of discipline.")
        if self.max_courses is not None and self.max_courses < self.min_courses:
            errors["max_courses"] = _("The maximum cannot be below the minimum.")
        if errors:
            raise ValidationError(errors)


class Price(models.Model):
    item = models.ForeignKey(FeeItem, on_delete=models.CASCADE, related_name="prices")
    band = models.ForeignKey(Band, on_delete=models.CASCADE, related_name="prices")
    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="prices")
    amount = models.DecimalField(
        _("price for the year"), **MONEY, validators=[MinValueValidator(Decimal(0))]
    )

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        constraints = [
            models.UniqueConstraint(fields=["item", "band", "zone"], name="one_price_per_cell"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="price_not_negative"),
        ]

    def __str__(self):
        return f"{self.item} – {self.band} – {self.zone}"


class Reduction(models.Model):
    """Brothers and sisters (the n-th student of a family, the most
    expensive first), a second discipline of one student, or an exemption
    granted to named families."""

    class Kind(models.TextChoices):
        SIBLING = "sibling", _("brothers and sisters")
        SECOND_DISCIPLINE = "second", _("second discipline of a student")
        EXEMPTION = "exemption", _("exemption")

    grid = models.ForeignKey(FeeGrid, on_delete=models.CASCADE, related_name="reductions")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    name = models.CharField(_("name"), max_length=80, help_text=_("As families read it."))
    from_rank = models.PositiveSmallIntegerField(
        _("from the"),
        default=2,
        validators=[MinValueValidator(2)],
        help_text=_("For brothers and sisters: 2 for the second student, 3 for the third…"),
    )
    percent = models.DecimalField(
        _("percentage"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    amount = models.DecimalField(
        _("amount"), **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal(0))]
    )
    families = models.ManyToManyField(
        Family, verbose_name=_("families exempted"), blank=True, related_name="fee_exemptions"
    )

    class Meta:
        verbose_name = _("reduction")
        verbose_name_plural = _("reductions")
        ordering = ["grid", "kind", "from_rank"]

    def __str__(self):
        return self.name

    def clean(self):
        if (self.percent is None) == (self.amount is None):
            raise ValidationError(_("Give either a percentage or an amount."))


class FamilyIncome(models.Model):
    """What a family declared to compute its quotient familial for a school
    year, and the secretariat's check against the notice."""

    class Source(models.TextChoices):
        TAX_NOTICE = "tax_notice", _("tax notice")
        CAF = "caf", _("CAF")

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="incomes")
    school_year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(_("from"), max_length=12, choices=Source, default=Source.TAX_NOTICE)
    reference_income = models.DecimalField(
        _("reference tax income"),
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    parts = models.DecimalField(
        _("number of parts"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(1)), MaxValueValidator(Decimal(12))],
    )
    caf_quotient = models.DecimalField(
        _("CAF quotient"),
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(1)), MaxValueValidator(Decimal(10000))],
    )
    caf_number = models.CharField(_("CAF number"), max_length=20, blank=True)
    verified = models.BooleanField(_("verified"), default=False)
    verified_at = models.DateTimeField(_("verified on"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("quotient familial")
        verbose_name_plural = _("quotients familiaux")
        constraints = [
            models.UniqueConstraint(fields=["family", "school_year"], name="one_income_per_year")
        ]

    def __str__(self):
        return f"{self.family} – {self.school_year}"

    @property
    def quotient(self):
        """The monthly quotient familial, in euros, or None."""
        if self.source == self.Source.CAF:
            return money(self.caf_quotient) if self.caf_quotient else None
        if self.reference_income is None or not self.parts:
            return None
        return money(self.reference_income / 12 / self.parts)


class InstalmentPlan(models.Model):
    """A way of paying the year offered by a site ("En une fois", "3
    échéances", "10 prélèvements mensuels d'octobre à juillet"): its due
    dates fall on `day` of every `months_between`-th month from
    `first_month`, within the school year."""

    class Mode(models.TextChoices):
        # The same values as billing's payment modes.
        CHEQUE = "cheque", _("cheque")
        CASH = "cash", _("cash")
        ONLINE_CARD = "online_card", _("online card payment")
        DIRECT_DEBIT = "direct_debit", _("direct debit")
        TRANSFER = "transfer", _("bank transfer")
        ANCV = "ancv", _("ANCV holiday vouchers")

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="instalment_plans"
    )
    name = models.CharField(
        _("name"), max_length=80, help_text=_("As families read it, e.g. “10 prélèvements”.")
    )
    instalments = models.PositiveSmallIntegerField(
        _("number of instalments"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    first_month = models.PositiveSmallIntegerField(
        _("first month"),
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_("Month of the first due date, 1 to 12 (10 for October)."),
    )
    months_between = models.PositiveSmallIntegerField(
        _("months between due dates"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(6)],
    )
    day = models.PositiveSmallIntegerField(
        _("day of the month"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_("The day the instalments fall due, and debits are collected."),
    )
    min_amount = models.DecimalField(
        _("minimum instalment"),
        **MONEY,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("Fewer instalments are made when an invoice is too small."),
    )
    modes = models.JSONField(
        _("payment modes allowed"),
        default=list,
        help_text=_("A monthly plan is usually paid by direct debit only."),
    )
    is_default = models.BooleanField(
        _("default plan"), default=False, help_text=_("For families that have not chosen.")
    )
    is_active = models.BooleanField(_("offered"), default=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("instalment plan")
        verbose_name_plural = _("instalment plans")
        ordering = ["site", "position", "instalments"]
        constraints = [
            models.UniqueConstraint(
                fields=["site"], condition=models.Q(is_default=True), name="one_default_plan"
            )
        ]

    def __str__(self):
        return self.name

    def dates(self, school_year):
        """The due dates in a school year: the first in `first_month` of the
        year the school year starts in (or the next if that month comes
        before the start)."""
        start = school_year.start_date
        year = start.year if self.first_month >= start.month else start.year + 1
        found = []
        for k in range(self.instalments):
            month0 = self.first_month - 1 + k * self.months_between
            found.append(date(year + month0 // 12, month0 % 12 + 1, self.day))
        return found

    @property
    def by_direct_debit(self):
        return self.Mode.DIRECT_DEBIT in self.modes

    @property
    def debit_only(self):
        return self.modes == [self.Mode.DIRECT_DEBIT]

    def clean(self):
        if not self.modes:
            raise ValidationError({"modes": _("Allow at least one payment mode.")})
        unknown = set(self.modes) - set(self.Mode.values)
        if unknown:
            raise ValidationError({"modes": _("Unknown payment mode.")})
        if (
            self.instalments
            and self.months_between
            and (self.instalments - 1) * self.months_between > 11
        ):
            raise ValidationError(
                {"instalments": _("The due dates must fit within twelve months.")}
            )


class PlanChoice(models.Model):
    """How a family pays one school year."""

    family = models.ForeignKey(
        Family, verbose_name=_("family"), on_delete=models.CASCADE, related_name="plan_choices"
    )
    school_year = models.ForeignKey(
        SchoolYear, verbose_name=_("school year"), on_delete=models.CASCADE, related_name="+"
    )
    plan = models.ForeignKey(
        InstalmentPlan, verbose_name=_("instalment plan"), on_delete=models.PROTECT
    )
    chosen_at = models.DateTimeField(_("chosen"), auto_now=True)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("chosen by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("plan chosen")
        verbose_name_plural = _("plans chosen")
        constraints = [
            models.UniqueConstraint(fields=["family", "school_year"], name="one_plan_per_year")
        ]

    def __str__(self):
        return f"{self.family} – {self.school_year}: {self.plan}"

    def clean(self):
        if not (self.family_id and self.school_year_id and self.plan_id):
            return
        if len({self.family.site_id, self.school_year.site_id, self.plan.site_id}) > 1:
            raise ValidationError(_("This belongs to another site."))
