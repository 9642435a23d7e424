"""Forwarded headers believed only from the proxies in TRUSTED_PROXIES.

A reverse proxy (nginx) tells the application the client's address
(CLIENT_IP_HEADER) and whether the client used HTTPS (X-Forwarded-Proto, read
through SECURE_PROXY_SSL_HEADER). Anyone reaching an application node directly
could send the same headers: to choose the address the login throttle counts,
or to pass for HTTPS. These headers are removed from every request whose
REMOTE_ADDR is not a trusted proxy, before anything reads them.
"""

import functools
import ipaddress

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Headers a proxy sets, whatever the settings read today.
FORWARDED_HEADERS = (
    "HTTP_FORWARDED",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_REAL_IP",
)


@functools.lru_cache(maxsize=8)
def _networks(proxies):
    try:
        return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)
    except ValueError as error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error}") from None


def from_trusted_proxy(request):
    """Whether the request comes straight from a proxy of TRUSTED_PROXIES."""
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def _header_names():
    names = set(FORWARDED_HEADERS)
    if settings.CLIENT_IP_HEADER:
        names.add(settings.CLIENT_IP_HEADER)
    if settings.SECURE_PROXY_SSL_HEADER:
        names.add(settings.SECURE_PROXY_SSL_HEADER[0])
    return names


class TrustedProxyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not from_trusted_proxy(request):
            for name in _header_names():
                request.META.pop(name, None)
        return self.get_response(request)
