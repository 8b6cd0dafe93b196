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
