"""Rate limits on login failures and password-reset requests.

Counts live in the shared cache (django-ratelimit), so that they hold across
server processes. A client address is limited over everything it tries; that
limit is loose because a school or a family may share one address.

Login failures lock an account for the address they come from only: nobody can
lock a parent out of their own connection from elsewhere. Against guessing
spread over many addresses, failures on an account from everywhere slow it down
instead of locking it: beyond LOGIN_FAILURES_PER_ACCOUNT in the window, each
failure makes the account wait twice as long as the one before (1 s, 2 s, 4 s…,
at most SLOWDOWN_MAX_SECONDS). Addresses the account signed in from lately are
not slowed down, and the reset link by e-mail always gets through.

Counters are keyed by the identifiant typed, whether an account has it or not:
an unknown identifiant gets the same answers.
"""

import hashlib
import ipaddress
import math
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django_ratelimit.core import get_usage

from .proxies import from_trusted_proxy

# What each action is counted by, and the setting holding its limit.
LIMITS = {
    "login": [
        ("account+address", "LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS"),
        ("address", "LOGIN_FAILURES_PER_ADDRESS"),
    ],
    "reset": [
        ("account", "PASSWORD_RESET_REQUESTS_PER_ACCOUNT"),
        ("address", "PASSWORD_RESET_REQUESTS_PER_ADDRESS"),
    ],
    # Letter codes: guesses are counted per address only (a shared counter
    # would let one guesser lock every family out).
    "code": [("address", "PASSWORD_RESET_REQUESTS_PER_ADDRESS")],
}

# The longest wait a slowed-down account imposes: long enough to make guessing
# from many addresses pointless, short enough for a parent to wait it out.
SLOWDOWN_MAX_SECONDS = 15 * 60
# How long a successful sign-in exempts its address from the slowdown.
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600


def client_address(request):
    """The client's address; behind a trusted proxy, the entry that proxy
    added (the last one), which the client cannot forge."""
    address = request.META.get("REMOTE_ADDR", "")
    if settings.CLIENT_IP_HEADER and from_trusted_proxy(request):
        forwarded = request.META.get(settings.CLIENT_IP_HEADER, "").split(",")[-1].strip()
        address = forwarded or address
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return "0.0.0.0"


def _account(scope, identifier):
    return f"{scope}:{identifier.strip().casefold()}"


def _key(kind, request, scope, identifier):
    if kind == "address":
        return client_address(request)
    if kind == "account":
        return _account(scope, identifier)
    return f"{_account(scope, identifier)}@{client_address(request)}"


def _cache_key(prefix, value):
    # Identifiants are typed by anyone: hashed, any text makes a valid key.
    return f"throttle:{prefix}:{hashlib.sha256(value.encode()).hexdigest()}"


def _usage(request, group, value, rate, increment):
    return get_usage(
        request, group=group, key=lambda group, request: value, rate=rate, increment=increment
    )


def _usages(action, request, scope, identifier, increment):
    for kind, setting in LIMITS[action]:
        yield _usage(
            request,
            f"{action}-{kind}",
            _key(kind, request, scope, identifier),
            getattr(settings, setting),
            increment,
        )


def _known_address_key(request, scope, identifier):
    return _cache_key("known", _key("account+address", request, scope, identifier))


def _slowdown_left(request, scope, identifier):
    if cache.get(_known_address_key(request, scope, identifier)):
        return 0
    until = cache.get(_cache_key("slow", _account(scope, identifier)))
    return math.ceil(until - time.time()) if until and until > time.time() else 0


def _rate(setting):
    """A rate setting such as "20/d" or "5/15m": (count, seconds)."""
    value = getattr(settings, setting)
    match = re.fullmatch(r"(\d+)/(\d*)([smhd])", value)
    if not match:
        raise ImproperlyConfigured(f"{setting} must look like 20/d or 5/15m, not {value!r}.")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def _count_account_failure(account):
    """Failures on the account from every address, in a window opened by the
    first one (so that nobody can time their guesses to its end)."""
    limit, period = _rate("LOGIN_FAILURES_PER_ACCOUNT")
    now = time.time()
    window_end = cache.get_or_set(_cache_key("window", account), now + period, period)
    counter = _cache_key("failures", f"{account}@{window_end}")
    left = max(1, math.ceil(window_end - now))
    cache.add(counter, 0, left)
    try:
        count = cache.incr(counter)
    except ValueError:  # The window closed meanwhile.
        return 1, limit
    # The database cache's incr() resets the expiry to its default (5 minutes).
    cache.touch(counter, left)
    return count, limit


def _slow_down(request, scope, identifier):
    """Count a login failure on the account from any address; beyond the limit,
    make it wait. True for the first failure beyond the limit in the window."""
    account = _account(scope, identifier)
    count, limit = _count_account_failure(account)
    beyond = count - limit
    if beyond <= 0:
        return False
    delay = min(2 ** (beyond - 1), SLOWDOWN_MAX_SECONDS)
    cache.set(_cache_key("slow", account), time.time() + delay, delay)
    return beyond == 1


def wait_seconds(action, request, scope, identifier):
    """Seconds before the next attempt is allowed; 0 when it is allowed now."""
    waits = [
        # At least 1: an unreachable cache reports no time left, and refuses.
        max(usage["time_left"], 1)
        for usage in _usages(action, request, scope, identifier, increment=False)
        if usage and usage["count"] >= usage["limit"]
    ]
    if action == "login":
        waits.append(_slowdown_left(request, scope, identifier))
    return max(waits, default=0)


def record(action, request, scope, identifier):
    """Count one attempt (for logins, one failure). True when the account's
    holder should be told: its failures from everywhere just went beyond the
    limit, which happens once per window."""
    for _counted in _usages(action, request, scope, identifier, increment=True):
        pass
    return action == "login" and _slow_down(request, scope, identifier)


def signed_in(request, scope, identifier):
    """Remember the address of a successful sign-in: failures elsewhere will
    not slow the account down there."""
    cache.set(_known_address_key(request, scope, identifier), True, KNOWN_ADDRESS_SECONDS)


def minutes(seconds):
    return max(1, math.ceil(seconds / 60))
