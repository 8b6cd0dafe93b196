"""The global write throttle (T26): 100 writes per minute per address, shared cache."""

from __future__ import annotations

import os
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


def _post_status(url: str) -> int:
    request = urllib.request.Request(url, data=b"login=x", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


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
        url = f"http://127.0.0.1:{port}/accounts/login/"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
        if time.time() % 60 > 50:  # keep all writes inside one minute window
            time.sleep(61 - time.time() % 60)
        statuses = [_post_status(url) for _ in range(101)]
    finally:
        server.terminate()
        server.wait(timeout=20)
        import redis

        connection = redis.Redis.from_url("redis://127.0.0.1:6379/12")
        connection.flushdb()
    assert 429 not in statuses[:100], statuses
    assert statuses[100] == 429
