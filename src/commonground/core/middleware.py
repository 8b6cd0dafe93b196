"""Session lifetime and write throttling, for every request."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from .clientip import client_address, rate_limit_key

SESSION_STARTED_KEY = "commonground_session_started"


class SessionLifetimeMiddleware:
    """Idle sessions expire after SESSION_COOKIE_AGE (30 min, refreshed on each
    request by SESSION_SAVE_EVERY_REQUEST); this adds the 12-hour absolute cap."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        started = session.get(SESSION_STARTED_KEY)
        now = int(time.time())
        if started is None:
            if session.get("_auth_user_id"):
                session[SESSION_STARTED_KEY] = now
        elif now - int(started) > settings.SESSION_ABSOLUTE_LIFETIME:
            session.flush()
        response = self.get_response(request)
        if session.get("_auth_user_id") and SESSION_STARTED_KEY not in session:
            session[SESSION_STARTED_KEY] = now
        return response


class WriteThrottleMiddleware:
    """At most WRITE_THROTTLE_PER_MINUTE writes (POST, PUT, PATCH, DELETE) a minute
    from one signed-in member, or from one client address when nobody is signed in;
    more answer 429 with Retry-After (Decidim's default is 100).

    A member's writes count against the member, never against the address: behind
    a proxy or a shared network one noisy client cannot use up a member's
    allowance to vote. The address is the one the trusted proxies report
    (``core.clientip``). The count is taken in ``process_view``, so the middleware
    sits after CsrfViewMiddleware and AuthenticationMiddleware: a request refused
    for its CSRF token never reaches it and is not counted (it did nothing), and
    ``request.user`` is known.

    The counter lives in the shared cache (Redis in production), so the limit holds
    across web processes. 0 turns the throttle off (load tests on loopback).
    """

    WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        limit = settings.WRITE_THROTTLE_PER_MINUTE
        if not limit or request.method not in self.WRITE_METHODS:
            return None
        now = int(time.time())
        key = f"write-throttle:{throttle_subject(request)}:{now // 60}"
        cache.add(key, 0, timeout=120)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=120)
            count = 1
        if count <= limit:
            return None
        from .views import too_many_requests

        response = too_many_requests(request)
        response["Retry-After"] = str(60 - now % 60)
        return response


def throttle_subject(request: HttpRequest) -> str:
    """Whose allowance a write uses: the signed-in member's, else the address's."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"member:{user.pk}"
    return f"address:{rate_limit_key(client_address(request))}"
