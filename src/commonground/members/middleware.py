"""Admins must set up a second factor (TOTP) before they can do anything else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from .models import Role, RoleAssignment


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
