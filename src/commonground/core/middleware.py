"""Session lifetime and admin second-factor enforcement."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

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


def _needs_second_factor(user: Any) -> bool:
    from allauth.mfa.models import Authenticator

    from commonground.members.models import Role, RoleAssignment

    is_admin = (
        getattr(user, "is_staff", False)
        or RoleAssignment.objects.filter(user=user, role=Role.ADMIN).exists()
    )
    if not is_admin:
        return False
    return not Authenticator.objects.filter(
        user=user, type=Authenticator.Type.TOTP
    ).exists()
