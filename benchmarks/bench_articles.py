"""Anonymous article page views over HTTP: gunicorn + PostgreSQL + Redis on loopback,
load from wrk.

Issue 15's bar: at least 1,000 anonymous article page views per second on the
project's 2-core machine, with caching headers and a cached fragment. What is
cached (publishing.caching and publishing.views.public):

- the whole rendered article page for readers without an account, messages or
  session, in Redis, keyed by the article's cache version, its live revision, the
  language and the time zone, with a placeholder where each reader's own CSRF token
  goes (so the page still carries a working token for the visitor comment form);
  a hit costs two small queries (the article, its live revision's id) and a string
  replacement; entries live 60 s (relative times in the thread);
- invalidation: every change readers could see bumps the article's cache version
  (a publication, a withdrawal, a change of its comment settings, any comment shown,
  removed, hidden, restored, approved or erased: discussion's ``thread_changed``),
  and a scheduled revision that comes due changes the live revision, so the key
  changes without any job;
- headers: ``Cache-Control: private, no-cache`` with ``Last-Modified`` (a browser
  revalidates and gets 304 when nothing changed); members' pages ``no-store``.

One command does everything and cleans up after itself: drops and recreates the
database ``commonground_bench_articles``, migrates it, publishes ``--articles``
articles (a long interview among them, with ``--comments`` comments and replies on
it) through the platform's services, starts gunicorn (``--workers`` sync workers,
production settings with Redis, plain HTTP on loopback), runs wrk on the interview's
page (a fresh reader per request: no cookies), then with ``If-Modified-Since``
(304s), then on the platform's floor (the web app manifest: no query, no template,
the same middleware) for comparison, prints views/s, p50/p99 latency, statuses, CPU per view, the SQL statements
of a cold and a warm view, the machine and versions; then stops gunicorn and removes
the database and the Redis keys it added, also on failure.

Skips (exit 0, with the reason) when PostgreSQL, Redis or wrk is not available.

Usage: .venv/bin/python benchmarks/bench_articles.py [--duration 20] [--workers 4]
       [--connections 64] [--articles 30] [--comments 60] [--keep-db]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DB_NAME = os.environ.get("BENCH_ARTICLES_DB", "commonground_bench_articles")
TARGET_VIEWS_PER_S = 1000.0

sys.path.insert(0, str(HERE))
import bench_casts as casts  # noqa: E402 - the shared gunicorn/wrk/PostgreSQL helpers

casts.DB_NAME = DB_NAME  # pg_stat_activity (CPU accounting) looks at our database

WRK_LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  statuses = {}
  since = args[1]
end
function request()
  if since ~= nil and since ~= "" then
    return wrk.format("GET", nil, {["If-Modified-Since"] = since})
  end
  return wrk.format("GET")
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(total) do parts[#parts + 1] = string.format('"%d":%d', status, n) end
  io.write(string.format(
    'WRKJSON {"duration_us":%d,"requests":%d,"statuses":{%s},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.duration, summary.requests, table.concat(parts, ","),
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


# --- set-up inside the benchmark's Django (a subprocess with its environment) --------


def setup(articles: int, comments: int) -> dict[str, Any]:
    from django.core.management import call_command  # noqa: F401
    from django.test import override_settings

    from commonground.discussion import services as discussion
    from commonground.members import services as members_services
    from commonground.members.models import (
        Group,
        Membership,
        Organisation,
        Role,
        RoleAssignment,
        User,
    )
    from commonground.publishing import services
    from commonground.publishing.demo import ARTICLES, _interview_body

    now_members = []
    organisation = Organisation.objects.create(name="Bench movement", slug="bench")
    group = members_services.group_create(
        actor=None,
        organisation=organisation,
        name="Bench national",
        slug="bench-national",
        kind=Group.Kind.NATIONAL,
    )
    from django.utils import timezone

    users = User.objects.bulk_create(
        [
            User(email=f"reader{i:04d}@bench.invalid", display_name=f"Reader {i}")
            for i in range(comments + 1)
        ]
    )
    users = list(User.objects.filter(email__endswith="@bench.invalid").order_by("id"))
    Membership.objects.bulk_create(
        [
            Membership(
                user=u,
                group=group,
                status=Membership.Status.ACTIVE,
                since=timezone.now(),
            )
            for u in users
        ]
    )
    editor, now_members = users[0], users[1:]
    RoleAssignment.objects.create(
        user=editor, group=group, role=Role.EDITOR, assigned_at=timezone.now()
    )
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"
    ):
        for index in range(articles - 1):
            title, standfirst, body, tags = ARTICLES[index % len(ARTICLES)]
            article = services.article_create(
                actor=editor,
                group=group,
                title=f"{title} ({index})",
                standfirst=standfirst,
                body=body,
                tags=tags,
                call_to_action="join",
            )
            services.article_publish(actor=editor, article=article)
        interview = services.article_create(
            actor=editor,
            group=group,
            title="The interview everyone reads",
            standfirst="A long interview with many comments.",
            body=_interview_body() * 2,
            kind="interview",
            interviewee="Amara Osei",
            tags=["Housing", "Climate"],
            call_to_action="join",
        )
        services.article_publish(actor=editor, article=interview)
        interview.refresh_from_db()
        parents: list[Any] = []
        for index, member in enumerate(now_members):
            parent = parents[index // 3] if index % 3 and parents else None
            comment = discussion.comment_post(
                author=member,
                target=interview,
                body=f"Comment {index}: *thoughtful* words about the interview.",
                parent=parent,
            )
            if parent is None:
                parents.append(comment)
    interview.refresh_from_db()
    return {
        "path": interview.get_absolute_url(),
        "articles": articles,
        "comments": comments,
    }


def queries(path: str) -> dict[str, Any]:
    """SQL statements and headers of a cold and a warm anonymous view."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    out: dict[str, Any] = {}
    for label in ("cold", "warm"):
        with CaptureQueriesContext(connection) as captured:
            response = Client().get(path, HTTP_HOST="127.0.0.1")
        out[label] = {
            "status": response.status_code,
            "queries": len(captured.captured_queries),
            "bytes": len(response.content),
        }
    out["cache_control"] = response.get("Cache-Control", "")
    out["last_modified"] = response.get("Last-Modified", "")
    return out


