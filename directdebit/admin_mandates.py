"""Admin: mandates. Signed by the families online: the secretariat reads
them, downloads the signed PDF, and may revoke one."""

from django.contrib import admin, messages
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from extranet.admin_scoping import RecordAdminMixin, SiteScopedAdmin
from extranet.responses import serve_stored_file

from . import mandates
from .models import Mandate
from .pdfs import ensure_mandate_pdf


@admin.register(Mandate)
class MandateAdmin(RecordAdminMixin, SiteScopedAdmin):
    """Signed by the families, never added or edited by hand; staff may revoke."""

    list_display = [
        "family",
        "rum",
        "holder_name",
        "iban_display",
        "status",
        "signed_at",
        "last_debit_on",
    ]
    list_filter = ["status"]
    list_select_related = ["family"]
    search_fields = ["rum", "family__name", "holder_name"]
    ordering = ["-created_at"]
    actions = ["revoke_mandates"]
    fields = [
        "family",
        "rum",
        "status",
        "holder_name",
        "holder_address",
        "iban_display",
        "bic",
        "original_iban_display",
        "original_bic",
        "amended_at",
        "signed_at",
        "signed_by",
        "signed_from",
        "last_debit_on",
        "ended_at",
        "pdf_link",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(status=Mandate.Status.PENDING)

    def has_revoke_permission(self, request):
        return request.user.has_perm("directdebit.change_mandate")

    @admin.display(description=_("IBAN"))
    def iban_display(self, mandate):
        return mandate.iban_masked

    @admin.display(description=_("previous IBAN"))
    def original_iban_display(self, mandate):
        from .banking import masked

        return masked(mandate.original_iban) or "–"

    @admin.display(description=_("signed mandate"))
    def pdf_link(self, mandate):
        if mandate.signed_at is None:
            return "–"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:directdebit_mandate_pdf", args=[mandate.pk]),
            _("Download the signed mandate (PDF)"),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="directdebit_mandate_pdf",
            ),
            *super().get_urls(),
        ]

    def pdf_view(self, request, pk):
        from django.core.exceptions import PermissionDenied

        if not self.has_view_permission(request):
            raise PermissionDenied
        mandate = ensure_mandate_pdf(get_object_or_404(self.get_queryset(request), pk=pk))
        return serve_stored_file(
            mandate.pdf,
            f"mandat-{mandate.rum}.pdf",
            "application/pdf",
            as_attachment=False,
        )

    @admin.action(description=_("Revoke the selected mandates"), permissions=["revoke"])
    def revoke_mandates(self, request, queryset):
        active = list(queryset.filter(status=Mandate.Status.ACTIVE).select_related("family"))
        if "confirm" not in request.POST:
            return TemplateResponse(
                request,
                "directdebit/mandate_admin_revoke.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "title": _("Revoke the selected mandates"),
                    "mandates": [(m, mandates.submitted_debits(m)) for m in active],
                    "queryset": queryset,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        for mandate in active:
            mandates.revoke(mandate)
        self.message_user(
            request,
            ngettext("%(count)d mandate revoked.", "%(count)d mandates revoked.", len(active))
            % {"count": len(active)},
            messages.SUCCESS,
        )
        return None
