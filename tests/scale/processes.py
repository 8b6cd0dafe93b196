"""Real processes for the scale-out and fault tests: PgBouncer, gunicorn, Celery.

(``from scale.processes import ...``; the ``stack`` fixture is in conftest.py.)

Every process is started by the test (never a system service), on loopback ports of
its own, against the test's PostgreSQL database; each is stopped by its PID at the
end. Redis database 14 (``COMMONGROUND_TEST_OPS_REDIS_URL``) holds sessions, cache
and the task queue under a name of the test's own, so parallel runs never meet.
Without PostgreSQL these tests skip (postgres_only); without Redis or pgbouncer they
skip locally and fail in CI (``CI=true``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, build_opener

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OPS_REDIS_URL = os.environ.get(
    "COMMONGROUND_TEST_OPS_REDIS_URL", "redis://127.0.0.1:6379/14"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
METRICS_TOKEN = "scale-test-metrics-token"
TRACKER = re.compile(r'id="tracker">([A-Z2-7]+)<')


def skip_or_fail(message: str) -> None:
    if IN_CI:
        pytest.fail(message + " (CI=true: this scenario must run)")
    pytest.skip(message)


def ops_redis_url() -> str:
    import redis

    try:
        with redis.Redis.from_url(OPS_REDIS_URL, socket_connect_timeout=2) as client:
            client.ping()
    except redis.RedisError as error:
        skip_or_fail(f"Redis not reachable at {OPS_REDIS_URL} ({error})")
    return OPS_REDIS_URL


def pgbouncer_binary() -> str:
    binary = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if binary is None:
        skip_or_fail("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    return str(binary)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_settings() -> dict[str, Any]:
    from django.db import connection

    db = connection.settings_dict
    return {
        "user": db["USER"],
        "password": db.get("PASSWORD") or "",
        "host": db["HOST"] or "127.0.0.1",
        "port": int(db["PORT"] or 5432),
        "name": db["NAME"],
    }


def direct_database_url(application_name: str | None = None) -> str:
    db = database_settings()
    password = f":{db['password']}" if db["password"] else ""
    url = f"postgres://{db['user']}{password}@{db['host']}:{db['port']}/{db['name']}"
    return url + (f"?application_name={application_name}" if application_name else "")


def admin_connection(**kwargs: Any) -> Any:
    """A psycopg connection of the test's own to the test database."""
    import psycopg

    db = database_settings()
    return psycopg.connect(
        host=db["host"], port=db["port"], user=db["user"],
        password=db["password"] or None, dbname=db["name"], **kwargs,
    )  # fmt: skip


