"""T26: rate limits on logging in, signing up and password resets (allauth).

The limits are set in settings.ACCOUNT_RATE_LIMITS and counted in the shared cache.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _failed_login(client, login):
    return client.post(
        "/accounts/login/", {"login": login, "password": "not-the-password-1"}
    )


def _is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_eleventh_failed_login_in_a_minute_from_one_ip_is_blocked():
    client = Client(REMOTE_ADDR="198.51.100.7")
    for attempt in range(10):
        response = _failed_login(client, f"someone{attempt}@example.org")
        assert response.status_code != 429, attempt
    # The 11th attempt is refused, even with a correct password.
    user = UserFactory()
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert not _is_logged_in(client)
    # Another address is not affected.
    other = Client(REMOTE_ADDR="198.51.100.8")
    other.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert _is_logged_in(other)


def test_sixth_failed_login_for_one_account_from_rotating_ips_is_blocked():
    user = UserFactory()
    for attempt in range(5):
        response = _failed_login(
            Client(REMOTE_ADDR=f"203.0.113.{attempt + 1}"), user.email
        )
        assert response.status_code != 429, attempt
    client = Client(REMOTE_ADDR="203.0.113.99")
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert not _is_logged_in(client)


def test_account_lockout_ends_after_five_minutes():
    import time_machine

    user = UserFactory()
    with time_machine.travel("2026-03-01 10:00:00Z", tick=False) as clock:
        for attempt in range(5):
            _failed_login(Client(REMOTE_ADDR=f"203.0.113.{attempt + 1}"), user.email)
        clock.shift(301)
        client = Client(REMOTE_ADDR="203.0.113.50")
        client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
        assert _is_logged_in(client)


def test_blocked_login_answers_429_with_retry_after():
    client = Client(REMOTE_ADDR="198.51.100.9")
    for attempt in range(10):
        _failed_login(client, f"someone{attempt}@example.org")
    response = _failed_login(client, "someone-else@example.org")
    assert response.status_code == 429
    assert "Retry-After" in response


def _signup(client, n):
    return client.post(
        "/accounts/signup/",
        {
            "email": f"newcomer{n}@example.org",
            "display_name": f"Newcomer {n}",
            "password1": "a-long-signup-password-77",
            "password2": "a-long-signup-password-77",
        },
    )


def test_twenty_first_signup_in_a_minute_from_one_ip_gets_429():
    from commonground.members.models import User

    client = Client(REMOTE_ADDR="192.0.2.10")
    for n in range(20):
        assert _signup(client, n).status_code == 302, n
        client.logout()
    response = _signup(client, 20)
    assert response.status_code == 429
    assert not User.objects.filter(email="newcomer20@example.org").exists()
    assert _signup(Client(REMOTE_ADDR="192.0.2.11"), 21).status_code == 302


def test_sixth_password_reset_in_a_minute_for_one_account_gets_429():
    from django.core import mail

    user = UserFactory()
    for n in range(5):
        client = Client(REMOTE_ADDR=f"192.0.2.{n + 20}")
        assert (
            client.post("/accounts/password/reset/", {"email": user.email}).status_code
            == 302
        )
    response = Client(REMOTE_ADDR="192.0.2.99").post(
        "/accounts/password/reset/", {"email": user.email}
    )
    assert response.status_code == 429
    assert len(mail.outbox) == 5


def test_rate_limited_page_is_the_friendly_429_page():
    user = UserFactory()
    for n in range(5):
        Client(REMOTE_ADDR=f"192.0.2.{n + 40}").post(
            "/accounts/password/reset/", {"email": user.email}
        )
    response = Client(REMOTE_ADDR="192.0.2.98").post(
        "/accounts/password/reset/", {"email": user.email}
    )
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


# --- behind a proxy, and someone else's failures (issue 17.7) ---------------------

PROXY = "10.0.0.1"  # the TLS-terminating proxy every request arrives from


def _behind_proxy(client_address: str) -> Client:
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_address)


def test_failed_logins_behind_the_proxy_lock_out_only_the_failing_client(settings):
    settings.COMMONGROUND_TRUSTED_PROXIES = 1
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    attacker = _behind_proxy("203.0.113.66")
    for attempt in range(10):
        assert (
            _failed_login(attacker, f"nobody{attempt}@example.org").status_code != 429
        )
    assert _failed_login(attacker, "nobody-else@example.org").status_code == 429
    user = UserFactory()
    member = _behind_proxy("198.51.100.23")
    member.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert _is_logged_in(member)


def test_a_forged_forwarded_for_does_not_give_a_fresh_allowance(settings):
    settings.COMMONGROUND_TRUSTED_PROXIES = 1
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    statuses = [
        Client(
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}, 203.0.113.66",
        )
        .post(
            "/accounts/login/",
            {"login": f"nobody{attempt}@example.org", "password": "wrong-password-1"},
        )
        .status_code
        for attempt in range(11)
    ]
    assert 429 not in statuses[:10] and statuses[10] == 429


def _with_second_factor():
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = UserFactory()
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return user, secret


def _current_code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


def test_others_failures_do_not_lock_out_a_member_with_a_second_factor():
    """Five wrong passwords from five addresses lock a password-only account (see
    above); an account with a second factor still lets its owner in with the
    password and the code."""
    user, secret = _with_second_factor()
    for attempt in range(8):
        _failed_login(Client(REMOTE_ADDR=f"203.0.113.{attempt + 1}"), user.email)
    owner = Client(REMOTE_ADDR="198.51.100.40")
    response = owner.post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert not _is_logged_in(owner)
    owner.post("/accounts/2fa/authenticate/", {"code": _current_code(secret)})
    assert _is_logged_in(owner)


def test_the_guessing_client_itself_stays_locked_out_of_that_account():
    user, _secret = _with_second_factor()
    guesser = Client(REMOTE_ADDR="203.0.113.200")
    for attempt in range(5):
        assert _failed_login(guesser, user.email).status_code != 429, attempt
    response = guesser.post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD}
    )
    assert response.status_code == 429


def test_a_wrong_password_against_a_locked_account_with_a_second_factor_fails():
    user, _secret = _with_second_factor()
    for attempt in range(5):
        _failed_login(Client(REMOTE_ADDR=f"203.0.113.{attempt + 1}"), user.email)
    late = Client(REMOTE_ADDR="203.0.113.120")
    response = _failed_login(late, user.email)
    assert response.status_code == 200  # the usual "wrong password" form error
    assert not _is_logged_in(late)
