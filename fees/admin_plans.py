"""The instalment plans a site offers."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from extranet.admin_scoping import SiteScopedAdmin, staff_site_id

from .models import InstalmentPlan


class InstalmentPlanForm(forms.ModelForm):
    modes = forms.MultipleChoiceField(
        label=_("payment modes allowed"),
        choices=InstalmentPlan.Mode.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Allow at least one payment mode.")},
        help_text=_("A monthly plan is usually paid by direct debit only."),
    )

    class Meta:
        model = InstalmentPlan
        fields = [
            "name",
            "instalments",
            "first_month",
            "months_between",
            "day",
            "min_amount",
            "modes",
            "is_default",
            "is_active",
            "position",
        ]


@admin.register(InstalmentPlan)
class InstalmentPlanAdmin(SiteScopedAdmin):
    form = InstalmentPlanForm
    list_display = [
        "name",
        "instalments",
        "first_month",
        "day",
        "min_amount",
        "is_default",
        "is_active",
    ]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter), "is_active"]
    list_select_related = ["site"]

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        # A network administrator (no site of her own) says which site.
        if staff_site_id(request) is None and "site" not in fields:
            fields.insert(0, "site")
        return fields

    def save_model(self, request, obj, form, change):
        if obj.is_default:
            # One default plan per site: this one replaces the other.
            site_id = staff_site_id(request) or obj.site_id
            InstalmentPlan.objects.filter(site_id=site_id, is_default=True).exclude(
                pk=obj.pk
            ).update(is_default=False)
        super().save_model(request, obj, form, change)
