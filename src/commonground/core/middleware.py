"""Session lifetime and write throttling, for every request."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

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
    """At most WRITE_THROTTLE_PER_MINUTE writes (POST, PUT, PATCH, DELETE) per minute
    from one address; more answer 429 with Retry-After (Decidim's default is 100).

    The counter lives in the shared cache (Redis in production), so the limit holds
    across web processes. 0 turns the throttle off (load tests on loopback).
    """

    WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.WRITE_THROTTLE_PER_MINUTE
        if limit and request.method in self.WRITE_METHODS:
            window = int(time.time()) // 60
            key = f"write-throttle:{request.META.get('REMOTE_ADDR', '')}:{window}"
            cache.add(key, 0, timeout=120)
            try:
                count = cache.incr(key)
            except ValueError:  # evicted between add and incr
                cache.set(key, 1, timeout=120)
                count = 1
            if count > limit:
                from .views import too_many_requests

                response = too_many_requests(request)
                response["Retry-After"] = str(60 - int(time.time()) % 60)
                return response
        return self.get_response(request)
