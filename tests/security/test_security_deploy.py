"""T27: deployment and session hardening.

``check --deploy`` runs in a subprocess with the production settings module. The
header and cookie checks run in-process with the production settings' values
applied (everything except the database, cache, storage and mail back-ends, which
tests keep local).
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.test import Client, override_settings

from commonground.members.models import Role
from factories import PASSWORD, UserFactory, make_group, make_role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def site_in_use(db):
    """A site with an account: an empty one sends "/" to its first-run page."""
    UserFactory()


REPOSITORY = Path(__file__).resolve().parents[2]
LOCAL_ONLY = {
    "DATABASES", "CACHES", "STORAGES", "EMAIL_BACKEND", "LOGGING", "STATIC_ROOT",
    "STATICFILES_DIRS", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND",
    "CELERY_TASK_ALWAYS_EAGER", "PROJECT_DIR", "VAR_DIR", "BASE_DIR",
}  # fmt: skip
SIX_MONTHS = 15_724_800


def _production_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="commonground.site.settings_production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="members.example.org",
        COMMONGROUND_HOME=str(tmp_path),
    )
    return env


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPOSITORY,
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr.upper().replace("--FAIL-LEVEL WARNING", "")


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = _production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.fixture
def production(monkeypatch):
    """Apply the production settings' values (not its back-ends) for one test."""
    monkeypatch.setenv("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    module = importlib.import_module("commonground.site.settings_production")
    module = importlib.reload(module)
    values = {
        name: getattr(module, name)
        for name in dir(module)
        if name.isupper() and name not in LOCAL_ONLY
    }
    with override_settings(**values):
        yield values


def _https_client(**kwargs) -> Client:
    """A client behind the TLS-terminating proxy (SECURE_PROXY_SSL_HEADER)."""
    return Client(secure=True, headers={"X-Forwarded-Proto": "https"}, **kwargs)


PAGES = ["/", "/groups/", "/accounts/login/", "/accounts/signup/", "/no-such-page/"]


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_on_every_response(production, path):
    response = _https_client().get(path)
    assert response.status_code in {200, 404}
    hsts = response["Strict-Transport-Security"]
    max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))
    assert max_age >= SIX_MONTHS
    assert "includeSubDomains" in hsts
    csp = response["Content-Security-Policy"]
    directives = {
        part.strip().split()[0]: part.strip().split()[1:]
        for part in csp.split(";")
        if part.strip()
    }
    script_sources = directives.get("script-src", directives.get("default-src"))
    assert script_sources, csp
    assert "'unsafe-inline'" not in script_sources
    assert "'unsafe-eval'" not in script_sources
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert (
        directives.get("frame-ancestors") == ["'none'"]
        or response.get("X-Frame-Options") == "DENY"
    )
    assert "X-Powered-By" not in response
    assert "Server" not in response


def test_plain_http_is_redirected_to_https(production):
    response = Client().get("/groups/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_cookies_are_host_prefixed_secure_httponly_lax(production):
    user = UserFactory()
    client = _https_client()
    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    session_cookie = response.cookies["__Host-sessionid"]
    csrf_cookie = client.cookies["__Host-csrftoken"]
    for cookie in (session_cookie, csrf_cookie):
        assert cookie["secure"]
        assert cookie["samesite"] == "Lax"
        assert cookie["path"] == "/"
        assert not cookie["domain"]  # __Host- cookies must not set a domain
    assert session_cookie["httponly"]
    assert "sessionid" not in client.cookies  # no unprefixed session cookie


def test_csrf_cookie_is_httponly(production):
    """Scripts never need the CSRF cookie: htmx sends the token rendered in the page."""
    client = _https_client()
    client.get("/accounts/login/")
    assert client.cookies["__Host-csrftoken"]["httponly"]


def _log_in(client: Client, user) -> None:
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content.decode()[:500]


def test_login_rotates_the_session_key():
    from django.conf import settings
    from django.contrib.sessions.models import Session

    user = UserFactory()
    client = Client()
    session = client.session
    session["before_login"] = True
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    before = session.session_key
    _log_in(client, user)
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()


def test_logout_then_replaying_the_old_cookie_is_anonymous():
    from django.conf import settings

    user = UserFactory()
    client = Client()
    _log_in(client, user)
    old_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get("/dashboard/").status_code == 200
    client.post("/accounts/logout/")
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
    response = replay.get("/dashboard/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_idle_session_expires_after_thirty_minutes():
    user = UserFactory()
    with time_machine.travel("2026-04-01 09:00:00Z", tick=False) as clock:
        client = Client()
        _log_in(client, user)
        clock.shift(29 * 60)
        assert client.get("/dashboard/").status_code == 200
        clock.shift(29 * 60)  # activity refreshed the idle timer
        assert client.get("/dashboard/").status_code == 200
        clock.shift(31 * 60)
        response = client.get("/dashboard/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_session_ends_after_twelve_hours_even_when_active():
    user = UserFactory()
    with time_machine.travel("2026-04-01 06:00:00Z", tick=False) as clock:
        client = Client()
        _log_in(client, user)
        elapsed = 0
        while elapsed + 25 * 60 <= 12 * 60 * 60:
            clock.shift(25 * 60)
            elapsed += 25 * 60
            assert client.get("/dashboard/").status_code == 200, elapsed
        clock.shift(12 * 60 * 60 - elapsed + 60)
        response = client.get("/dashboard/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("kind", ["staff", "group_admin"])
def test_admins_without_a_second_factor_are_sent_to_totp_set_up(kind):
    if kind == "staff":
        user = UserFactory(is_staff=True, is_superuser=True)
    else:
        user = make_role(make_group(name="National"), Role.ADMIN)
    client = Client()
    _log_in(client, user)
    for path in ["/admin/", "/dashboard/", "/groups/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/accounts/2fa/totp/activate/", path
    assert client.get("/accounts/2fa/totp/activate/").status_code in {200, 302}


def test_server_error_shows_generic_message_with_error_id(monkeypatch, caplog):
    from commonground.site import views

    def explode():
        raise RuntimeError("secret internals: DATABASE_PASSWORD=hunter2")

    monkeypatch.setattr(views, "organisations_with_groups", explode)
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR, logger="commonground.errors"):
        response = client.get("/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    error_id = re.search(r"<code>([0-9a-f]{12})</code>", page).group(1)
    assert "hunter2" not in page
    assert "Traceback" not in page
    assert "RuntimeError" not in page
    assert any(error_id in record.getMessage() for record in caplog.records)
