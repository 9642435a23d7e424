"""The secretariat's check of the quotients familiaux the families declared:
the figures beside the family's tax notices, marked verified or corrected."""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from extranet.admin_scoping import ScopedHistoryAdmin
from extranet.formatting import eur

from .income import FIGURES, band_of, income_documents, income_errors, mark_verified, rules_by_year
from .models import FamilyIncome


class FamilyIncomeForm(forms.ModelForm):
    class Meta:
        model = FamilyIncome
        fields = ["family", "school_year", *FIGURES, "verified"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # French decimals ("2,5") as the secretary types them.
        for name in ["reference_income", "parts", "caf_quotient"]:
            self.fields[name].localize = True
            self.fields[name].widget.is_localized = True

    def clean(self):
        cleaned = super().clean()
        family = cleaned.get("family") or (
            self.instance.family if self.instance.family_id else None
        )
        year = cleaned.get("school_year") or (
            self.instance.school_year if self.instance.school_year_id else None
        )
        if family and year and family.site_id != year.site_id:
            self.add_error("school_year", _("This belongs to another site."))
        source = cleaned.get("source")
        if source:
            errors = income_errors(source, *(cleaned.get(name) for name in FIGURES[1:]))
            for name, message in errors.items():
                if name not in self.errors:
                    self.add_error(name, message)
        return cleaned


@admin.register(FamilyIncome)
class FamilyIncomeAdmin(ScopedHistoryAdmin):
    site_path = "family__site"
    form = FamilyIncomeForm
    list_display = [
        "family",
        "school_year",
        "source",
        "reference_income",
        "parts",
        "caf_quotient",
        "quotient_display",
        "band_display",
        "verified",
    ]
    list_filter = ["verified", ("school_year", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["family", "school_year"]
    search_fields = ["family__name"]
    ordering = ["verified", "family__name"]
    actions = ["verify"]
    readonly_fields = [
        "quotient_display",
        "band_display",
        "notices",
        "verified_at",
        "verified_by",
    ]

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["family", "school_year"]}),
            (
                _("Declared figures"),
                {"fields": [*FIGURES, "quotient_display", "band_display", "notices"]},
            ),
            (_("Check"), {"fields": ["verified", "verified_at", "verified_by"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        # A declaration stays the family's and the year's it was made for.
        fixed = ["family", "school_year"] if obj else []
        return [*fixed, *self.readonly_fields]

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # The band of each row, reading each grid on the page once.
        rows = list(changelist.result_list)
        rules = rules_by_year({row.school_year_id for row in rows})
        for row in rows:
            row.fee_band = band_of(row, rules.get(row.school_year_id))
        return changelist

    @admin.display(description=_("quotient familial"))
    def quotient_display(self, income):
        return eur(income.quotient) if income.pk else "-"

    @admin.display(description=_("band"))
    def band_display(self, income):
        if not hasattr(income, "fee_band"):
            if income.pk is None:
                return "-"
            rules = rules_by_year([income.school_year_id]).get(income.school_year_id)
            income.fee_band = band_of(income, rules)
        return income.fee_band.code if income.fee_band else "-"

    @admin.display(description=_("tax notices"))
    def notices(self, income):
        if income.pk is None:
            return "-"
        documents = [
            (document, reverse("admin:families_familydocument_file", args=[document.pk]))
            for document in income_documents(income.family_id)
        ]
        return render_to_string("admin/fees/familyincome/notices.html", {"documents": documents})

    def save_model(self, request, obj, form, change):
        corrected = not change or any(name in form.changed_data for name in FIGURES)
        if corrected or (obj.verified and "verified" in form.changed_data):
            # Figures the secretary typed in are checked by her.
            mark_verified(obj, request.user)
        elif not obj.verified:
            obj.verified_at = None
            obj.verified_by = None
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Mark the selected quotients as verified"), permissions=["change"])
    def verify(self, request, queryset):
        count = 0
        with transaction.atomic():
            # One save each, so that the history says who checked what.
            for income in queryset.filter(verified=False).select_for_update():
                mark_verified(income, request.user)
                income.save()
                count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d quotient marked as verified.",
                "%(count)d quotients marked as verified.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
