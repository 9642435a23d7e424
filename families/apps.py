from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FamiliesConfig(AppConfig):
    name = "families"
    verbose_name = _("Families")

    def ready(self):
        from extranet.models import InvitationCode, SentEmail, Site, WorkerHeartbeat

        from . import versions
        from .models import Family

        versions.follow(Family, family="pk")
        versions.follow(Site, site="pk")
        # Letters' codes are for signing in the first time: no page shows them.
        versions.ignore(InvitationCode)
        # The task workers' own bookkeeping: no page shows it.
        versions.ignore(WorkerHeartbeat)
        versions.ignore(SentEmail)
        versions.install()
