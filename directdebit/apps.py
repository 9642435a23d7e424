from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectDebitConfig(AppConfig):
    name = "directdebit"
    verbose_name = _("Direct debit")

    def ready(self):
        from families import versions

        from .models import Debit

        versions.follow(Debit, family="mandate__family_id")