# --- the run --------------------------------------------------------------------------


def recreate_database() -> None:
    with casts.pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def drop_database() -> None:
    with casts.pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def django_env(work: Path, redis_db: int) -> dict[str, str]:
    env = casts.django_env(work, redis_db)
    env["DATABASE_URL"] = f"{casts.PG_ADMIN_URL}/{DB_NAME}"
    return env


def helper(action: str, env: dict[str, str], *args: str) -> Any:
    out = casts.run_checked(
        [sys.executable, str(Path(__file__).resolve()), action, *args], env, action
    )
    return json.loads(out.strip().splitlines()[-1])


def run_wrk(
    lua: Path, url: str, duration: float, connections: int, since: str = ""
) -> dict[str, Any]:
    import re

    threads = max(1, min(2, connections))
    args = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(lua),
        url,
        "--",
        since,
    ]
    result = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    match = re.search(r"^WRKJSON (.*)$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    return dict(json.loads(match.group(1)))


def summarise(
    label: str, run: dict[str, Any], cpu: dict[str, float], ok: int
) -> dict[str, Any]:
    seconds = run["duration_us"] / 1e6
    good = int(run["statuses"].get(str(ok), 0))
    rate = good / seconds if seconds else 0.0
    return {
        "run": label,
        "seconds": round(seconds, 2),
        "views": good,
        "views_per_s": round(rate, 1),
        "p50_ms": round(run["p50_us"] / 1000, 2),
        "p90_ms": round(run["p90_us"] / 1000, 2),
        "p99_ms": round(run["p99_us"] / 1000, 2),
        "max_ms": round(run["max_us"] / 1000, 1),
        "other_statuses": {s: n for s, n in run["statuses"].items() if s != str(ok)},
        "socket_errors": {
            k: v for k, v in run["errors"].items() if k != "status" and v
        },
        "cpu_ms_per_view": {
            side: round(1000 * seconds_used / good, 3) if good else None
            for side, seconds_used in cpu.items()
        },
        "ratio": round(rate / TARGET_VIEWS_PER_S, 2),
        "target_met": rate >= TARGET_VIEWS_PER_S,
        # What the server side alone (gunicorn + PostgreSQL) sustains on the
        # machine's cores when nothing else runs on them: the load generator and
        # other people's work on a shared machine are left out.
        "capacity_views_per_s": round(
            (os.cpu_count() or 1) * good / (cpu["app"] + cpu["database"]), 0
        )
        if good and cpu["app"] + cpu["database"] > 0
        else None,
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench_articles.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--comments", type=int, default=60)
    parser.add_argument("--redis-db", type=int, default=13)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", type=Path)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("setup", "queries"):
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commonground.site.settings")
        django.setup()
        if argv[0] == "setup":
            print(json.dumps(setup(int(argv[1]), int(argv[2]))))
        else:
            print(json.dumps(queries(argv[1])))
        return 0
    args = parse_args(argv)
    try:
        versions = casts.check_services(args.redis_db)
    except casts.Skip as reason:
        casts.log(f"SKIP bench_articles: {reason}")
        return 0
    versions.update(casts.package_versions())
    versions["commonground"] = casts.source_revision()
    work = Path(tempfile.mkdtemp(prefix="bench-articles-"))
    env = django_env(work, args.redis_db)
    redis_before = casts.redis_keys(args.redis_db)
    gunicorn = None
    errlog = work / "gunicorn.log"
    results: dict[str, Any] = {
        "machine": casts.machine(),
        "versions": versions,
        "load_before": os.getloadavg(),
        "settings": vars(args) | {"json": None},
        "runs": [],
    }
    failed = False
    try:
        casts.log(f"database {DB_NAME}: recreate, migrate, collectstatic")
        recreate_database()
        manage = [sys.executable, str(ROOT / "manage.py")]
        casts.run_checked([*manage, "migrate", "--no-input"], env, "migrate")
        casts.run_checked(
            [*manage, "collectstatic", "--no-input"], env, "collectstatic"
        )
        started = time.monotonic()
        created = helper("setup", env, str(args.articles), str(args.comments))
        casts.log(
            f"set-up: {created['articles']} articles, {created['comments']} comments on "
            f"{created['path']} ({time.monotonic() - started:.1f} s)"
        )
        results["queries"] = helper("queries", env, created["path"])
        casts.log(f"one anonymous view: {results['queries']}")
        port = casts.free_port()
        gunicorn = casts.start_gunicorn(env, port, args.workers, errlog)
        url = f"http://127.0.0.1:{port}{created['path']}"
        lua = work / "views.lua"
        lua.write_text(WRK_LUA)
        casts.log(
            f"gunicorn: {args.workers} sync workers on 127.0.0.1:{port}; wrk: "
            f"{args.connections} connections, {args.duration:g} s per run"
        )
        import urllib.request

        with urllib.request.urlopen(url, timeout=10) as first:  # noqa: S310 - loopback
            last_modified = first.headers.get("Last-Modified", "")
        floor = f"http://127.0.0.1:{port}/manifest.webmanifest"
        runs = (
            ("full page", url, "", 200),
            ("revalidated (304)", url, last_modified, 304),
            # The platform's floor: a response with no query and no template (the
            # web app manifest) through the same middleware; no article page can be
            # cheaper than this on this stack.
            ("floor (manifest)", floor, "", 200),
        )
        for label, target_url, since, ok in runs:
            if args.warmup > 0:
                run_wrk(lua, target_url, args.warmup, args.connections, since)
            before = casts.cpu_snapshot(gunicorn.pid)
            wrk_before = os.times()
            raw = run_wrk(lua, target_url, args.duration, args.connections, since)
            wrk_after = os.times()
            used = casts.cpu_used(before, casts.cpu_snapshot(gunicorn.pid))
            used["wrk"] = (wrk_after.children_user - wrk_before.children_user) + (
                wrk_after.children_system - wrk_before.children_system
            )
            run = summarise(label, raw, used, ok)
            results["runs"].append(run)
            casts.log(
                f"{label:>18}: {run['views_per_s']:8.1f} views/s ({run['views']} in "
                f"{run['seconds']} s)  p50 {run['p50_ms']} ms  p90 {run['p90_ms']} ms  "
                f"p99 {run['p99_ms']} ms  other {run['other_statuses'] or 'none'}  "
                f"socket errors {run['socket_errors'] or 'none'}  CPU/view "
                f"{run['cpu_ms_per_view']}; server side alone would sustain "
                f"~{run['capacity_views_per_s']} views/s on {os.cpu_count()} idle cores"
            )
            failed |= bool(run["socket_errors"]) or any(
                s.startswith("5") for s in run["other_statuses"]
            )
        casts.stop_process_group(gunicorn)
        gunicorn = None
        results["server_tracebacks"] = casts.server_errors(errlog)
        results["load_after"] = os.getloadavg()
        failed |= results["server_tracebacks"] > 0
        report(results)
    except Exception as error:  # noqa: BLE001 - report, clean up, fail
        casts.log(f"bench_articles FAILED: {error}")
        if errlog.exists():
            casts.log(errlog.read_text(errors="replace")[-2000:])
        failed = True
    finally:
        casts.stop_process_group(gunicorn)
        removed = 0
        with suppress(Exception):
            removed = casts.redis_remove_new_keys(args.redis_db, redis_before)
        if not args.keep_db:
            with suppress(Exception):
                drop_database()
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=str))
        shutil.rmtree(work, ignore_errors=True)
        casts.log(
            f"cleaned up: gunicorn stopped, {removed} Redis keys removed, database "
            f"{'kept' if args.keep_db else 'dropped'}"
        )
    return 1 if failed else 0


def report(results: dict[str, Any]) -> None:
    machine = results["machine"]
    casts.log("")
    casts.log(
        f"machine: {machine['cpu']}, {machine['cores']} cores (shared with other "
        f"engineers); load average before {results['load_before'][0]:.2f}, after "
        f"{results['load_after'][0]:.2f}"
    )
    casts.log(
        "versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items())
    )
    casts.log(f"target: >= {TARGET_VIEWS_PER_S:g} anonymous article views/s")
    for run in results["runs"]:
        casts.log(
            f"  {run['run']:>18}: {run['views_per_s']:.1f} views/s = {run['ratio']:.2f} x "
            f"target; {'MET' if run['target_met'] else 'NOT met'} (capacity on idle "
            f"cores ~{run['capacity_views_per_s']} views/s)"
        )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
