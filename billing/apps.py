from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self):
        from families import versions

        from . import checks  # noqa: F401 - registers the system checks
        from .models import Allocation, Instalment, InvoiceLine, Refund, Reminder, Reversal

        for model in (InvoiceLine, Instalment, Reminder):
            versions.follow(model, family="invoice__family_id")
        for model in (Allocation, Refund, Reversal):
            versions.follow(model, family="payment__family_id")
