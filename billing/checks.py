from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def simulated_bank_off_in_production(app_configs, **kwargs):
    """The simulated bank takes any notification as a payment."""
    if settings.PAYMENT_SIMULATOR and not settings.DEBUG:
        return [Error("PAYMENT_SIMULATOR is on while DEBUG is off: anybody could record a "
                      "payment through the simulated bank.", id="billing.E001")]
    return []
