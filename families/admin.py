import phonenumbers
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Prefetch, Q
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from extranet.admin import SiteScopedAdmin, SiteScopedInlineMixin
from extranet.responses import base_url

from . import emails
from .documents import checklist
from .models import DocumentKind, Family, FamilyDocument, Guardian
from .views import document_response

Status = FamilyDocument.Status


def families_missing_documents(queryset):
    """Ids of the families whose checklist shows a required document to send,
    judged exactly as the family's own page judges it."""
    kinds = {}
    for kind in DocumentKind.objects.filter(
        required=True, is_active=True, scope=DocumentKind.Scope.FAMILY
    ):
        kinds.setdefault(kind.site_id, []).append(kind)
    documents = FamilyDocument.objects.select_related("kind")
    missing = []
    for family in queryset.prefetch_related(Prefetch("documents", queryset=documents)):
        items = checklist(kinds.get(family.site_id, []), family.documents.all(),
                          family.address_changed_at)
        if any(item.needs_upload for item in items):
            missing.append(family.pk)
    return missing


class MissingDocumentsFilter(admin.SimpleListFilter):
    title = _("documents")
    parameter_name = "documents"

    def lookups(self, request, model_admin):
        return [("missing", _("required document to send")),
                ("complete", _("all required documents sent"))]

    def queryset(self, request, queryset):
        if self.value() in {"missing", "complete"}:
            missing = families_missing_documents(queryset)
            if self.value() == "missing":
                return queryset.filter(pk__in=missing)
            return queryset.exclude(pk__in=missing)
        return queryset


class ScopedHistoryAdmin(SiteScopedAdmin, SimpleHistoryAdmin):
    """History pages limited to the staff member's site, like the rest."""

    def history_view(self, request, object_id, extra_context=None):
        get_object_or_404(self.get_queryset(request), pk=unquote(object_id))
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        get_object_or_404(self.get_queryset(request), pk=unquote(object_id))
        return super().history_form_view(request, object_id, version_id, extra_context)


class GuardianInline(SiteScopedInlineMixin, admin.StackedInline):
    model = Guardian
    extra = 0
    fieldsets = [
        (None, {"fields": [("position", "civility"), ("last_name", "birth_name", "first_name"),
                           ("birth_date", "birth_place", "birth_department"),
                           ("marital_status", "pcs", "profession")]}),
        (_("Address"), {"fields": ["address_line1", "address_line2",
                                   ("postal_code", "city", "country"), "lives_elsewhere"]}),
        (_("Phones and e-mail"), {"fields": [("home_phone", "mobile_phone", "work_phone"), "email",
                                             ("extra_phone_1_label", "extra_phone_1"),
                                             ("extra_phone_2_label", "extra_phone_2"),
                                             ("extra_phone_3_label", "extra_phone_3"), "is_payer"]}),
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
    list_display = ["name", "site", "reference_email", "reference_mobile", "updated_at"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter), MissingDocumentsFilter]
    search_fields = ["name", "external_ref", "reference_email", "guardians__last_name",
                     "guardians__first_name", "guardians__email", "accounts__username"]
    list_select_related = ["site"]
    readonly_fields = ["address_changed_at", "created_at", "updated_at"]
    fields = ["site", "name", "reference_email", "reference_mobile", "external_ref",
              "address_changed_at", "created_at", "updated_at"]
    inlines = [GuardianInline, FamilyDocumentInline]

    PHONE_FIELDS = ["reference_mobile", "guardians__home_phone", "guardians__mobile_phone",
                    "guardians__work_phone", "guardians__extra_phone_1",
                    "guardians__extra_phone_2", "guardians__extra_phone_3"]

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # "06 12 34 56 78" finds the number stored as +33612345678.
        try:
            number = phonenumbers.parse(search_term, "FR")
        except phonenumbers.NumberParseException:
            return results, may_have_duplicates
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        by_phone = Q()
        for field in self.PHONE_FIELDS:
            by_phone |= Q(**{field: e164})
        return results | queryset.filter(by_phone), True

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


class DocumentReviewForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == Status.REFUSED and not cleaned.get("refusal_reason", "").strip():
            self.add_error("refusal_reason",
                           _("Say why the document is refused: the family receives this reason."))
        return cleaned


class DocumentReviewAdmin(SiteScopedAdmin):
    """The secretariat's review of uploaded documents, oldest first: preview,
    accept, or refuse with a reason e-mailed to the family. Subclassed for
    each concrete document model."""

    form = DocumentReviewForm
    list_display = ["uploaded_at", "owner", "kind", "status", "file_link"]
    list_filter = ["status", ("kind", admin.RelatedOnlyFieldListFilter)]
    ordering = ["uploaded_at"]  # Oldest first: the next to review.
    readonly_fields = ["owner", "kind", "original_name", "content_type", "size", "uploaded_at",
                       "uploaded_by", "reviewed_at", "reviewed_by", "preview"]
    fields = ["owner", "kind", "preview", "original_name", "content_type", "size",
              "uploaded_at", "uploaded_by", "status", "refusal_reason", "reviewed_at",
              "reviewed_by"]
    actions = ["accept"]

    @property
    def file_url_name(self):
        return f"{self.opts.app_label}_{self.opts.model_name}_file"

    def get_urls(self):
        return [
            path("<int:pk>/fichier/", self.admin_site.admin_view(self.file_view),
                 name=self.file_url_name),
            *super().get_urls(),
        ]

    def file_view(self, request, pk):
        document = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_view_permission(request, document):
            raise PermissionDenied
        return document_response(document, as_attachment=False)

    @admin.display(description=_("family or student"))
    def owner(self, document):
        return document.owner

    @admin.display(description=_("file"))
    def file_link(self, document):
        url = reverse(f"admin:{self.file_url_name}", args=[document.pk])
        return format_html('<a href="{}">{}</a>', url, document.original_name)

    @admin.display(description=_("preview"))
    def preview(self, document):
        if document.pk is None:
            return "-"
        url = reverse(f"admin:{self.file_url_name}", args=[document.pk])
        if document.content_type.startswith("image/"):
            return format_html('<a href="{}"><img src="{}" alt="{}" style="max-width: 100%; '
                               'max-height: 40rem;"></a>', url, url, document.original_name)
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url,
                           _("Open the PDF"))

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        if "status" in form.changed_data:
            obj.reviewed_at = timezone.now()
            obj.reviewed_by = request.user
            if obj.status == Status.REFUSED:
                emails.document_refused(obj, base_url(request))
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Accept the selected documents"), permissions=["change"])
    def accept(self, request, queryset):
        with transaction.atomic():
            count = queryset.exclude(status=Status.ACCEPTED).update(
                status=Status.ACCEPTED, refusal_reason="", reviewed_at=timezone.now(),
                reviewed_by=request.user,
            )
        self.message_user(request, ngettext("%(count)d document accepted.",
                                            "%(count)d documents accepted.", count)
                          % {"count": count}, messages.SUCCESS)


@admin.register(FamilyDocument)
class FamilyDocumentAdmin(DocumentReviewAdmin):
    site_path = "family__site"
    list_select_related = ["family", "kind"]
    search_fields = ["family__name", "original_name"]


@admin.register(DocumentKind)
class DocumentKindAdmin(SiteScopedAdmin):
    list_display = ["name", "site", "scope", "required", "proves_address", "validity", "is_active"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter), "scope", "is_active"]
    list_editable = ["required", "is_active"]
    search_fields = ["name"]
