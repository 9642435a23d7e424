from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    """The secretariat's workspace in the administration: the day's work,
    a family at a glance, the staff's roles and sites."""

    default = True
    name = "workspace"
    verbose_name = _("Secretariat workspace")


class WorkspaceAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the workspace's site as the default one."""

    default = False

    default_site = "workspace.sites.WorkspaceAdminSite"
