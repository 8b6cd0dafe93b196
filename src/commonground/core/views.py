"""The pages core serves itself: the member dashboard (panels from every capability) and errors."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from .capabilities import dashboard_panels

logger = logging.getLogger("commonground.errors")


@login_required
@never_cache
def dashboard(request: HttpRequest) -> HttpResponse:
    panels = [
        {"panel": panel, "context": panel.context(request)}
        for panel in dashboard_panels()
    ]
    return render(request, "core/dashboard.html", {"panels": panels})


def styleguide(request: HttpRequest) -> HttpResponse:
    """The living style guide: every component with sample content (DEBUG only).

    ``?theme=dark`` (or ``light``) forces a theme instead of the system preference.
    """
    if not settings.DEBUG:
        raise Http404
    theme = request.GET.get("theme")
    return render(
        request,
        "core/styleguide.html",
        {"theme": theme if theme in {"light", "dark"} else ""},
    )


RETRY_AFTER_SECONDS = 60


def too_many_requests(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    """429 with Retry-After, for allauth's rate limits and our own throttles."""
    response = render(request, "429.html", status=429)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """A generic message with an error id that operators can find in the logs."""
    error_id = uuid.uuid4().hex[:12]
    logger.error("server error %s on %s %s", error_id, request.method, request.path)
    return render(request, "500.html", {"error_id": error_id}, status=500)


# --- Health checks for load balancers and container orchestrators --------------------

health_logger = logging.getLogger("commonground.health")


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers requests. Touches neither database nor Redis."""
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: 200 when the database and Redis (if configured) answer, else 503.

    The body names each check and ``ok``, ``unavailable`` or ``not configured``; the
    reason for a failure goes to the log only, never to the caller.
    """
    checks = {"database": _database_check(), "redis": _redis_check()}
    ready = "unavailable" not in checks.values()
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


def _database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure means "not ready", whatever its kind
        health_logger.warning(
            "readiness: database unavailable (%s)", type(error).__name__
        )
        return "unavailable"
    return "ok"


def _redis_check() -> str:
    uses_redis = "redis" in settings.CACHES["default"]["BACKEND"].lower()
    broker = str(settings.CELERY_BROKER_URL)
    if not uses_redis and not broker.startswith(("redis://", "rediss://")):
        return "not configured"
    try:
        if uses_redis:
            cache.set("commonground:readyz", "1", timeout=10)
            if cache.get("commonground:readyz") != "1":
                raise RuntimeError("the cache did not keep a value")
        if broker.startswith(("redis://", "rediss://")):
            import redis

            with redis.Redis.from_url(
                broker, socket_connect_timeout=2, socket_timeout=2
            ) as client:
                client.ping()
    except Exception as error:  # any failure means "not ready", whatever its kind
        health_logger.warning("readiness: redis unavailable (%s)", type(error).__name__)
        return "unavailable"
    return "ok"
