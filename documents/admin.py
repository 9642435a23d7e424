from django.contrib import admin

from extranet.admin_scoping import SiteScopedAdmin

from .models import DocumentKind


@admin.register(DocumentKind)
class DocumentKindAdmin(SiteScopedAdmin):
    list_display = [
        "name",
        "site",
        "scope",
        "required",
        "proves_address",
        "proves_income",
        "validity",
        "is_active",
    ]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter), "scope", "is_active"]
    list_editable = ["required", "is_active"]
    search_fields = ["name"]
