"""The secretariat's review of uploaded documents, shared by the apps that
own a concrete document model (each registers a subclass)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from extranet.admin_scoping import SiteScopedAdmin
from extranet.responses import base_url

from . import emails
from .files import document_response
from .models import BaseDocument

Status = BaseDocument.Status


class DocumentReviewForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("status") == Status.REFUSED
            and not cleaned.get("refusal_reason", "").strip()
        ):
            self.add_error(
                "refusal_reason",
                _("Say why the document is refused: the family receives this reason."),
            )
        return cleaned


class DocumentReviewAdmin(SiteScopedAdmin):
    """Oldest first: preview, accept, or refuse with a reason e-mailed to
    the family."""

    form = DocumentReviewForm
    list_display = ["uploaded_at", "owner", "kind", "status", "file_link"]
    list_filter = ["status", ("kind", admin.RelatedOnlyFieldListFilter)]
    ordering = ["uploaded_at"]  # Oldest first: the next to review.
    readonly_fields = [
        "owner",
        "kind",
        "original_name",
        "content_type",
        "size",
        "uploaded_at",
        "uploaded_by",
        "reviewed_at",
        "reviewed_by",
        "preview",
    ]
    fields = [
        "owner",
        "kind",
        "preview",
        "original_name",
        "content_type",
        "size",
        "uploaded_at",
        "uploaded_by",
        "status",
        "refusal_reason",
        "reviewed_at",
        "reviewed_by",
    ]
    actions = ["accept"]

    @property
    def file_url_name(self):
        return f"{self.opts.app_label}_{self.opts.model_name}_file"

    def get_urls(self):
        return [
            path(
                "<int:pk>/fichier/",
                self.admin_site.admin_view(self.file_view),
                name=self.file_url_name,
            ),
            *super().get_urls(),
        ]

    def file_view(self, request, pk):
        document = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_view_permission(request, document):
            raise PermissionDenied
        return document_response(document, as_attachment=False)

    def _file_html(self, document, template):
        url = reverse(f"admin:{self.file_url_name}", args=[document.pk])
        return render_to_string(template, {"document": document, "url": url})

    @admin.display(description=_("family or student"))
    def owner(self, document):
        return document.owner

    @admin.display(description=_("file"))
    def file_link(self, document):
        return self._file_html(document, "admin/documents/file_link.html")

    @admin.display(description=_("preview"))
    def preview(self, document):
        if document.pk is None:
            return "-"
        return self._file_html(document, "admin/documents/preview.html")

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
                status=Status.ACCEPTED,
                refusal_reason="",
                reviewed_at=timezone.now(),
                reviewed_by=request.user,
            )
        self.message_user(
            request,
            ngettext("%(count)d document accepted.", "%(count)d documents accepted.", count)
            % {"count": count},
            messages.SUCCESS,
        )
