"""Admins must set up a second factor (TOTP) before they can do anything else; every
page renders its dates in the reader's time zone."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from .models import Role, RoleAssignment, known_time_zones

# Set by static/js/timezone.js from Intl.DateTimeFormat().resolvedOptions().timeZone.
TIME_ZONE_COOKIE = "tz"


class AdminRequiresMFAMiddleware:
    """Admins of an organisation (and staff) must set up TOTP before anything else.

    Until they have a second factor, every page except account and MFA pages
    redirects to the TOTP set-up page.
    """

    ALLOWED_PREFIXES = ("/accounts/", "/static/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(self.ALLOWED_PREFIXES)
            and _needs_second_factor(user)
        ):
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)


SECOND_FACTOR_OK_SECONDS = 300


def second_factor_cache_key(user_id: int) -> str:
    return f"second-factor-ok:{user_id}"


def forget_second_factor_check(user_id: int) -> None:
    """Call when a member's roles change, so an admin grant is enforced at once."""
    cache.delete(second_factor_cache_key(user_id))


def _needs_second_factor(user: Any) -> bool:
    """Whether this admin still has to set up TOTP.

    A "no" (not an admin, or TOTP present) is cached briefly so ordinary requests
    cost no query; role changes clear it. A "yes" is never cached, so finishing the
    TOTP set-up takes effect on the next request.
    """
    from allauth.mfa.models import Authenticator

    key = second_factor_cache_key(user.pk)
    if cache.get(key):
        return False
    is_admin = (
        getattr(user, "is_staff", False)
        or RoleAssignment.objects.filter(user=user, role=Role.ADMIN).exists()
    )
    needed = (
        is_admin
        and not Authenticator.objects.filter(
            user=user, type=Authenticator.Type.TOTP
        ).exists()
    )
    if not needed:
        cache.set(key, True, SECOND_FACTOR_OK_SECONDS)
    return needed


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def time_zone_name_for(request: HttpRequest) -> str:
    """The zone to show dates in: the member's choice, else the browser's guess ("tz"
    cookie), else "" (settings.TIME_ZONE). Names outside the tz database are ignored."""
    user = getattr(request, "user", None)
    chosen = getattr(user, "time_zone", "") if user is not None else ""
    if chosen in known_time_zones() and user is not None and user.is_authenticated:
        return str(chosen)
    guessed = request.COOKIES.get(TIME_ZONE_COOKIE, "")
    if guessed and guessed in known_time_zones():
        return guessed
    return ""


class TimeZoneMiddleware:
    """Activate the reader's time zone for the request (after AuthenticationMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = time_zone_name_for(request)
        if name:
            timezone.activate(_zone(name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
