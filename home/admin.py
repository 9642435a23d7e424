from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from extranet.admin_scoping import SiteScopedAdmin

from .models import News


@admin.register(News)
class NewsAdmin(SiteScopedAdmin):
    """The secretariat's announcements on its site's home page."""

    list_display = ["title", "publish_from", "publish_until", "shown_now", "site"]
    list_filter = ["publish_from", ("site", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "body"]
    fields = ["site", "title", "body", "publish_from", "publish_until", "created_at", "updated_at"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(boolean=True, description=_("shown now"))
    def shown_now(self, obj):
        return obj.is_shown()
