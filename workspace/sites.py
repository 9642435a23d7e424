from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext_lazy as _

from . import dashboard, overview


class WorkspaceAdminSite(admin.AdminSite):
    """The administration as the secretariat's workspace: its index is the
    day's work, and a family has its own overview page."""

    site_header = _("Extranet – secretariat")
    site_title = _("Extranet")
    index_title = _("Today")
    index_template = "workspace/dashboard.html"

    def index(self, request, extra_context=None):
        context = {**dashboard.context(request), **(extra_context or {})}
        return super().index(request, context)

    def get_urls(self):
        # Before Django's own, whose "<app_label>/" pattern would catch them.
        return [
            path(
                "famille/<int:family_id>/",
                self.admin_view(overview.family_overview),
                name="family_overview",
            ),
        ] + super().get_urls()
