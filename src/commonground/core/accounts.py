"""Where the platform adjusts allauth: its adapter (client address, failed-login
limits) and the login view (429 for a blocked attempt)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.views import LoginView
from allauth.core.internal import ratelimit
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse

from .clientip import client_address
from .views import too_many_requests

ACCOUNT_APP = "allauth.account"
# settings.ACCOUNT_RATE_LIMITS: failures per client ("10/m/ip" and per account and
# client address) and per account from every address.
PER_CLIENT = "login_failed"
PER_ACCOUNT = "login_failed_account"


class AccountAdapter(DefaultAccountAdapter):
    """allauth's adapter with the platform's client address and login limits.

    allauth (65.x) counts failed logins per address and per account. Per account
    alone, anyone can lock a member out by typing five wrong passwords for their
    address. Here failures are counted three ways before the password is checked
    (a failure is kept, a success rolls its count back, as allauth does):

    - per client address (``login_failed``'s ``/ip`` rate);
    - per account *and* client address (``login_failed``'s ``/key`` rate, keyed on
      both), so one client's guesses stop at the account's limit whatever others do;
    - per account from every address (``login_failed_account``), which stops a
      guesser spreading over many addresses. When that limit is reached and the
      account has a second factor, the attempt still goes ahead: a correct password
      only leads to the second-factor step (allauth limits its failures per
      member), so the owner is never locked out by others' failures while the
      guesser still needs the factor. Without a second factor the password is
      all there is, and the account-wide lock stays.
    """

    def get_client_ip(self, request: HttpRequest) -> str:
        return client_address(request)

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        account = self._get_login_attempts_cache_key(request, **credentials)
        per_client = ratelimit.consume(
            request,
            app=ACCOUNT_APP,
            action=PER_CLIENT,
            key=f"{account}|{client_address(request)}",
        )
        if per_client is None:
            raise self.validation_error("too_many_login_attempts")
        per_account = ratelimit.consume(
            request, app=ACCOUNT_APP, action=PER_ACCOUNT, key=account
        )
        if per_account is None and not _has_second_factor(credentials):
            raise self.validation_error("too_many_login_attempts")
        usages = per_client.usage + (per_account.usage if per_account else [])
        self._login_failed_rl_usage = ratelimit.RateLimitUsage(usage=usages)

    def _delete_login_attempts_cached_email(
        self, request: HttpRequest, **credentials: Any
    ) -> None:
        # After a successful password reset: the account starts afresh.
        account = self._get_login_attempts_cache_key(request, **credentials)
        ratelimit.clear(
            request,
            app=ACCOUNT_APP,
            action=PER_CLIENT,
            key=f"{account}|{client_address(request)}",
        )
        ratelimit.clear(request, app=ACCOUNT_APP, action=PER_ACCOUNT, key=account)


def _has_second_factor(credentials: dict[str, Any]) -> bool:
    from allauth.mfa.utils import is_mfa_enabled

    email = credentials.get("email")
    if not email:
        return False
    user = get_user_model().objects.filter(email__iexact=email).first()
    return user is not None and is_mfa_enabled(user)


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
