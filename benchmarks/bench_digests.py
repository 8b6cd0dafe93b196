"""Daily digests for 100,000 members: ``digests_send(channel="daily")`` end to end.

Issue 12's bar: the daily digest run for 100,000 members with 10 pending items each
finishes within 300 s on the project's 2-core machine, with bounded memory. There is
no peer product for digests, so the figure is printed against the target as a ratio.
One command does everything and cleans up after itself:

1. drops and recreates the PostgreSQL database ``cg_bench_digests`` (``BENCH_PG_URL``,
   default postgres://postgres@127.0.0.1:5432) and migrates it; if PostgreSQL is not
   reachable it says so and uses a SQLite file in a temporary folder instead;
2. set-up, timed separately (a child process): 20 branches of 5,000 members each
   (``--members``), active memberships except 1% who have left their branch since, and
   ``--items`` pending daily-digest notifications per member from their branch (the
   decisions app's ``results`` and ``closing_soon`` kinds, whose registered
   ``still_in_group`` check the digest runs); one item in 97 was also emailed
   individually already. Users and memberships go in through ``bulk_create``,
   notifications through COPY (SQLite: ``executemany``), deliveries through one
   ``INSERT ... SELECT``; then VACUUM ANALYZE, as autovacuum would have done;
3. the measured run, in a fresh child process so its peak memory is its own:
   ``digests_send(channel="daily")`` with :class:`CountingBackend`, an email backend
   that builds each message's MIME bytes (as Django's SMTP backend does before
   writing them to the socket), counts messages, items and bytes and keeps nothing.
   So the figure is "built and queued": everything but the SMTP conversation;
4. checks the database (nothing pending; one digest per member who stayed; every
   item in a digest marked sent; the leavers' and the already-emailed items skipped)
   and prints wall time, CPU time, emails, peak memory (maximum resident set size of
   the child, beside its size before the run), the machine, and the ratio to 300 s;
5. drops the database (or removes the SQLite file), also on failure or Ctrl-C.

Usage: .venv/bin/python benchmarks/bench_digests.py [--members 100000] [--items 10]
       [--chunk-size 500] [--random-page-cost 1.1] [--profile FILE.prof] [--keep-db]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import suppress
from pathlib import Path
from typing import Any

from database_setup import PG_ADMIN_URL, bulk_insert, drop_database, pg_connect
from django.core.mail.backends.base import BaseEmailBackend

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DB_NAME = os.environ.get("BENCH_DIGESTS_DB", "cg_bench_digests")
TARGET_SECONDS = 300.0
BRANCH_SIZE = 5000
LEAVER_EVERY = 100  # one member in 100 has left their branch since
EMAILED_EVERY = 97  # one item in 97 went out individually by email already
KINDS = ("decisions.results", "decisions.closing_soon")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Seconds spent in each step of the measured run (see time_the_steps).
SPENT: dict[str, float] = defaultdict(float)


class CountingBackend(BaseEmailBackend):
    """Builds each message as the SMTP backend would send it, counts it, keeps nothing."""

    messages = 0
    items = 0
    octets = 0

    def send_messages(self, email_messages: Any) -> int:
        started = time.perf_counter()
        for message in email_messages:
            data = message.message().as_bytes(linesep="\r\n")
            found = re.search(r"\((\d+)\)$", message.subject)
            CountingBackend.messages += 1
            CountingBackend.items += int(found.group(1)) if found else 0
            CountingBackend.octets += len(data)
        SPENT["backend"] += time.perf_counter() - started
        return len(email_messages)


def time_the_steps(delivery: Any) -> None:
    """Wrap the digest run's steps in timers for the breakdown: they are module
    functions the run looks up at call time, and a timer costs well under 1%."""

    def timed(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                SPENT[name] += time.perf_counter() - started

        return wrapper

    for name in STEPS:
        if hasattr(delivery, name):  # an older delivery.py, for a before/after run
            setattr(delivery, name, timed(name, getattr(delivery, name)))


STEPS = (
    "_digest_chunk",
    "_locked_pending",
    "_addresses",
    "_left_their_group",
    "_digest_message",
)


def breakdown(total: float) -> dict[str, float]:
    """Seconds per step; what the timers do not cover is derived by subtraction."""
    inside = sum(SPENT[name] for name in STEPS[1:]) + SPENT["backend"]
    return {
        "member-id pages": total - SPENT["_digest_chunk"],
        "lock pending rows": SPENT["_locked_pending"],
        "addresses": SPENT["_addresses"],
        "group re-check": SPENT["_left_their_group"],
        "build digests (templates, message)": SPENT["_digest_message"],
        "backend (MIME bytes)": SPENT["backend"],
        "mark rows, commit, rest": SPENT["_digest_chunk"] - inside,
    }


# --- the database -------------------------------------------------------------------


def create_database(work: Path, random_page_cost: float | None) -> tuple[str, str]:
    """A fresh, empty database: (DATABASE_URL, what it is)."""
    try:
        with pg_connect() as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
            if random_page_cost is not None:
                conn.execute(
                    f'ALTER DATABASE "{DB_NAME}" SET random_page_cost = '
                    f"{float(random_page_cost)}"
                )
            cost = conn.execute("SHOW random_page_cost").fetchone()[0]
        cost = random_page_cost if random_page_cost is not None else cost
        return (
            f"{PG_ADMIN_URL}/{DB_NAME}",
            f"PostgreSQL {version} ({DB_NAME}, random_page_cost {cost})",
        )
    except Exception as error:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        log(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({error}): "
            "FALLING BACK TO SQLITE, figures are not PostgreSQL's"
        )
        import sqlite3

        path = work / "bench_digests.sqlite3"
        return f"sqlite:///{path}", f"SQLite {sqlite3.sqlite_version} (fallback)"


def django_env(url: str, work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "commonground.site.settings",
            "DATABASE_URL": url,
            # DEBUG off: with it on Django keeps every SQL statement in memory.
            "DJANGO_DEBUG": "false",
            "SITE_URL": "https://members.example.org",
            "COMMONGROUND_HOME": str(work),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("REDIS_URL", None)
    return env


def run_phase(phase: str, env: dict[str, str], args: argparse.Namespace) -> Any:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--phase",
        phase,
        "--members",
        str(args.members),
        "--items",
        str(args.items),
        "--chunk-size",
        str(args.chunk_size),
    ]
    if args.profile and phase == "run":
        command += ["--profile", str(args.profile)]
    result = subprocess.run(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"the {phase} phase failed (exit {result.returncode})")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- set-up (child process) -----------------------------------------------------------


def setup_members(members: int) -> tuple[list[tuple[int, int]], list[int]]:
    """Branches and members: ((member id, branch id) pairs, leaver ids)."""
    from datetime import timedelta

    from django.utils import timezone

    from commonground.members import services as members_services
    from commonground.members.models import Group, Membership, Organisation, User

    now = timezone.now()
    organisation = Organisation.objects.create(name="Bench movement", slug="bench")
    branches = [
        members_services.group_create(
            actor=None,
            organisation=organisation,
            name=f"Branch {n}",
            slug=f"branch-{n}",
            kind=Group.Kind.BRANCH,
        ).pk
        for n in range((members + BRANCH_SIZE - 1) // BRANCH_SIZE)
    ]
    unusable = User()
    unusable.set_unusable_password()
    User.objects.bulk_create(
        (
            User(
                email=f"member{i:06d}@bench.invalid",
                display_name=f"Member {i}",
                password=unusable.password,
            )
            for i in range(members)
        ),
        batch_size=5000,
    )
    ids = list(
        User.objects.filter(email__endswith="@bench.invalid")
        .order_by("id")
        .values_list("id", flat=True)
    )
    branch_of = [branches[i // BRANCH_SIZE] for i in range(members)]
    Membership.objects.bulk_create(
        (
            Membership(
                user_id=member_id,
                group_id=branch_of[i],
                status=Membership.Status.LEFT
                if i % LEAVER_EVERY == 0
                else Membership.Status.ACTIVE,
                since=now - timedelta(days=60),
            )
            for i, member_id in enumerate(ids)
        ),
        batch_size=5000,
    )
    return list(zip(ids, branch_of, strict=True)), ids[::LEAVER_EVERY]


def setup_notifications(pairs: list[tuple[int, int]], items: int) -> None:
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from commonground.notifications.models import Notification

    start = timezone.now() - timedelta(hours=20)
    body = "Voting has closed. " * 12

    def rows() -> Any:
        for member_id, branch_id in pairs:
            for n in range(items):
                ballot = branch_id * 1000 + n
                yield (
                    member_id,
                    KINDS[n % len(KINDS)],
                    branch_id,
                    f"/decisions/ballots/{ballot}/results/",
                    f"Results of ballot {ballot}: the motion on branch rules",
                    body,
                    "",
                    True,
                    start + timedelta(minutes=n),
                )

    columns = [
        "recipient_id",
        "kind",
        "group_id",
        "url",
        "title",
        "body",
        "html",
        "in_app",
        "created_at",
    ]
    bulk_insert(Notification, columns, rows())
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO notifications_delivery (notification_id, channel, status) "
            "SELECT id, 'daily', 'pending' FROM notifications_notification"
        )
        cursor.execute(
            "INSERT INTO notifications_delivery "
            "(notification_id, channel, status, sent_at) "
            "SELECT id, 'email', 'sent', created_at FROM notifications_notification "
            f"WHERE id % {EMAILED_EVERY} = 0"
        )


def phase_setup(args: argparse.Namespace) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection, transaction

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter()
    with transaction.atomic():
        pairs, leavers = setup_members(args.members)
        setup_notifications(pairs, args.items)
    filled = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
        )
    log(
        f"set-up: migrate {migrated - started:.1f} s, rows "
        f"{filled - migrated:.1f} s, analyse {time.perf_counter() - filled:.1f} s"
    )
    return {
        "migrate_s": migrated - started,
        "rows_s": filled - migrated,
        "total_s": time.perf_counter() - started,
        "members": len(pairs),
        "leavers": len(leavers),
    }


# --- the measured run (child process) ---------------------------------------------------


def rss_now_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def phase_run(args: argparse.Namespace) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection

    from commonground.notifications import delivery

    settings.EMAIL_BACKEND = f"{__name__}.CountingBackend"
    connection.ensure_connection()
    time_the_steps(delivery)
    rss_before = rss_now_mb()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu_started, started = time.process_time(), time.perf_counter()
    sent = delivery.digests_send(channel="daily", chunk_size=args.chunk_size)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "sent": sent,
        "emails_built": CountingBackend.messages,
        "items_in_emails": CountingBackend.items,
        "mime_bytes": CountingBackend.octets,
        "rss_before_mb": rss_before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "breakdown": breakdown(seconds),
    }


def phase_verify(args: argparse.Namespace) -> dict[str, Any]:
    from django.db.models import Count

    from commonground.notifications.models import Delivery

    by_status = {
        f"{row['channel']}:{row['status']}": row["n"]
        for row in Delivery.objects.values("channel", "status").annotate(n=Count("id"))
    }
    members_sent = (
        Delivery.objects.filter(channel="daily", status="sent")
        .values("notification__recipient_id")
        .distinct()
        .count()
    )
    return {"by_status": by_status, "members_with_a_digest": members_sent}


# --- orchestration ------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown CPU"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import django

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "load": os.getloadavg()[0],
    }


def check(
    args: argparse.Namespace, setup: dict[str, Any], run: dict[str, Any], db: Any
) -> list[str]:
    """What does not add up (empty when all is well)."""
    stayed = setup["members"] - setup["leavers"]
    statuses = db["by_status"]
    problems = []
    if statuses.get("daily:pending", 0):
        problems.append(f"{statuses['daily:pending']} daily rows still pending")
    if not run["sent"] == run["emails_built"] == stayed == db["members_with_a_digest"]:
        problems.append(
            f"emails {run['sent']}/{run['emails_built']}, members with a digest "
            f"{db['members_with_a_digest']}, members who stayed {stayed}"
        )
    if run["items_in_emails"] != statuses.get("daily:sent", 0):
        problems.append("items listed in the emails != daily rows marked sent")
    skipped = statuses.get("daily:skipped", 0)
    if skipped + statuses.get("daily:sent", 0) != setup["members"] * args.items:
        problems.append("sent + skipped != items")
    return problems


def report(
    args: argparse.Namespace,
    database: str,
    setup: dict[str, Any],
    run: dict[str, Any],
    db: dict[str, Any],
    info: dict[str, Any],
) -> None:
    print(
        f"machine: {info['cpu']}, {info['cores']} cores (shared with other work), "
        f"load average {info['load']:.2f} before, {os.getloadavg()[0]:.2f} after; "
        f"Python {info['python']}, Django {info['django']}; {database}"
    )
    print(
        f"data: {setup['members']:,} members x {args.items} pending daily items "
        f"({setup['leavers']:,} members left their branch since; one item in "
        f"{EMAILED_EVERY} emailed already); set-up {setup['total_s']:.1f} s "
        f"(not measured: migrate {setup['migrate_s']:.1f} s, rows {setup['rows_s']:.1f} s)"
    )
    print(
        f"digests_send(channel='daily', chunk_size={args.chunk_size}): "
        f"{run['seconds']:.1f} s wall, {run['cpu_seconds']:.1f} s CPU (Python process); "
        f"{run['emails_built']:,} emails built and queued "
        f"({run['emails_built'] / run['seconds']:.0f}/s, "
        f"{run['items_in_emails']:,} items, {run['mime_bytes'] / 2**20:.0f} MiB MIME), "
        "CountingBackend (builds the MIME bytes, discards them)"
    )
    print(
        f"memory: peak RSS {run['peak_rss_mb']:.0f} MB "
        f"(RSS before the run {run['rss_before_mb']:.0f} MB)"
    )
    print(
        "where the time goes: "
        + "; ".join(
            f"{step} {spent:.1f} s ({100 * spent / run['seconds']:.0f}%)"
            for step, spent in run["breakdown"].items()
        )
    )
    print(f"rows after: {json.dumps(db['by_status'], sort_keys=True)}")
    ratio = run["seconds"] / TARGET_SECONDS
    print(
        f"target: <= {TARGET_SECONDS:.0f} s; {run['seconds']:.1f} s = {ratio:.2f} x "
        f"target ({1 / ratio:.1f}x inside it): {'MET' if ratio <= 1 else 'NOT met'}"
    )


def orchestrate(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench_digests_"))
    info = machine()
    url, database = create_database(work, args.random_page_cost)
    log(f"database: {database}")
    env = django_env(url, work)
    failed = False
    try:
        setup = run_phase("setup", env, args)
        log("measuring digests_send(channel='daily') ...")
        run = run_phase("run", env, args)
        db = run_phase("verify", env, args)
        report(args, database, setup, run, db, info)
        problems = check(args, setup, run, db)
        for problem in problems:
            print(f"CHECK FAILED: {problem}")
        failed = bool(problems)
    except Exception as error:  # noqa: BLE001 - report, clean up, fail
        print(f"bench_digests FAILED: {error}")
        failed = True
    finally:
        if not args.keep_db:
            with suppress(Exception):
                drop_database(url, DB_NAME)
            shutil.rmtree(work, ignore_errors=True)
        log(f"cleaned up: database {'kept' if args.keep_db else 'removed'}")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_digests.py")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--profile", type=Path, help="cProfile the measured run")
    parser.add_argument(
        "--random-page-cost",
        type=float,
        help="PostgreSQL planner setting for the benchmark database (default: the "
        "server's); 1.1 is the usual value on SSDs",
    )
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--phase", choices=["setup", "run", "verify"])
    args = parser.parse_args(argv)
    if args.phase is None:
        return orchestrate(args)
    import django

    django.setup()
    phases = {"setup": phase_setup, "run": phase_run, "verify": phase_verify}
    print(json.dumps(phases[args.phase](args)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
