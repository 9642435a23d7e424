from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def simulated_bank_off_in_production(app_configs, **kwargs):
    """The simulated bank takes any notification as a payment."""
    errors = []
    if settings.PAYMENT_SIMULATOR and not settings.DEBUG:
        errors.append(
            Error(
                "PAYMENT_SIMULATOR is on while DEBUG is off: anybody could record "
                "a payment through the simulated bank.",
                id="billing.E001",
            )
        )
    if settings.PAYMENT_ALLOW_TEST and not settings.DEBUG:
        errors.append(
            Warning(
                "PAYMENT_ALLOW_TEST is on while DEBUG is off: the banks' test "
                "payments are recorded as real ones.",
                id="billing.W002",
            )
        )
    return errors
