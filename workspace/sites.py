from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext_lazy as _

from extranet.admin_scoping import staff_site_id, staff_sites

from . import dashboard, overview, switching


class WorkspaceAdminSite(admin.AdminSite):
    """The administration as the secretariat's workspace: its index is the
    day's work, and a family has its own overview page."""

    site_header = _("Extranet – secretariat")
    site_title = _("Extranet")
    index_title = _("Today")
    index_template = "workspace/dashboard.html"
    # The lists' own columns need the width of a 1280 px screen; every list is
    # one click away on « Aujourd'hui » and in the breadcrumbs.
    enable_nav_sidebar = False

    def index(self, request, extra_context=None):
        context = {**dashboard.context(request), **(extra_context or {})}
        return super().index(request, context)

    def each_context(self, request):
        context = super().each_context(request)
        if request.user.is_authenticated:
            # The header's site switcher, for staff working for several sites.
            context["staff_sites"] = staff_sites(request.user)
            context["staff_site_id"] = staff_site_id(request)
        return context

    def get_urls(self):
        # Before Django's own, whose "<app_label>/" pattern would catch them.
        return [
            path(
                "famille/<int:family_id>/",
                self.admin_view(overview.family_overview),
                name="family_overview",
            ),
            path(
                "etablissement/",
                self.admin_view(switching.switch_site),
                name="switch_site",
            ),
        ] + super().get_urls()
