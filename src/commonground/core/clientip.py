"""The address of the client behind the request, for rate limits.

Behind a reverse proxy REMOTE_ADDR is the proxy's address for every client, so a
limit keyed on it is one shared allowance: one noisy client uses it up for
everyone. Each proxy appends the address it received the connection from to
``X-Forwarded-For``; with ``COMMONGROUND_TRUSTED_PROXIES = n`` (the proxies in
front of the application that are ours) the client is the n-th address from the
right. Everything to its left was written by the client and can say anything, so
it is never read: a client cannot choose its own key by sending a forged header.

The write throttle (``core.middleware``) and allauth's limits (the account
adapter in ``core.accounts``) both ask :func:`client_address`, so they agree.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# A rate limit gives one allowance to an IPv6 /64: that is what one subscriber is
# given, and counting each of its 2**64 addresses apart would let one client
# rotate through as many allowances as it likes (allauth does the same).
IPV6_PREFIX = 64


def client_address(request: HttpRequest) -> str:
    """The client's IP address as the trusted proxies saw it.

    Without trusted proxies (``COMMONGROUND_TRUSTED_PROXIES`` 0, the default) it is
    ``REMOTE_ADDR``. With n > 0 it is the n-th entry from the right of
    ``X-Forwarded-For``; when the header has fewer entries or that entry is not an
    IP address (the request did not come through every proxy), ``REMOTE_ADDR``.
    """
    remote = _address(request.META.get("REMOTE_ADDR", "")) or "unknown"
    proxies = settings.COMMONGROUND_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",")] if forwarded else []
    if len(hops) < proxies:
        return remote
    return _address(hops[-proxies]) or remote


def rate_limit_key(address: str) -> str:
    """The part of ``address`` a per-address limit counts: IPv6 by its /64."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is 192.0.2.1
            return str(parsed.ipv4_mapped)
        network = ipaddress.IPv6Network(f"{parsed}/{IPV6_PREFIX}", strict=False)
        return str(network.network_address)
    return str(parsed)


def _address(text: str) -> str | None:
    """``text`` as a normalised IP address (port and IPv6 brackets removed)."""
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 192.0.2.1:443
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None
