"""The pages core serves itself: the member dashboard (panels from every capability) and errors."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
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
