from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import F
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from documents.review import DocumentReviewAdmin
from extranet.admin_scoping import ScopedHistoryAdmin, SiteScopedInlineMixin, staff_site_id
from extranet.models import User

from . import account_states
from .admin_accounts import OnboardingAccountAdmin
from .documents import family_owes
from .models import Family, FamilyDocument, Guardian
from .validators import invoice_shares_problem


class MissingDocumentsFilter(admin.SimpleListFilter):
    title = _("documents")
    parameter_name = "documents"

    def lookups(self, request, model_admin):
        return [
            ("missing", _("required document to send")),
            ("complete", _("all required documents sent")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "missing":
            return queryset.filter(family_owes())
        if self.value() == "complete":
            return queryset.exclude(family_owes())
        return queryset


class AccountFilter(admin.SimpleListFilter):
    title = _("account")
    parameter_name = "compte"

    def lookups(self, request, model_admin):
        return [
            ("none", _("without an account")),
            ("never", _("never signed in")),
            ("invited", _("invited, link not used yet")),
            ("used", _("signed in at least once")),
        ]

    def queryset(self, request, queryset):
        condition = account_states.CONDITIONS.get(self.value())
        return queryset if condition is None else queryset.filter(condition())


class GuardianFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        shares = [
            form.cleaned_data.get("invoice_share")
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and (form.cleaned_data.get("is_payer") or form.cleaned_data.get("invoice_share"))
        ]
        problem = invoice_shares_problem(shares)
        if problem:
            raise ValidationError(problem)


class GuardianInline(SiteScopedInlineMixin, admin.StackedInline):
    model = Guardian
    formset = GuardianFormSet
    extra = 0
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("position", "civility"),
                    ("last_name", "birth_name", "first_name"),
                    ("birth_date", "birth_place", "birth_department"),
                    ("marital_status", "pcs", "profession"),
                ]
            },
        ),
        (
            _("Address"),
            {
                "fields": [
                    "address_line1",
                    "address_line2",
                    ("postal_code", "city", "country"),
                    "lives_elsewhere",
                ]
            },
        ),
        (
            _("Phones and e-mail"),
            {
                "fields": [
                    ("home_phone", "mobile_phone", "work_phone"),
                    "email",
                    ("extra_phone_1_label", "extra_phone_1"),
                    ("extra_phone_2_label", "extra_phone_2"),
                    ("extra_phone_3_label", "extra_phone_3"),
                    ("is_payer", "invoice_share"),
                ]
            },
        ),
    ]


class FamilyDocumentInline(admin.TabularInline):
    model = FamilyDocument
    extra = 0
    can_delete = False
    fields = ["kind", "original_name", "uploaded_at", "status", "refusal_reason"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Family)
class FamilyAdmin(ScopedHistoryAdmin):
    list_display = [
        "name",
        "site",
        "reference_email",
        "reference_mobile",
        "updated_at",
        "overview_link",
    ]
    list_filter = [
        ("site", admin.RelatedOnlyFieldListFilter),
        MissingDocumentsFilter,
        AccountFilter,
    ]
    search_fields = [
        "name",
        "external_ref",
        "reference_email",
        "guardians__last_name",
        "guardians__first_name",
        "guardians__email",
        "accounts__username",
    ]
    list_select_related = ["site"]
    # Ten thousand families: a page walks the (site, name, id) index in order
    # and counts the families once, not twice (no "show all" count); fifty
    # rows a page, since each row costs as much to render as the queries of
    # the whole page (the search is how a family is found).
    ordering = ["name", "pk"]
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = ["address_changed_at", "created_at", "updated_at"]
    fields = [
        "site",
        "name",
        "reference_email",
        "reference_mobile",
        "external_ref",
        "address_changed_at",
        "created_at",
        "updated_at",
    ]
    inlines = [GuardianInline, FamilyDocumentInline]

    # "06 12 34 56 78" finds the family by its guardians' numbers too.
    phone_search_fields = [
        "reference_mobile",
        "guardians__home_phone",
        "guardians__mobile_phone",
        "guardians__work_phone",
        "guardians__extra_phone_1",
        "guardians__extra_phone_2",
        "guardians__extra_phone_3",
    ]

    # A secretary sees her site's families only: the site's column and filter
    # would say the same thing on every row.
    def get_list_display(self, request):
        found = super().get_list_display(request)
        return found if staff_site_id(request) is None else [f for f in found if f != "site"]

    def get_list_filter(self, request):
        found = super().get_list_filter(request)
        if staff_site_id(request) is None:
            return found
        return [f for f in found if not (isinstance(f, tuple) and f[0] == "site")]

    @admin.display(description=_("overview"))
    def overview_link(self, family):
        # The secretariat's page of the family as a whole (workspace app).
        return format_html(
            '<a href="{}">{}<span class="visually-hidden"> – {}</span></a>',
            reverse("admin:family_overview", args=[family.pk]),
            _("Overview"),
            family.name,
        )

    # A family editing its record at the same time must not overwrite the
    # secretariat's change silently: every admin save moves the version on.
    def save_model(self, request, obj, form, change):
        if change:
            obj.version = F("version") + 1
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if formset.model is Guardian:
            for guardian_form in formset.forms:
                if guardian_form.instance.pk and guardian_form.has_changed():
                    guardian_form.instance.version = F("version") + 1
        super().save_formset(request, form, formset, change)


@admin.register(Guardian)
class GuardianAdmin(ScopedHistoryAdmin):
    site_path = "family__site"
    list_display = ["last_name", "first_name", "family", "postal_code", "city", "mobile_phone"]
    list_select_related = ["family"]
    search_fields = ["last_name", "first_name", "family__name", "email"]
    fieldsets = GuardianInline.fieldsets
    readonly_fields = ["family"]

    def has_add_permission(self, request):
        return False  # Guardians are added from their family.

    def save_model(self, request, obj, form, change):
        obj.version = F("version") + 1
        super().save_model(request, obj, form, change)


@admin.register(FamilyDocument)
class FamilyDocumentAdmin(DocumentReviewAdmin):
    site_path = "family__site"
    list_select_related = ["family", "kind"]
    search_fields = ["family__name", "original_name"]


# The accounts' admin of extranet, with the first connection (admin_accounts.py).
admin.site.unregister(User)
admin.site.register(User, OnboardingAccountAdmin)
