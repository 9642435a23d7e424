"""Rate limits on login failures and password-reset requests.

Counts live in the shared cache (django-ratelimit), so that they hold across
server processes. Each action is limited per (site, identifiant) and per
client address; the address limit is looser because a school or a family
may share one address.
"""

import math

from django.conf import settings
from django_ratelimit.core import get_usage

LIMITS = {
    "login": ("LOGIN_FAILURES_PER_ACCOUNT", "LOGIN_FAILURES_PER_ADDRESS"),
    "reset": ("PASSWORD_RESET_REQUESTS_PER_ACCOUNT", "PASSWORD_RESET_REQUESTS_PER_ADDRESS"),
}


def _usages(action, request, site_id, identifier, increment):
    per_account, per_address = LIMITS[action]
    account_key = f"{site_id}:{identifier.strip().casefold()}"
    yield get_usage(
        request,
        group=f"{action}-account",
        key=lambda group, request: account_key,
        rate=getattr(settings, per_account),
        increment=increment,
    )
    yield get_usage(
        request,
        group=f"{action}-address",
        key="ip",
        rate=getattr(settings, per_address),
        increment=increment,
    )


def wait_seconds(action, request, site_id, identifier):
    """Seconds before the next attempt is allowed; 0 when it is allowed now."""
    waits = [
        usage["time_left"]
        for usage in _usages(action, request, site_id, identifier, increment=False)
        if usage and usage["count"] >= usage["limit"]
    ]
    return max(waits, default=0)


def record(action, request, site_id, identifier):
    for _usage in _usages(action, request, site_id, identifier, increment=True):
        pass


def minutes(seconds):
    return max(1, math.ceil(seconds / 60))
