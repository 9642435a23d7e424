"""The plan each family pays a year by: the secretariat changes it at any
time, and the instalments not yet due are rewritten."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from extranet.admin_scoping import SiteScopedAdmin
from fees.models import PlanChoice

from .instalments import choose_plan


@admin.register(PlanChoice)
class PlanChoiceAdmin(SiteScopedAdmin):
    site_path = "family__site"
    list_display = ["family", "school_year", "plan", "chosen_at", "chosen_by"]
    list_filter = ["school_year", "plan"]
    list_select_related = ["family", "school_year", "plan", "chosen_by"]
    search_fields = ["family__name"]
    autocomplete_fields = ["family"]
    fields = ["family", "school_year", "plan"]

    def get_readonly_fields(self, request, obj=None):
        return ["family", "school_year"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        try:
            choose_plan(obj.family, obj.school_year, obj.plan, request.user, secretariat=True)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return
        messages.info(
            request,
            _("The instalments not yet due of %(family)s's invoices now follow “%(plan)s”.")
            % {"family": obj.family, "plan": obj.plan},
        )
        obj.pk = PlanChoice.objects.get(family=obj.family, school_year=obj.school_year).pk
