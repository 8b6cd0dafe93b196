"""Accounts through allauth: sign-up with email verification, passwords, sessions."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail

from commonground.members.models import User

pytestmark = pytest.mark.django_db


def test_signup_needs_a_verified_email_before_login(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new.member@example.org",
            "display_name": "Nadia New",
            "password1": "a sufficiently long pass",
            "password2": "a sufficiently long pass",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.member@example.org")
    assert user.display_name == "Nadia New"
    assert client.get("/dashboard/").status_code == 302  # not logged in yet
    (message,) = mail.outbox
    link = re.search(
        r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body
    ).group(1)
    client.post(link)
    assert client.get("/dashboard/").status_code == 200


def test_passwords_under_twelve_characters_are_refused_with_a_field_error(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "short@example.org",
            "display_name": "S",
            "password1": "elevenchars",
            "password2": "elevenchars",
        },
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    assert not User.objects.filter(email="short@example.org").exists()


def test_overlong_passwords_are_refused(client):
    long = "x" * 129
    response = client.post(
        "/accounts/signup/",
        {
            "email": "long@example.org",
            "display_name": "L",
            "password1": long,
            "password2": long,
        },
    )
    assert "too long" in response.content.decode()


def test_password_reset_sends_a_mail(client):
    from factories import UserFactory

    person = UserFactory()
    client.post("/accounts/password/reset/", {"email": person.email})
    assert len(mail.outbox) == 1
    assert "password" in mail.outbox[0].subject.lower()


def test_sessions_expire_after_thirty_idle_minutes_and_refresh_on_use():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.ACCOUNT_RATE_LIMITS["login_failed"] == "10/m/ip,5/300s/key"
