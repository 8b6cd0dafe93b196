"""Ballot casts over HTTP: gunicorn + PostgreSQL + Redis on loopback, load from wrk.

Issue 5's bar: at least 500 casts per second with p99 at most 100 ms on the project's
2-core machine. One command does everything and cleans up after itself:

1. drops and recreates the PostgreSQL database ``commonground_bench``, migrates it
   and (benchmarks/casts_setup.py) builds a group of ``--members`` active members,
   one open yes/no ballot and one open ranked (IRV, 5 candidates) ballot through the
   platform's services, one logged-in session and CSRF cookie/token pair per member;
2. starts gunicorn (``--workers`` sync workers on 127.0.0.1, a free port) with the
   production settings (``commonground.site.settings_production``: DEBUG off, secure
   ``__Host-`` cookies, Redis cache and Celery broker) except the HTTPS redirect, since
   the load is plain HTTP on loopback;
3. for each ballot, a short warm-up and then ``--duration`` seconds of wrk with
   ``--connections`` connections: each request is one member's htmx cast (the form a
   browser posts, with its CSRF token and session cookie), members in rotation, so a
   member casts again after all others did (re-voting replaces their ballot);
4. checks the database: one ballot per participant, each ballot a participant's, and
   prints casts/s (answers with 201 Created only), p50/p99 latency, every other
   status and socket error, the SQL statements of one cast, the machine and versions,
   and the ratios to the target;
5. stops gunicorn and removes the database, the Redis keys it added and its files,
   also on failure or Ctrl-C.

Skips (exit 0, with the reason) when PostgreSQL, Redis or wrk is not available.

Usage: .venv/bin/python benchmarks/bench_casts.py [--duration 20] [--members 2000]
       [--workers 4] [--connections 64] [--kinds yes_no,ranked] [--keep-db]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_CASTS_DB", "commonground_bench")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
TARGET_CASTS_PER_S = 500.0
TARGET_P99_MS = 100.0
SUCCESS = 201

# wrk script: rotate members (cookie + CSRF token) and valid papers; count statuses.
# Thread t of T sends members t, t+T, t+2T, ... so no member is in flight on two
# threads at once, and with more members than connections not on two connections.
WRK_LUA = r"""
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  members = {}
  for line in io.lines(args[1]) do
    local cookie, token = line:match("^([^\t]+)\t([^\t]+)$")
    members[#members + 1] = {cookie, token}
  end
  bodies = {}
  for line in io.lines(args[2]) do bodies[#bodies + 1] = line end
  nmembers = #members
  path = args[3]
  nthreads = tonumber(args[4])
  index = id
  sent = 0
  answered = 0
  statuses = {}
  sample = ""
end

function request()
  local member = members[index]
  index = index + nthreads
  if index > #members then index = id end
  sent = sent + 1
  local body = "csrfmiddlewaretoken=" .. member[2] .. "&" .. bodies[(sent % #bodies) + 1]
  local headers = {
    ["Cookie"] = member[1],
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["HX-Request"] = "true",
  }
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  answered = answered + 1
  if status ~= 201 and sample == "" then sample = string.sub(body, 1, 400) end
end

function done(summary, latency, requests)
  local total = {}
  local sent_total = 0
  local issued = 0
  local answered_members = 0
  local samples = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
    local s = thread:get("sent")
    sent_total = sent_total + s
    local tid = thread:get("id")
    local own = math.floor((thread:get("nmembers") - tid) / #threads) + 1
    issued = issued + math.min(s, own)
    answered_members = answered_members + math.min(thread:get("answered"), own)
    local smp = thread:get("sample")
    if smp ~= "" then samples[#samples + 1] = smp end
  end
  local parts = {}
  for status, n in pairs(total) do
    parts[#parts + 1] = string.format('"%d":%d', status, n)
  end
  local sample = samples[1] or ""
  sample = sample:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('%c', ' ')
  io.write(string.format(
    'WRKJSON {"duration_us":%d,"requests":%d,"sent":%d,"members_issued":%d,' ..
    '"members_answered":%d,' ..
    '"statuses":{%s},"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d},"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"mean_us":%.1f,"sample":"%s"}\n',
    summary.duration, summary.requests, sent_total, issued, answered_members,
    table.concat(parts, ","), summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, sample))
end
"""


class Skip(Exception):
    """A service the benchmark needs is not available here."""


def log(message: str) -> None:
    print(message, flush=True)


# --- services -----------------------------------------------------------------------


def pg_connect(dbname: str = "postgres") -> Any:
    import psycopg

    return psycopg.connect(
        f"{PG_ADMIN_URL}/{dbname}", autocommit=True, connect_timeout=3
    )


def check_services(redis_db: int) -> dict[str, str]:
    try:
        with pg_connect() as conn:
            pg_version = conn.execute("SHOW server_version").fetchone()[0]
    except Exception as error:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        raise Skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {error}") from None
    try:
        import redis

        client = redis.Redis(
            host=REDIS_HOST, port=REDIS_PORT, db=redis_db, socket_timeout=3
        )
        redis_version = str(client.info("server")["redis_version"])
    except Exception as error:  # noqa: BLE001
        raise Skip(
            f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT}: {error}"
        ) from None
    wrk = shutil.which("wrk")
    if wrk is None:
        raise Skip("wrk is not installed (Debian: apt-get install -y wrk)")
    wrk_version = subprocess.run(
        [wrk, "-v"], capture_output=True, text=True, check=False
    ).stdout.split(" [")[0]
    return {"postgresql": pg_version, "redis": redis_version, "wrk": wrk_version}


def redis_keys(redis_db: int) -> set[bytes]:
    import redis

    return set(redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=redis_db).keys("*"))


def redis_remove_new_keys(redis_db: int, before: set[bytes]) -> int:
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=redis_db)
    added = [key for key in client.keys("*") if key not in before]
    if added:
        client.delete(*added)
    return len(added)


def recreate_database() -> None:
    with pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def drop_database() -> None:
    with pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def django_env(work: Path, redis_db: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "commonground.site.settings_production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_STATIC_ROOT": str(work / "static"),
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "DATABASE_URL": f"{PG_ADMIN_URL}/{DB_NAME}",
            "REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}",
            "COMMONGROUND_HOME": str(work),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            # All load comes from 127.0.0.1: the per-address write throttle is off.
            "COMMONGROUND_WRITE_THROTTLE": "0",
        }
    )
    env.pop("DJANGO_DEBUG", None)
    return env


def run_checked(args: list[str], env: dict[str, str], what: str) -> str:
    result = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{what} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result.stdout


def helper(action: str, env: dict[str, str], *args: str) -> Any:
    out = run_checked(
        [sys.executable, str(HERE / "casts_setup.py"), action, *args], env, action
    )
    return json.loads(out.strip().splitlines()[-1])


# --- gunicorn -----------------------------------------------------------------------


def start_gunicorn(
    env: dict[str, str], port: int, workers: int, errlog: Path
) -> subprocess.Popen[bytes]:
    args = [
        str(BIN / "gunicorn"),
        "commonground.site.wsgi:application",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        "2048",
        "--timeout",
        "60",
        "--no-control-socket",
        "--error-logfile",
        str(errlog),
        "--log-level",
        "warning",
    ]
    # Django's own error log goes to the workers' stderr: keep it with gunicorn's.
    with errlog.open("ab") as sink:
        process = subprocess.Popen(  # noqa: S603 - fixed arguments
            args,
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{errlog.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)  # noqa: S310
            return process
        except urllib.error.HTTPError:
            return process  # any HTTP answer means it is serving
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop_process_group(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# --- CPU accounting -------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of one process (None once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError, IndexError):
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[1]) == pid:
                    found.append(int(entry.name))
    return found


def cpu_snapshot(gunicorn_pid: int) -> dict[str, dict[int, float]]:
    """CPU seconds so far of the gunicorn master and workers and of the PostgreSQL
    backends serving the benchmark database (the load's whole server side)."""
    app = {}
    for pid in [gunicorn_pid, *_children(gunicorn_pid)]:
        seconds = _cpu_seconds(pid)
        if seconds is not None:
            app[pid] = seconds
    database = {}
    with pg_connect() as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [DB_NAME]
            )
        ]
    for pid in pids:
        seconds = _cpu_seconds(pid)
        if seconds is not None:
            database[pid] = seconds
    return {"app": app, "database": database}


def cpu_used(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
) -> dict[str, float]:
    return {
        side: sum(
            seconds - before[side].get(pid, 0.0) for pid, seconds in after[side].items()
        )
        for side in ("app", "database")
    }


# --- load ---------------------------------------------------------------------------


def write_load_files(data: dict[str, Any], work: Path) -> dict[str, Path]:
    members = work / "members.tsv"
    members.write_text(
        "".join(
            f"{data['session_cookie']}={row['session']}; "
            f"{data['csrf_cookie']}={row['csrf_secret']}\t{row['csrf_token']}\n"
            for row in data["members"]
        )
    )
    files = {"members": members, "lua": work / "casts.lua"}
    files["lua"].write_text(WRK_LUA)
    for kind, election in data["elections"].items():
        path = work / f"bodies-{kind}.txt"
        path.write_text("".join(f"{body}\n" for body in election["bodies"]))
        files[kind] = path
    return files


def run_wrk(
    files: dict[str, Path],
    kind: str,
    path: str,
    port: int,
    duration: float,
    connections: int,
) -> dict[str, Any]:
    threads = max(1, min(2, connections))
    args = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(files["lua"]),
        f"http://127.0.0.1:{port}{path}",
        "--",
        str(files["members"]),
        str(files[kind]),
        path,
        str(threads),
    ]
    result = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    match = re.search(r"^WRKJSON (.*)$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    return dict(json.loads(match.group(1)))


# --- report -------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown CPU"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def source_revision() -> str:
    """The commit measured, and whether src/ had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' + uncommitted changes in src/' if dirty else ''}"


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("Django", "gunicorn", "psycopg", "redis", "celery"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "absent"
    return found


def summarise(kind: str, run: dict[str, Any], cpu: dict[str, float]) -> dict[str, Any]:
    seconds = run["duration_us"] / 1e6
    ok = int(run["statuses"].get(str(SUCCESS), 0))
    rate = ok / seconds if seconds else 0.0
    p50 = run["p50_us"] / 1000
    p99 = run["p99_us"] / 1000
    other = {s: n for s, n in run["statuses"].items() if s != str(SUCCESS)}
    socket_errors = {k: v for k, v in run["errors"].items() if k != "status" and v}
    return {
        "kind": kind,
        "seconds": round(seconds, 2),
        "casts": ok,
        "casts_per_s": round(rate, 1),
        "p50_ms": round(p50, 1),
        "p90_ms": round(run["p90_us"] / 1000, 1),
        "p99_ms": round(p99, 1),
        "max_ms": round(run["max_us"] / 1000, 1),
        "other_statuses": other,
        "socket_errors": socket_errors,
        "rate_ratio": round(rate / TARGET_CASTS_PER_S, 3),
        "p99_ratio": round(p99 / TARGET_P99_MS, 3),
        "target_met": rate >= TARGET_CASTS_PER_S and p99 <= TARGET_P99_MS,
        "sample_refusal": run.get("sample", ""),
        "members_issued": run["members_issued"],
        "members_answered": run["members_answered"],
        "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
        "cpu_ms_per_cast": {
            k: round(1000 * v / ok, 2) if ok else None for k, v in cpu.items()
        },
        # What the server side alone would sustain on the machine's idle cores.
        "capacity_casts_per_s": round(
            (os.cpu_count() or 1) * ok / (cpu["app"] + cpu["database"]), 0
        )
        if ok and cpu["app"] + cpu["database"] > 0
        else None,
    }


def server_errors(errlog: Path) -> int:
    if not errlog.exists():
        return 0
    text = errlog.read_text(errors="replace")
    return text.count("Traceback (most recent call last)")


# --- main ---------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench_casts.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per run")
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds, not counted"
    )
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--kinds", default="yes_no,ranked")
    parser.add_argument(
        "--redis-db",
        type=int,
        default=14,
        help="Redis database for cache, sessions and broker; keys the run adds are "
        "removed afterwards, so use a database nobody else writes to meanwhile",
    )
    parser.add_argument(
        "--keep-db", action="store_true", help="leave commonground_bench for inspection"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    try:
        versions = check_services(args.redis_db)
    except Skip as reason:
        log(f"SKIP bench_casts: {reason}")
        return 0
    versions.update(package_versions())
    versions["commonground"] = source_revision()
    work = Path(tempfile.mkdtemp(prefix="bench-casts-"))
    env = django_env(work, args.redis_db)
    redis_before = redis_keys(args.redis_db)
    gunicorn: subprocess.Popen[bytes] | None = None
    errlog = work / "gunicorn.log"
    results: dict[str, Any] = {
        "machine": machine(),
        "versions": versions,
        "load_before": os.getloadavg(),
        "settings": {
            "members": args.members,
            "workers": args.workers,
            "connections": args.connections,
            "duration_s": args.duration,
        },
        "runs": [],
    }
    failed = False
    try:
        log(f"database {DB_NAME}: recreate, migrate, collectstatic")
        recreate_database()
        manage = [sys.executable, str(ROOT / "manage.py")]
        run_checked([*manage, "migrate", "--no-input"], env, "migrate")
        run_checked([*manage, "collectstatic", "--no-input"], env, "collectstatic")
        started = time.monotonic()
        created = helper(
            "setup",
            env,
            "--members",
            str(args.members),
            "--out",
            str(work / "data.json"),
        )
        log(
            f"set-up: {created['members']} members with sessions, ballots "
            f"{created['elections']} ({time.monotonic() - started:.1f} s)"
        )
        data = json.loads((work / "data.json").read_text())
        unknown = [k for k in kinds if k not in data["elections"]]
        if unknown:
            raise RuntimeError(f"unknown ballot kinds {unknown}")
        files = write_load_files(data, work)
        results["queries_per_cast"] = helper(
            "queries", env, "--data", str(work / "data.json")
        )
        log(f"SQL statements per htmx cast: {results['queries_per_cast']}")
        port = free_port()
        gunicorn = start_gunicorn(env, port, args.workers, errlog)
        log(
            f"gunicorn: {args.workers} sync workers on 127.0.0.1:{port}; "
            f"wrk: {args.connections} connections, {args.duration:g} s per ballot"
        )
        for kind in kinds:
            path = data["elections"][kind]["path"]
            if args.warmup > 0:
                run_wrk(files, kind, path, port, args.warmup, args.connections)
            before = cpu_snapshot(gunicorn.pid)
            wrk_before = os.times()
            raw = run_wrk(files, kind, path, port, args.duration, args.connections)
            wrk_after = os.times()
            used = cpu_used(before, cpu_snapshot(gunicorn.pid))
            used["wrk"] = (wrk_after.children_user - wrk_before.children_user) + (
                wrk_after.children_system - wrk_before.children_system
            )
            run = summarise(kind, raw, used)
            results["runs"].append(run)
            cpu_ms = run["cpu_ms_per_cast"]
            log(
                f"{kind:>7}: CPU per cast: app {cpu_ms['app']} ms, PostgreSQL "
                f"{cpu_ms['database']} ms, wrk {cpu_ms['wrk']} ms; server side alone "
                f"would sustain ~{run['capacity_casts_per_s']} casts/s on "
                f"{os.cpu_count()} idle cores"
            )
            log(
                f"{kind:>7}: {run['casts_per_s']:7.1f} casts/s "
                f"({run['casts']} casts in {run['seconds']} s)  "
                f"p50 {run['p50_ms']:.1f} ms  p90 {run['p90_ms']:.1f} ms  "
                f"p99 {run['p99_ms']:.1f} ms  max {run['max_ms']:.1f} ms  "
                f"other statuses {run['other_statuses'] or 'none'}  "
                f"socket errors {run['socket_errors'] or 'none'}"
            )
            if run["other_statuses"]:
                log(f"         first refusal body: {run['sample_refusal'][:300]!r}")
        stop_process_group(gunicorn)
        gunicorn = None
        results["server_tracebacks"] = server_errors(errlog)
        results["verify"] = helper("verify", env, "--data", str(work / "data.json"))
        results["load_after"] = os.getloadavg()
        for kind in kinds:
            check = results["verify"][kind]
            run = next(r for r in results["runs"] if r["kind"] == kind)
            # Members whose cast was answered (up to the casts still in flight on
            # each connection when wrk stopped, answered out of order) voted; nobody
            # voted who was not sent (+1: the member whose casts counted the SQL).
            low = run["members_answered"] - args.connections
            high = run["members_issued"] + 1
            check["participants_as_sent"] = low <= check["participants"] <= high
            check["all_senders_voted"] = check["participants_as_sent"] or bool(
                run["other_statuses"]
            )
            log(
                f"verify {kind}: {check['ballots']} ballots, "
                f"{check['participants']} participants, each ballot a participant's: "
                f"{check['ballots_match_participants']}; "
                f"{'OK' if check['ok'] and check['all_senders_voted'] else 'FAILED'}"
            )
            failed |= not (check["ok"] and check["all_senders_voted"])
            failed |= bool(run["socket_errors"]) or any(
                s.startswith("5") for s in run["other_statuses"]
            )
        failed |= results["server_tracebacks"] > 0
        report(results)
    except Exception as error:  # noqa: BLE001 - report, clean up, fail
        log(f"bench_casts FAILED: {error}")
        if errlog.exists():
            log(errlog.read_text(errors="replace")[-2000:])
        failed = True
    finally:
        stop_process_group(gunicorn)
        removed = 0
        with suppress(Exception):
            removed = redis_remove_new_keys(args.redis_db, redis_before)
        if not args.keep_db:
            with suppress(Exception):
                drop_database()
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        shutil.rmtree(work, ignore_errors=True)
        log(
            f"cleaned up: gunicorn stopped, {removed} Redis keys removed, "
            f"database {'kept' if args.keep_db else 'dropped'}"
        )
    return 1 if failed else 0


def report(results: dict[str, Any]) -> None:
    m = results["machine"]
    log("")
    log(
        f"machine: {m['cpu']}, {m['cores']} cores (shared with other engineers); "
        f"load average before {results['load_before'][0]:.2f}, "
        f"after {results['load_after'][0]:.2f}"
    )
    log(
        "versions: "
        + ", ".join(f"{k} {v}" for k, v in results["versions"].items())
        + f", Python {m['python']}"
    )
    if results["server_tracebacks"]:
        log(f"server tracebacks in the gunicorn log: {results['server_tracebacks']}")
    log(f"target: >= {TARGET_CASTS_PER_S:g} casts/s with p99 <= {TARGET_P99_MS:g} ms")
    for run in results["runs"]:
        log(
            f"  {run['kind']:>7}: {run['casts_per_s']:.1f} casts/s = "
            f"{run['rate_ratio']:.2f} x target; p99 {run['p99_ms']:.1f} ms = "
            f"{run['p99_ratio']:.2f} x limit; "
            f"{'MET' if run['target_met'] else 'NOT met'}"
        )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