@dataclass
class Stack:
    """The processes one test started, by PID; ``close`` stops them all."""

    queue: str
    workdir: Path
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def env(self, database_url: str, **extra: str) -> dict[str, str]:
        from django.conf import settings

        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_URL", "CELERY_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="scale_settings",
            PYTHONPATH=os.pathsep.join([str(HERE), str(REPOSITORY / "src")]),
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY=settings.SECRET_KEY,  # sessions and trackers agree
            COMMONGROUND_BALLOT_KEY=settings.BALLOT_SECRET_KEY,
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=database_url,
            REDIS_URL=OPS_REDIS_URL,
            CELERY_BROKER_URL=OPS_REDIS_URL,
            CELERY_TASK_ALWAYS_EAGER="false",
            COMMONGROUND_TEST_QUEUE=self.queue,
            COMMONGROUND_WRITE_THROTTLE="0",
            COMMONGROUND_METRICS_TOKEN=METRICS_TOKEN,
            DJANGO_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            COMMONGROUND_HOME=str(self.workdir),
            LOG_LEVEL="WARNING",
        )
        env.update(extra)
        return env

    def start(
        self, name: str, argv: list[str], env: dict[str, str]
    ) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            argv, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.processes.append((name, process))
        return process

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def pgbouncer(self, *, pool_size: int = 4) -> int:
        """Debian's pgbouncer, transaction pooling, in front of the test database."""
        import configparser

        binary = pgbouncer_binary()
        db = database_settings()
        port = free_port()
        # pgbouncer refuses to run as root: it drops to the postgres user, which
        # must reach its files, so they live in a world-readable directory.
        directory = Path(tempfile.mkdtemp(prefix="cg-helper-ops-pgbouncer-"))
        directory.chmod(0o777)
        config = configparser.ConfigParser(interpolation=None)
        config.read(REPOSITORY / "deploy" / "pgbouncer.ini")
        config["databases"] = {
            "commonground": f"host={db['host']} port={db['port']} dbname={db['name']}"
        }
        config["pgbouncer"].update(
            listen_port=str(port),
            unix_socket_dir="",
            auth_type="trust",
            default_pool_size=str(pool_size),
            reserve_pool_size="0",
            max_client_conn="100",
            admin_users=db["user"],
            logfile=str(directory / "pgbouncer.log"),
            pidfile=str(directory / "pgbouncer.pid"),
        )
        # Trust, as the local test cluster does; pgbouncer still wants the user listed.
        userlist = directory / "userlist.txt"
        userlist.write_text(f'"{db["user"]}" "{db["password"]}"\n')
        userlist.chmod(0o644)
        config["pgbouncer"]["auth_file"] = str(userlist)
        ini = directory / "pgbouncer.ini"
        with ini.open("w") as handle:
            config.write(handle)
        ini.chmod(0o644)
        argv = [binary, str(ini)]
        if os.geteuid() == 0:
            argv[1:1] = ["-u", "postgres"]
        process = self.start("pgbouncer", argv, os.environ.copy())
        self._pgbouncer_dir = directory
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(
                    "pgbouncer exited: " + self.log("pgbouncer")
                    + (directory / "pgbouncer.log").read_text(errors="replace")
                )  # fmt: skip
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port
            except OSError:
                time.sleep(0.2)
        raise AssertionError("pgbouncer did not listen in 20 s")

    def gunicorn(self, name: str, env: dict[str, str], *, workers: int = 2) -> str:
        port = free_port()
        env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_GRACEFUL_TIMEOUT": "3",
            "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / f"metrics-{name}"),
        }
        process = self.start(
            name,
            [sys.executable, "-m", "gunicorn", "--config",
             str(REPOSITORY / "deploy" / "gunicorn.conf.py"),
             "commonground.site.wsgi:application"],
            env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"{name} exited: {self.log(name)[-3000:]}")
            status, _ = http_get(base, "/healthz", timeout=2)
            if status == 200:
                return base
            time.sleep(0.2)
        raise AssertionError(f"{name} did not answer in 60 s: {self.log(name)[-3000:]}")

    def celery(
        self, name: str, env: dict[str, str], *arguments: str
    ) -> subprocess.Popen[bytes]:
        return self.start(
            name,
            [sys.executable, "-m", "celery", "--app", "commonground.site", *arguments],
            env,
        )

    def worker(
        self,
        name: str,
        env: dict[str, str],
        *,
        pool: str = "prefork",
        concurrency: int = 2,
    ) -> subprocess.Popen[bytes]:
        process = self.celery(
            name, env, "worker", "--queues", self.queue, "--pool", pool,
            "--concurrency", str(concurrency), "--loglevel", "INFO",
            "--hostname", f"{name}-{self.queue}@%h", "--without-gossip",
            "--without-mingle", "--without-heartbeat",
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while "ready." not in self.log(name):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{name} did not start: {self.log(name)[-3000:]}")
            time.sleep(0.2)
        return process

    def beat(self, env: dict[str, str]) -> subprocess.Popen[bytes]:
        return self.celery(
            "beat", env, "beat", "--loglevel", "INFO",
            "--schedule", str(self.workdir / "celerybeat-schedule"),
        )  # fmt: skip

    def close(self) -> None:
        for _, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _, process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        directory = getattr(self, "_pgbouncer_dir", None)
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
        import redis

        with redis.Redis.from_url(OPS_REDIS_URL) as client:
            for key in client.scan_iter(match=f"*{self.queue}*"):
                client.delete(key)


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (gunicorn's workers), from /proc."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


# --- members with logged-in sessions, as a browser holds them ------------------------


@dataclass(frozen=True)
class Voter:
    member_id: int
    session: str
    csrf_secret: str
    csrf_token: str

    @property
    def cookie(self) -> str:
        return f"sessionid={self.session}; csrftoken={self.csrf_secret}"


def sessions_in_redis(users: list[Any], queue: str) -> list[Voter]:
    """Log each user in as Django does, into the Redis the servers read sessions from."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.middleware.csrf import get_token
    from django.test import RequestFactory, override_settings

    from commonground.core.middleware import SESSION_STARTED_KEY

    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": OPS_REDIS_URL,
            "KEY_PREFIX": queue,
        }
    }
    voters = []
    with override_settings(
        CACHES=caches, SESSION_ENGINE="django.contrib.sessions.backends.cache"
    ):
        from django.contrib.sessions.backends.cache import SessionStore

        for user in users:
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session[SESSION_STARTED_KEY] = int(time.time())
            session.create()
            request = RequestFactory().get("/")
            token = get_token(request)
            voters.append(
                Voter(user.pk, session.session_key, request.META["CSRF_COOKIE"], token)
            )
    return voters


def open_election(
    *, voters: int, closes_in: float, method: str = "irv",
    options: tuple[str, ...] = ("Ann", "Bo", "Cy", "Di", "Ed"),
) -> tuple[Any, list[Any]]:  # fmt: skip
    """A branch with ``voters`` members and a ballot open now, closing soon."""
    from django.utils import timezone

    from commonground.decisions import services
    from commonground.members.models import Role
    from factories import make_group, make_member, make_role

    group = make_group(name=f"Scale branch {uuid.uuid4().hex[:6]}")
    organiser = make_role(group, Role.ORGANISER)
    members = [make_member(group) for _ in range(voters)]
    now = timezone.now()
    election = services.election_create(
        actor=organiser,
        group=group,
        kind="question",
        spec=services.ElectionSpec(
            title="Scale-out ballot",
            method=method,
            options=list(options),
            opens_at=now,
            closes_at=now + timedelta(seconds=closes_in),
        ),
    )
    return election, members


def wait_until_closed(election: Any, *, margin: float = 0.5) -> None:
    from django.utils import timezone

    remaining = (election.closes_at - timezone.now()).total_seconds() + margin
    if remaining > 0:
        time.sleep(remaining)


# --- HTTP as a browser sends it ---------------------------------------------------------


def http_get(
    base: str, path: str, *, headers: dict[str, str] | None = None, timeout: float = 30
) -> tuple[int | None, bytes]:
    request = Request(base + path, headers=headers or {})
    try:
        with build_opener().open(request, timeout=timeout) as response:
            return response.status, response.read()
    except HTTPError as error:
        return error.code, error.read()
    except (URLError, ConnectionError, OSError):
        return None, b""


def cast(
    base: str,
    election_id: int,
    voter: Voter,
    fields: dict[str, str],
    *,
    timeout: float = 30,
) -> tuple[int | None, str | None, str]:
    """POST a paper; (status or None if the connection broke, tracker, body)."""
    body = urlencode({"csrfmiddlewaretoken": voter.csrf_token, **fields}).encode()
    request = Request(
        f"{base}/decisions/ballots/{election_id}/vote/",
        data=body,
        headers={"Cookie": voter.cookie},
    )
    try:
        with build_opener().open(request, timeout=timeout) as response:
            status, html = response.status, response.read().decode()
    except HTTPError as error:
        status, html = error.code, error.read().decode(errors="replace")
    except (URLError, ConnectionError, OSError):
        return None, None, ""
    match = TRACKER.search(html)
    return status, (match.group(1) if match else None), html


def ranking(order: list[int]) -> dict[str, str]:
    return {f"rank_{p}": str(rank) for rank, p in enumerate(order, start=1)}
