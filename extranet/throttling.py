"""Rate limits on login failures and password-reset requests.

Counts live in the shared cache (django-ratelimit), so that they hold across
server processes. Each action is limited per (scope, identifiant), the scope being
the site (or the whole network for network accounts), and per client address; the address limit is looser because a school or a family
may share one address.
"""

import ipaddress
import math

from django.conf import settings
from django_ratelimit.core import get_usage

LIMITS = {
    "login": ("LOGIN_FAILURES_PER_ACCOUNT", "LOGIN_FAILURES_PER_ADDRESS"),
    "reset": ("PASSWORD_RESET_REQUESTS_PER_ACCOUNT", "PASSWORD_RESET_REQUESTS_PER_ADDRESS"),
    # Letter codes: guesses are counted per address only (a shared counter
    # would let one guesser lock every family out).
    "code": (None, "PASSWORD_RESET_REQUESTS_PER_ADDRESS"),
}


def client_address(request):
    """The client's address; behind a proxy, the entry that proxy added (the
    last one), which the client cannot forge."""
    address = request.META.get("REMOTE_ADDR", "")
    if settings.CLIENT_IP_HEADER:
        forwarded = request.META.get(settings.CLIENT_IP_HEADER, "").split(",")[-1].strip()
        address = forwarded or address
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return "0.0.0.0"


def _usages(action, request, scope, identifier, increment):
    per_account, per_address = LIMITS[action]
    if per_account:
        account_key = f"{scope}:{identifier.strip().casefold()}"
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


def wait_seconds(action, request, scope, identifier):
    """Seconds before the next attempt is allowed; 0 when it is allowed now."""
    waits = [
        usage["time_left"]
        for usage in _usages(action, request, scope, identifier, increment=False)
        if usage and usage["count"] >= usage["limit"]
    ]
    return max(waits, default=0)


def record(action, request, scope, identifier):
    for _usage in _usages(action, request, scope, identifier, increment=True):
        pass


def minutes(seconds):
    return max(1, math.ceil(seconds / 60))
