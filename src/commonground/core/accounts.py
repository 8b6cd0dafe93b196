"""Account views that adjust allauth's behaviour."""

from __future__ import annotations

from typing import Any

from allauth.account.views import LoginView
from django.http import HttpResponse

from .views import too_many_requests


class RateLimitedLoginView(LoginView):
    """allauth's login, answering 429 + Retry-After when the login rate limit blocks.

    allauth reports a blocked attempt as a form error with status 200; clients and
    proxies (and ASVS 2.2.1) expect 429.
    """

    def form_invalid(self, form: Any) -> HttpResponse:
        blocked = any(
            error.code == "too_many_login_attempts"
            for errors in form.errors.as_data().values()
            for error in errors
        )
        if blocked:
            return too_many_requests(self.request)
        return super().form_invalid(form)
