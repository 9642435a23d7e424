from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeesConfig(AppConfig):
    name = "fees"
    verbose_name = _("Fees")

    def ready(self):
        from families import versions

        from .models import Band, Commune, FeeItem, Price, Reduction, Term, Zone

        for model in (Band, FeeItem, Reduction, Term, Zone):
            versions.follow(model, site="grid__site_id")
        versions.follow(Commune, site="zone__grid__site_id")
        versions.follow(Price, site="item__grid__site_id")
