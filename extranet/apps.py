from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExtranetConfig(AppConfig):
    name = "extranet"
    verbose_name = _("Portal")

    def ready(self):
        # Connects the signals that tell which task is running.
        from . import task_backend  # noqa: F401
