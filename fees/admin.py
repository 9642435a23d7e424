"""The secretariat's fee grids: the grid with its terms, zones, bands, items
and reductions; its price table (a page, a CSV/XLSX export and import); a
copy to next year with an increase."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from extranet import tables
from extranet.admin_scoping import SiteScopedAdmin, SiteScopedInlineMixin, staff_site_id
from families.models import Family

from . import copying
from .forms import (
    BandForm,
    BandFormSet,
    CopyForm,
    FeeItemForm,
    FeeItemFormSet,
    ImportForm,
    PriceTableForm,
    ReductionForm,
    TermForm,
    TermFormSet,
    ZoneForm,
    ZoneFormSet,
)
from .models import Band, FeeGrid, FeeItem, Reduction, Term, Zone
from .price_table import ImportRefused, Table, amounts_from_rows, headers, read_rows


def make_room(formset, fields, placeholder):
    for row in formset.initial_forms:
        if row in formset.deleted_forms or set(fields) & set(row.changed_data):
            formset.model.objects.filter(pk=row.instance.pk).update(**placeholder(row.instance.pk))


class TermInline(SiteScopedInlineMixin, admin.TabularInline):
    model = Term
    form = TermForm
    formset = TermFormSet
    extra = 0
    fields = ["number", "start_date", "end_date", "due_date"]


class ZoneInline(SiteScopedInlineMixin, admin.TabularInline):
    model = Zone
    form = ZoneForm
    formset = ZoneFormSet
    extra = 0
    fields = ["position", "name", "is_outside", "communes_text"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("communes")


class BandInline(SiteScopedInlineMixin, admin.TabularInline):
    model = Band
    form = BandForm
    formset = BandFormSet
    extra = 0
    fields = ["code", "min_qf"]


class FeeItemInline(SiteScopedInlineMixin, admin.StackedInline):
    model = FeeItem
    form = FeeItemForm
    formset = FeeItemFormSet
    extra = 0
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("position", "name", "per_family"),
                    "categories",
                    ("min_courses", "max_courses", "course_kind", "age"),
                ]
            },
        )
    ]


class ReductionInline(SiteScopedInlineMixin, admin.StackedInline):
    model = Reduction
    form = ReductionForm
    extra = 0
    autocomplete_fields = ["families"]
    fieldsets = [
        (None, {"fields": [("kind", "name"), ("from_rank", "percent", "amount"), "families"]})
    ]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        site_id = staff_site_id(request)
        if db_field.name == "families" and site_id is not None:
            kwargs["queryset"] = Family.objects.filter(site_id=site_id)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("families")


@admin.register(FeeGrid)
class FeeGridAdmin(SiteScopedAdmin):
    list_display = ["__str__", "site", "school_year", "billing", "prices_link"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["site", "school_year"]
    fields = ["site", "school_year", "qf_formula", "billing", "adult_age", "notes"]
    inlines = [TermInline, ZoneInline, BandInline, FeeItemInline, ReductionInline]
    actions = ["copy_grid"]

    def get_readonly_fields(self, request, obj=None):
        # A grid's year is its identity: next year's is a copy, not an edit.
        return ["site", "school_year"] if obj is not None else []

    def save_formset(self, request, form, formset, change):
        # Rows may swap values that the database keeps distinct (two bands'
        # thresholds, the zone of everywhere else): the rows that change them
        # are moved out of the way first, in the admin's transaction.
        if formset.model is Band:
            make_room(formset, ["code", "min_qf"], lambda pk: {"code": f"#{pk}", "min_qf": -pk})
        elif formset.model is Zone:
            make_room(formset, ["is_outside"], lambda pk: {"is_outside": False})
        super().save_formset(request, form, formset, change)
        if formset.model is Zone:
            for zone_form in formset.forms:
                if (
                    zone_form.instance.pk
                    and zone_form not in formset.deleted_forms
                    and "communes_text" in zone_form.changed_data
                ):
                    zone_form.save_communes()

    @admin.display(description=_("prices"))
    def prices_link(self, grid):
        return render_to_string("admin/fees/feegrid/prices_link.html", {"grid": grid})

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/prices/", view(self.prices_view), name="fees_feegrid_prices"),
            path(
                "<int:pk>/prices/import/",
                view(self.import_view),
                name="fees_feegrid_prices_import",
            ),
            path(
                "<int:pk>/prices/<str:file_format>/",
                view(self.export_view),
                name="fees_feegrid_prices_export",
            ),
            *super().get_urls(),
        ]

    # The price table.

    def grid_or_404(self, request, pk, change=False):
        grid = get_object_or_404(self.get_queryset(request), pk=pk)
        allowed = self.has_change_permission if change else self.has_view_permission
        if not allowed(request, grid):
            raise PermissionDenied
        return grid

    def prices_page(self, request, grid, table, form, import_form=None, problems=(), status=200):
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("%(grid)s: price table") % {"grid": grid},
            "opts": self.opts,
            "grid": grid,
            "table": table,
            "form": form,
            "import_form": import_form or ImportForm(),
            "problems": problems,
            "gaps": table.gaps(),
            "can_change": self.has_change_permission(request, grid),
            "media": self.media,
        }
        return TemplateResponse(request, "admin/fees/feegrid/prices.html", context, status=status)

    def prices_view(self, request, pk):
        grid = self.grid_or_404(request, pk, change=request.method == "POST")
        table = Table(grid)
        if request.method == "POST":
            form = PriceTableForm(table, request.POST)
            if form.is_valid():
                changed = table.save(form.amounts())
                self.message_user(
                    request,
                    ngettext("%(count)d price changed.", "%(count)d prices changed.", changed)
                    % {"count": changed},
                    messages.SUCCESS,
                )
                return redirect("admin:fees_feegrid_prices", grid.pk)
            self.message_user(
                request, gettext("Nothing was saved: correct the cells marked."), messages.ERROR
            )
            return self.prices_page(request, grid, table, form)
        return self.prices_page(request, grid, table, PriceTableForm(table))

    def import_view(self, request, pk):
        grid = self.grid_or_404(request, pk, change=True)
        if request.method != "POST":
            return redirect("admin:fees_feegrid_prices", grid.pk)
        table = Table(grid)
        import_form = ImportForm(request.POST, request.FILES)
        problems = []
        if import_form.is_valid():
            try:
                amounts = amounts_from_rows(table, read_rows(import_form.cleaned_data["file"]))
            except ImportRefused as refused:
                problems = refused.messages
            else:
                changed = table.save(amounts)
                self.message_user(
                    request,
                    ngettext(
                        "File read: %(count)d price changed.",
                        "File read: %(count)d prices changed.",
                        changed,
                    )
                    % {"count": changed},
                    messages.SUCCESS,
                )
                return redirect("admin:fees_feegrid_prices", grid.pk)
        self.message_user(
            request, gettext("Nothing was imported: correct the file."), messages.ERROR
        )
        return self.prices_page(request, grid, table, PriceTableForm(table), import_form, problems)

    def export_view(self, request, pk, file_format):
        grid = self.grid_or_404(request, pk)
        table = Table(grid)
        filename = f"tarifs-{grid.site.slug}-{grid.school_year}"
        if file_format == "csv":
            return tables.csv_response(filename, headers(), table.rows())
        if file_format == "xlsx":
            return tables.xlsx_response(filename, gettext("Prices"), headers(), table.rows())
        raise PermissionDenied

    # The copy to next year.

    @admin.action(
        description=_("Copy the grid to another year, with an increase"), permissions=["add"]
    )
    def copy_grid(self, request, queryset):
        grids = list(queryset.select_related("site", "school_year")[:2])
        if len(grids) != 1:
            self.message_user(request, gettext("Select one grid to copy."), messages.ERROR)
            return None
        grid = grids[0]
        if "apply" in request.POST:
            form = CopyForm(grid, request.POST)
            if form.is_valid():
                copy = copying.copy_grid(
                    grid,
                    form.cleaned_data["school_year"],
                    form.cleaned_data["percent"],
                    form.cleaned_data["rounding"],
                )
                self.message_user(
                    request,
                    gettext(
                        "%(copy)s made from the %(grid)s: check the terms' dates and the prices."
                    )
                    % {"copy": copy, "grid": grid},
                    messages.SUCCESS,
                )
                return redirect("admin:fees_feegrid_change", copy.pk)
        else:
            form = CopyForm(grid)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Copy the %(grid)s") % {"grid": grid},
            "opts": self.opts,
            "grid": grid,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/fees/feegrid/copy.html", context)


# The quotient familial, checked beside the notices, and the instalment plans.
from . import admin_income, admin_plans  # noqa: E402, F401
