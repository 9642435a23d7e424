"""The secretariat's forms for the fee grids, with their French messages."""

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format, number_format
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from students.models import Discipline, SchoolYear

from . import copying
from .models import Band, Commune, FeeItem, Reduction, Term, Zone, normalized
from .price_table import parse_amount

COMMUNE_LINE = re.compile(r"(\d{5})\s*[-–—,;:]?\s*(\S.*)")
MAX_UPLOAD = 2 * 1024 * 1024


class UniqueWithinGridFormSet(forms.BaseInlineFormSet):
    """Reports two rows of the same grid with the same value next to the
    field, in French, instead of the model's generic message."""

    distinct_fields = {}  # field name: message

    def validate_unique(self):
        for name, message in self.distinct_fields.items():
            seen = {}
            for form in self.forms:
                if not form.is_valid() or form in self.deleted_forms:
                    continue
                value = form.cleaned_data.get(name)
                if value in (None, ""):
                    continue
                key = value.strip().casefold() if isinstance(value, str) else value
                if key in seen:
                    form.add_error(name, message)
                else:
                    seen[key] = form


class NoDatabaseUniqueCheckForm(forms.ModelForm):
    # The formset compares every row of the grid (all are on the page):
    # checking each row against the database would refuse a swap of two values.
    def validate_unique(self):
        pass

    def validate_constraints(self):
        pass


class TermForm(NoDatabaseUniqueCheckForm):
    class Meta:
        model = Term
        fields = ["number", "start_date", "end_date", "due_date"]


class TermFormSet(UniqueWithinGridFormSet):
    distinct_fields = {"number": _("Another term already has this number.")}

    def clean(self):
        super().clean()
        year = self.instance.school_year if self.instance.school_year_id else None
        if year is None:
            return
        for form in self.forms:
            # Said at once, even beside another field's error.
            if not hasattr(form, "cleaned_data") or form in self.deleted_forms:
                continue
            for name in ["start_date", "end_date"]:
                day = form.cleaned_data.get(name)
                if day and not year.start_date <= day <= year.end_date:
                    form.add_error(
                        name,
                        _("Choose a day of the school year, from %(start)s to %(end)s.")
                        % {
                            "start": date_format(year.start_date, "SHORT_DATE_FORMAT"),
                            "end": date_format(year.end_date, "SHORT_DATE_FORMAT"),
                        },
                    )


class BandForm(NoDatabaseUniqueCheckForm):
    class Meta:
        model = Band
        fields = ["code", "min_qf"]
        localized_fields = ["min_qf"]


class BandFormSet(UniqueWithinGridFormSet):
    distinct_fields = {
        "min_qf": _("Another band already starts at this quotient: bands cannot overlap."),
        "code": _("Another band already has this name."),
    }


