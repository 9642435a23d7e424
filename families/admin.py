from django.contrib import admin

from extranet.admin import SiteScopedAdmin

from .models import Family


@admin.register(Family)
class FamilyAdmin(SiteScopedAdmin):
    list_display = ["name", "site", "updated_at"]
    list_filter = ["site"]
    search_fields = ["name"]
    list_select_related = ["site"]
