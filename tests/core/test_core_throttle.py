"""The global write throttle (T26): 100 writes a minute per signed-in member, or per
client address for visitors, in the shared cache; CSRF-refused writes not counted."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_writes_over_the_limit_answer_429_with_retry_after(client, settings):
    settings.WRITE_THROTTLE_PER_MINUTE = 5
    for _ in range(5):
        assert (
            client.post("/accounts/login/", {"login": "a@example.org"}).status_code
            != 429
        )
    for _ in range(3):
        assert client.get("/groups/").status_code == 200  # reads are not counted
    response = client.post("/accounts/login/", {"login": "a@example.org"})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another address has its own allowance.
    assert client.post("/accounts/login/", REMOTE_ADDR="192.0.2.9").status_code != 429


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post_status(url: str, cookie: str, token: str) -> int:
    """POST with a valid CSRF cookie and token (a refused one would not count)."""
    request = urllib.request.Request(
        url,
        data=f"csrfmiddlewaretoken={token}".encode(),
        method="POST",
        headers={"Cookie": cookie},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _csrf(url: str) -> tuple[str, str]:
    """The CSRF cookie and form token of the login page at ``url``."""
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        cookie = response.headers["Set-Cookie"].split(";", 1)[0]
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    return cookie, token.group(1)


def test_the_limit_holds_across_two_gunicorn_workers_through_redis(tmp_path):
    """With a per-process cache each worker would allow 100; the shared one allows 100."""
    if not _redis_reachable():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Redis is required in CI")
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "commonground.site.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'throttle.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/12",
        "COMMONGROUND_HOME": str(tmp_path),
        "COMMONGROUND_WRITE_THROTTLE": "100",
        "DJANGO_DEBUG": "false",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=REPOSITORY,
        env=environment,
        check=True,
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "commonground.site.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=REPOSITORY,
        env=environment,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
        cookie, token = _csrf(f"http://127.0.0.1:{port}/accounts/login/")
        if time.time() % 60 > 50:  # keep all writes inside one minute window
            time.sleep(61 - time.time() % 60)
        # A POST to the home page does nothing: a cheap write the throttle counts.
        url = f"http://127.0.0.1:{port}/"
        statuses = [_post_status(url, cookie, token) for _ in range(101)]
    finally:
        server.terminate()
        server.wait(timeout=20)
        import redis

        connection = redis.Redis.from_url("redis://127.0.0.1:6379/12")
        connection.flushdb()
    assert 429 not in statuses[:100], statuses
    assert statuses[100] == 429


# --- behind a proxy, per member, CSRF ---------------------------------------------

PROXY = "10.0.0.1"  # the TLS-terminating proxy every request arrives from


def _junk_posts(client, times: int, **extra) -> list[int]:
    return [client.post("/", **extra).status_code for _ in range(times)]


@pytest.mark.django_db
def test_a_members_writes_count_against_the_member_not_the_shared_address(settings):
    from django.test import Client

    from factories import UserFactory

    settings.WRITE_THROTTLE_PER_MINUTE = 5
    attacker = Client(REMOTE_ADDR=PROXY)
    assert _junk_posts(attacker, 6)[-1] == 429
    member = Client(REMOTE_ADDR=PROXY)
    member.force_login(UserFactory())
    # The address's allowance is spent; the member's own is untouched.
    assert 429 not in _junk_posts(member, 5)
    assert _junk_posts(member, 1) == [429]  # and members are limited too


@pytest.mark.django_db
def test_writes_refused_for_their_csrf_token_are_not_counted(settings):
    from django.test import Client

    settings.WRITE_THROTTLE_PER_MINUTE = 5
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="192.0.2.30")
    assert set(_junk_posts(client, 20)) == {403}
    page = client.get("/accounts/login/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    statuses = [
        client.post("/", {"csrfmiddlewaretoken": token.group(1)}).status_code
        for _ in range(6)
    ]
    assert 429 not in statuses[:5] and statuses[5] == 429


@pytest.mark.django_db
def test_behind_trusted_proxies_each_client_address_has_its_own_allowance(settings):
    from django.test import Client

    settings.WRITE_THROTTLE_PER_MINUTE = 5
    settings.COMMONGROUND_TRUSTED_PROXIES = 1
    noisy = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert _junk_posts(noisy, 6)[-1] == 429
    quiet = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.4")
    assert 429 not in _junk_posts(quiet, 5)


@pytest.mark.django_db
def test_a_forged_forwarded_for_does_not_let_a_client_pick_its_key(settings):
    """The proxy appends the real address; what the client wrote before it is
    ignored, however many hops it claims."""
    from django.test import Client

    settings.WRITE_THROTTLE_PER_MINUTE = 5
    settings.COMMONGROUND_TRUSTED_PROXIES = 1
    statuses = [
        Client(REMOTE_ADDR=PROXY)
        .post("/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 192.0.2.1, 203.0.113.77")
        .status_code
        for n in range(6)
    ]
    assert statuses[-1] == 429
    # Without trusted proxies the header is not read at all.
    settings.COMMONGROUND_TRUSTED_PROXIES = 0
    direct = Client(REMOTE_ADDR="192.0.2.50")
    statuses = [
        direct.post("/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(6)
    ]
    assert statuses[-1] == 429
