"""A lost database or Redis connection is a 'please try again' page, never a 500.

When PostgreSQL drops the connection in the middle of a request (a restart, a
failover, PgBouncer recycling a server connection), the transaction is rolled back:
nothing the member submitted was half-saved. The member gets a 503 page that says so,
and asks them to try again (a re-vote replaces a ballot, so trying again is always
safe), with ``Retry-After``. For htmx requests the message replaces the page's main
content (htmx swaps only 2xx answers, so that one answers 200 with ``HX-Retarget``).

``DatabaseOutageMiddleware.process_exception`` catches the view's errors; errors in
other middleware (a session saved to a lost database) reach Django's 500 handler, so
``got_request_exception`` marks the request and the middleware, outermost but for
the request id, turns that 500 into the same page. The error is logged (and reported
to Sentry when configured) with the request id, so operators still see every one.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from .observability import current_request_id

logger = logging.getLogger("commonground.outages")

RETRY_AFTER_SECONDS = 5
_MARK = "commonground.service_unavailable"


def _transient_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OperationalError, InterfaceError]
    try:
        import redis

        errors += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:  # pragma: no cover - redis is a dependency
        pass
    return tuple(errors)


TRANSIENT_ERRORS = _transient_errors()


def try_again_response(request: HttpRequest) -> HttpResponse:
    """The page itself: standalone, no context processors, no query."""
    htmx = request.headers.get("HX-Request") == "true"
    body = render_to_string(
        "503.html",
        {
            "fragment": htmx,
            "request_id": current_request_id() or "",
            "was_write": request.method not in ("GET", "HEAD", "OPTIONS"),
        },
    )
    if htmx:
        response = HttpResponse(body, status=200)
        response["HX-Retarget"] = "#main"
        response["HX-Reswap"] = "innerHTML"
    else:
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _mark_if_transient(
    sender: Any, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    error = sys.exc_info()[1]
    if request is not None and isinstance(error, TRANSIENT_ERRORS):
        request.META[_MARK] = True


got_request_exception.connect(_mark_if_transient, dispatch_uid="commonground-outages")


class DatabaseOutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        except Exception as error:
            # The 500 page itself failed (its context needs the lost database).
            if request.META.get(_MARK) or isinstance(error, TRANSIENT_ERRORS):
                return try_again_response(request)
            raise
        if response.status_code == 500 and request.META.get(_MARK):
            return try_again_response(request)
        return response

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if not isinstance(exception, TRANSIENT_ERRORS):
            return None
        logger.error(
            "service unavailable during %s %s: %s",
            request.method,
            getattr(request.resolver_match, "route", "(no route)"),
            type(exception).__name__,
            exc_info=exception,
        )
        return try_again_response(request)