class ZoneForm(NoDatabaseUniqueCheckForm):
    communes_text = forms.CharField(
        label=capfirst(_("communes")),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 40}),
        help_text=_("One commune per line: postal code, then name (77380 Combs-la-Ville)."),
    )

    class Meta:
        model = Zone
        fields = ["name", "is_outside", "position"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["communes_text"] = "\n".join(
                f"{c.postal_code} {c.name}" for c in self.instance.communes.all()
            )

    def clean_communes_text(self):
        communes, problems = [], []
        for number, line in enumerate(self.cleaned_data["communes_text"].splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            match = COMMUNE_LINE.fullmatch(line)
            if not match or len(match.group(2)) > 100:
                problems.append(
                    gettext(
                        "Line %(line)d: write the postal code (5 digits), then the name, "
                        "for example 77380 Combs-la-Ville."
                    )
                    % {"line": number}
                )
                continue
            communes.append((match.group(1), match.group(2).strip()))
        if problems:
            raise ValidationError(problems)
        return communes

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("is_outside") and cleaned.get("communes_text"):
            self.add_error(
                "communes_text",
                _("The zone of everywhere else lists no commune: leave this empty."),
            )
        return cleaned

    def save_communes(self):
        """Replaces the zone's communes by those typed."""
        zone = self.instance
        zone.communes.all().delete()
        Commune.objects.bulk_create(
            Commune(zone=zone, postal_code=code, name=name, normalized_name=normalized(name))
            for code, name in self.cleaned_data.get("communes_text") or []
        )


class ZoneFormSet(UniqueWithinGridFormSet):
    distinct_fields = {"name": _("Another zone already has this name.")}

    def clean(self):
        super().clean()
        outside = [
            form
            for form in self.forms
            if form.is_valid()
            and form not in self.deleted_forms
            and form.cleaned_data.get("is_outside")
        ]
        for form in outside[1:]:
            form.add_error("is_outside", _("Only one zone can be the zone of everywhere else."))


class FeeItemForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(
        label=capfirst(_("disciplines")),
        choices=Discipline.Category.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("The categories of discipline the student must follow together."),
    )

    class Meta:
        model = FeeItem
        fields = [
            "position",
            "name",
            "per_family",
            "categories",
            "min_courses",
            "max_courses",
            "course_kind",
            "age",
        ]


class FeeItemFormSet(UniqueWithinGridFormSet):
    distinct_fields = {"name": _("Another item already has this name.")}


class ReductionForm(forms.ModelForm):
    class Meta:
        model = Reduction
        fields = ["kind", "name", "from_rank", "percent", "amount", "families"]
        localized_fields = ["percent", "amount"]
        error_messages = {
            "percent": {
                "max_value": _("A reduction cannot be more than 100 %%."),
                "min_value": _("A reduction cannot be negative."),
            },
            "amount": {"min_value": _("A reduction cannot be negative.")},
        }

    def clean(self):
        cleaned = super().clean()
        if "percent" in self.errors or "amount" in self.errors:
            return cleaned
        percent, amount = cleaned.get("percent"), cleaned.get("amount")
        if percent is None and amount is None:
            self.add_error("percent", _("Give a percentage or an amount."))
        elif percent is not None and amount is not None:
            self.add_error("amount", _("Give a percentage or an amount, not both."))
        if cleaned.get("kind") == Reduction.Kind.EXEMPTION and not cleaned.get("families"):
            self.add_error("families", _("Choose the families exempted."))
        return cleaned

    def _post_clean(self):
        # The model's own check says the same without pointing at a field.
        self.instance.clean = lambda: None
        super()._post_clean()


class AmountInput(forms.CharField):
    """A price cell: French or English decimal, empty for no price."""

    def __init__(self, **kwargs):
        super().__init__(
            required=False,
            max_length=None,
            widget=forms.TextInput(
                attrs={"inputmode": "decimal", "size": 8, "autocomplete": "off"}
            ),
            **kwargs,
        )

    def clean(self, value):
        return parse_amount(super().clean(value))


class PriceTableForm(forms.Form):
    """One field per cell of the table, named after its item, band and zone."""

    def __init__(self, table, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.table = table
        self.cells = list(table.cells())
        for cell in self.cells:
            self.fields[cell.name] = AmountInput(label=cell.label)
            if cell.amount is not None:
                self.initial[cell.name] = localized(cell.amount)

    def amounts(self):
        # Only the cells sent: a cell added to the grid since the page was
        # opened keeps its price.
        return {
            cell.key: self.cleaned_data[cell.name] for cell in self.cells if cell.name in self.data
        }

    def described(self, name):
        return described(self, name)

    def rows(self):
        """[(zone, [(item, [bound field per band])])] for the template."""
        fields = iter(self.cells)
        zones = []
        for zone in self.table.zones:
            lines = []
            for item in self.table.items:
                lines.append((item, [self.described(next(fields).name) for _b in self.table.bands]))
            zones.append((zone, lines))
        return zones


def described(form, name):
    """The bound field, its input pointing at its errors for screen readers."""
    bound = form[name]
    if bound.errors:
        bound.field.widget.attrs.update(
            {"aria-invalid": "true", "aria-describedby": f"{bound.auto_id}_errors"}
        )
    return bound


def localized(amount):
    return number_format(amount, 2, use_l10n=True)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=capfirst(_("file")),
        help_text=_("CSV (semicolons, UTF-8) or Excel, laid out as the export."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise ValidationError(_("The file is too large (2 MB at most)."))
        return upload


class CopyForm(forms.Form):
    school_year = forms.ModelChoiceField(
        label=capfirst(_("school year")),
        queryset=SchoolYear.objects.none(),
        error_messages={"invalid_choice": _("Choose a year of the site without a grid.")},
    )
    percent = forms.DecimalField(
        label=capfirst(_("increase (%)")),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(-50),
        max_value=Decimal(100),
        initial=Decimal(0),
        localize=True,
        help_text=_("For example 2,5 for +2.5 %; 0 to keep the prices."),
    )
    rounding = forms.ChoiceField(
        label=capfirst(_("rounded to")),
        choices=[(copying.CENT, _("the cent")), (copying.EURO, _("the euro"))],
        initial=copying.CENT,
        widget=forms.RadioSelect,
    )

    def __init__(self, grid, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_year"].queryset = SchoolYear.objects.filter(
            site_id=grid.site_id, fee_grids__isnull=True
        ).order_by("start_date")
