"""T26: rate limits hold across server processes (a shared Redis cache, not LocMem).

Two gunicorn processes serve the same PostgreSQL test database and the same Redis;
requests alternate between them (as a load balancer in front of several web
processes would send them, with the site's one host name), so a limit only holds if
its counter is shared.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener

import pytest

from factories import UserFactory

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

REPOSITORY = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("COMMONGROUND_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SITE_HOST = "members.example.org"  # the public host name behind the load balancer


def _redis():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        message = f"Redis is not reachable at {REDIS_URL}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: this scenario must run)")
        pytest.skip(message)
    return client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def _wait_until_up(base: str, process: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}")
        try:
            build_opener().open(base + "/accounts/login/", timeout=2).read()
            return
        except (URLError, ConnectionError, OSError):
            time.sleep(0.2)
    raise AssertionError(f"gunicorn at {base} did not start in time")


@pytest.fixture(scope="module")
def servers(django_db_setup, django_db_blocker, tmp_path_factory):
    """Two gunicorn processes on the test database, started once for this module."""
    redis_client = _redis()
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="commonground.site.settings",
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS=f"{SITE_HOST},127.0.0.1",
        DATABASE_URL=_database_url(),
        REDIS_URL=REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="true",
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        COMMONGROUND_HOME=str(tmp_path),
    )
    servers = []
    try:
        for _ in range(2):
            port = _free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "commonground.site.wsgi:application",
                 "--workers", "1", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
                 "--graceful-timeout", "2"],
                cwd=REPOSITORY, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            servers.append((f"http://127.0.0.1:{port}", process))
        deadline = time.monotonic() + 60
        for base, process in servers:
            _wait_until_up(base, process, deadline)
        yield [base for base, _ in servers]
    finally:
        for _, process in servers:
            process.send_signal(signal.SIGINT)  # gunicorn: quick shutdown
        for _, process in servers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        redis_client.flushdb()


@pytest.fixture
def two_servers(servers):
    """The servers with empty rate-limit counters."""
    _redis().flushdb()
    return servers


def _post_form(base: str, path: str, fields: dict[str, str]) -> tuple[int, str]:
    """GET the form (for the CSRF cookie and token), then POST it; (status, body)."""
    opener = build_opener(HTTPCookieProcessor(CookieJar()))
    form = Request(base + path, headers={"Host": SITE_HOST})
    page = opener.open(form, timeout=20).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    request = Request(
        base + path,
        data=urlencode({"csrfmiddlewaretoken": token, **fields}).encode(),
        headers={"Host": SITE_HOST, "Referer": f"http://{SITE_HOST}{path}"},
    )
    try:
        with opener.open(request, timeout=20) as response:
            return response.status, response.read().decode()
    except HTTPError as error:
        return error.code, error.read().decode()


def test_password_reset_limit_is_shared_between_server_processes(two_servers):
    user = UserFactory()
    statuses = [
        _post_form(
            two_servers[n % 2], "/accounts/password/reset/", {"email": user.email}
        )[0]
        for n in range(6)
    ]
    assert statuses[:5] == [200] * 5  # followed the redirect to the "sent" page
    assert statuses[5] == 429


def test_failed_login_limit_is_shared_between_server_processes(two_servers):
    user = UserFactory()
    results = [
        _post_form(
            two_servers[n % 2],
            "/accounts/login/",
            {"login": user.email, "password": "not-the-password-1"},
        )
        for n in range(6)
    ]

    def blocked(result: tuple[int, str]) -> bool:
        status, body = result
        return status == 429 or "Too many failed login attempts" in body

    assert not any(blocked(result) for result in results[:5])
    assert blocked(results[5])
