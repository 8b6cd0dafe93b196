"""A newsletter to 100,000 members: from "send" to every chunk task queued, then the
chunk tasks' sending throughput.

Issue 13's bar: a newsletter to 100,000 members is queued (every recipient row
written, every chunk task handed to the broker) within 120 s of the organiser's
"send" on the project's 2-core machine. There is no peer product, so the figure is
printed against the target as a ratio. One command does everything and cleans up:

1. drops and recreates the PostgreSQL database ``cg_bench_newsletters``
   (``BENCH_PG_URL``, default postgres://postgres@127.0.0.1:5432) and migrates it; if
   PostgreSQL is not reachable it says so and uses a SQLite file in a temporary
   folder instead;
2. set-up, timed separately (a child process): a national group with 20 branches of
   5,000 active members each (``--members``), 1% of whom switched newsletters off and
   0.5% whose address bounced, and a draft newsletter from the national group to all
   of them. Users and memberships go in through COPY (SQLite: ``executemany``); then
   VACUUM ANALYZE, as autovacuum would have done;
3. the measured "send" (a child process, Celery not eager, its broker kombu's
   in-memory transport so queueing costs what publishing costs and nothing runs):
   ``newsletter_schedule(send_at=None)`` (the Send now button) and
   ``newsletter_send_start`` (what the start task does in a worker): audience query,
   preference look-ups, bulk inserts of the recipient rows, the audit entry, the
   commit, and one ``send_chunk`` message per ``NEWSLETTER_BATCH_SIZE`` rows published;
   it checks the rows and the messages in the broker;
4. sending throughput (a child process): the chunk tasks' code
   (``services.chunk_send``: re-check of the audience and preferences per chunk, then
   per email a locked row, the message built and handed over, the row marked sent)
   for ``--send`` recipients into :class:`CountingBackend`, which builds each
   message's MIME bytes (as Django's SMTP backend does), counts them and keeps
   nothing; pacing off, so this is the capacity, not the configured rate; then the
   same chunks again, which must send nothing (exactly once);
5. prints the machine, the figures and the ratio to the target, and drops the
   database (or removes the SQLite file), also on failure or Ctrl-C.

Usage: .venv/bin/python benchmarks/bench_newsletters.py [--members 100000]
       [--send 10000] [--batch-size 200] [--keep-db]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from database_setup import PG_ADMIN_URL, bulk_insert, drop_database, pg_connect
from django.core.mail.backends.base import BaseEmailBackend

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DB_NAME = os.environ.get("BENCH_NEWSLETTERS_DB", "cg_bench_newsletters")
TARGET_SECONDS = 120.0
BRANCH_SIZE = 5000
OPTED_OUT_EVERY = 100  # one member in 100 switched the group's newsletters off
BOUNCED_EVERY = 200  # one address in 200 bounced before


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class CountingBackend(BaseEmailBackend):
    """Builds each message as the SMTP backend would send it, counts it, keeps nothing."""

    messages = 0
    octets = 0

    def send_messages(self, email_messages: Any) -> int:
        for message in email_messages:
            data = message.message().as_bytes(linesep="\r\n")
            CountingBackend.messages += 1
            CountingBackend.octets += len(data)
        return len(email_messages)


# --- the database -------------------------------------------------------------------


def create_database(work: Path) -> tuple[str, str]:
    """A fresh, empty database: (DATABASE_URL, what it is)."""
    try:
        with pg_connect() as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        return f"{PG_ADMIN_URL}/{DB_NAME}", f"PostgreSQL {version} ({DB_NAME})"
    except Exception as error:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        log(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({error}): "
            "FALLING BACK TO SQLITE, figures are not PostgreSQL's"
        )
        import sqlite3

        path = work / "bench_newsletters.sqlite3"
        return f"sqlite:///{path}", f"SQLite {sqlite3.sqlite_version} (fallback)"


def django_env(url: str, work: Path, batch_size: int) -> dict[str, str]:
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
            # Tasks are published, not run: kombu's in-memory broker.
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_BROKER_URL": "memory://localhost/",
            "COMMONGROUND_NEWSLETTER_RATE": "10",
            "COMMONGROUND_NEWSLETTER_BATCH": str(batch_size),
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
        "--send",
        str(args.send),
    ]
    result = subprocess.run(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"the {phase} phase failed (exit {result.returncode})")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- set-up (child process) -----------------------------------------------------------


def _groups(branches: int) -> tuple[Any, list[Any], Any]:
    from commonground.members import services as member_services
    from commonground.members.models import Group, Organisation, Role, RoleAssignment
    from commonground.members.models import User as Member

    organisation = Organisation.objects.create(name="Bench Union", slug="bench-union")
    national = member_services.group_create(
        actor=None,
        organisation=organisation,
        name="National",
        slug="national",
        kind=Group.Kind.NATIONAL,
        parent=None,
        join_policy=Group.JoinPolicy.OPEN,
    )
    branch_groups = [
        member_services.group_create(
            actor=None,
            organisation=organisation,
            name=f"Branch {number}",
            slug=f"branch-{number}",
            kind=Group.Kind.BRANCH,
            parent=national,
            join_policy=Group.JoinPolicy.OPEN,
        )
        for number in range(branches)
    ]
    organiser = Member.objects.create_user(
        email="organiser@bench.example", password=None, display_name="Organiser"
    )
    from django.utils import timezone

    RoleAssignment.objects.create(
        user=organiser, group=national, role=Role.ORGANISER, assigned_at=timezone.now()
    )
    return national, branch_groups, organiser


def setup(members: int) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from commonground.members.models import Membership
    from commonground.members.models import User as Member
    from commonground.newsletters import services
    from commonground.notifications.models import Preference

    national, branch_groups, organiser = _groups(max(1, members // BRANCH_SIZE))
    now = timezone.now()
    first = (Member.objects.order_by("-pk").values_list("pk", flat=True).first()) + 1
    ids = range(first, first + members)
    bulk_insert(
        Member,
        ["id", "password", "is_superuser", "email", "display_name", "visibility"]
        + ["is_staff", "is_active", "date_joined", "time_zone"]
        + ["email_bounced_at", "email_bounce_reason"],
        (
            (pk, "!", False, f"member{pk}@bench.example", f"Member {pk}", "members")
            + (False, True, now, "")
            + ((now, "5.1.1") if pk % BOUNCED_EVERY == 0 else (None, ""))
            for pk in ids
        ),
    )
    bulk_insert(
        Membership,
        ["user_id", "group_id", "status", "since"],
        (
            (pk, branch_groups[n % len(branch_groups)].pk, "active", now)
            for n, pk in enumerate(ids)
        ),
    )
    bulk_insert(
        Preference,
        ["member_id", "group_id", "kind", "channel"],
        (
            (pk, national.pk, "newsletters.newsletter", "none")
            for pk in ids
            if pk % OPTED_OUT_EVERY == 0
        ),
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{Member._meta.db_table}', 'id'), %s)",
                [first + members],
            )  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
        )
    newsletter = services.newsletter_create(
        actor=organiser,
        group=national,
        subject="Our spring newsletter",
        body="Dear members,\n\n**The conference** is on 4 April. "
        "[Register here](https://example.org/register).\n\n- Motions\n- Hustings\n",
        audience_group=national,
        statuses=["active"],
    )
    bounced = sum(1 for pk in ids if pk % BOUNCED_EVERY == 0)
    opted_out = sum(
        1 for pk in ids if pk % OPTED_OUT_EVERY == 0 and pk % BOUNCED_EVERY != 0
    )
    return {
        "newsletter": newsletter.pk,
        "organiser": organiser.pk,
        "members": members,
        "audience": members - bounced,
        "recipients": members - bounced - opted_out,
    }


# --- the measured send (child process) -----------------------------------------------


def queued_messages() -> int:
    """send_chunk and start messages waiting in the in-memory broker."""
    from commonground.site.celery import app

    with app.connection_for_write() as conn:
        return int(
            conn.default_channel.queue_declare("celery", passive=True).message_count
        )


def queue(data: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection

    from commonground.members.models import User as Member
    from commonground.newsletters import services
    from commonground.newsletters.models import Newsletter, Recipient

    organiser = Member.objects.get(pk=data["organiser"])
    newsletter = Newsletter.objects.select_related("group").get(pk=data["newsletter"])
    started = time.perf_counter()
    cpu = time.process_time()
    services.newsletter_schedule(actor=organiser, newsletter=newsletter)
    services.newsletter_send_start(newsletter_id=newsletter.pk)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    newsletter.refresh_from_db()
    rows = Recipient.objects.filter(newsletter=newsletter, status="pending").count()
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "audience": newsletter.audience_count,
        "recipients": newsletter.recipient_count,
        "pending_rows": rows,
        "broker_messages": queued_messages(),
        "status": newsletter.status,
        "vendor": connection.vendor,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


# --- sending throughput (child process) -----------------------------------------------


def send(data: dict[str, Any], count: int) -> dict[str, Any]:
    from commonground.newsletters import services
    from commonground.newsletters.models import Recipient
    from commonground.newsletters.services._shared import batch_size

    ids = list(
        Recipient.objects.filter(newsletter_id=data["newsletter"], status="pending")
        .order_by("pk")
        .values_list("pk", flat=True)[:count]
    )
    size = batch_size()
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
    backend = CountingBackend()

    def run_all() -> int:
        return sum(
            services.chunk_send(
                newsletter_id=data["newsletter"],
                first_id=chunk[0],
                last_id=chunk[-1],
                connection=backend,
            )
            for chunk in chunks
        )

    started = time.perf_counter()
    cpu = time.process_time()
    sent = run_all()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    again = run_all()  # every chunk delivered a second time
    return {
        "sent": sent,
        "built": CountingBackend.messages,
        "octets": CountingBackend.octets,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "per_second": round(sent / seconds, 1) if seconds else None,
        "chunks": len(chunks),
        "sent_again": again,
    }


# --- main ----------------------------------------------------------------------------


def child(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    state = Path(os.environ["COMMONGROUND_HOME"]) / "state.json"
    if args.phase == "setup":
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        result = setup(args.members)
        result["seconds"] = round(time.perf_counter() - started, 1)
        state.write_text(json.dumps(result))
    elif args.phase == "queue":
        result = queue(json.loads(state.read_text()))
    else:
        result = send(json.loads(state.read_text()), args.send)
    print(json.dumps(result))
    return 0


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )


def report(database: str, args: argparse.Namespace, results: dict[str, Any]) -> bool:
    built, queued, sent = results["setup"], results["queue"], results["send"]
    chunks = -(-queued["recipients"] // args.batch_size)
    ok = (
        queued["status"] == "sending"
        and queued["audience"] == built["audience"]
        and queued["recipients"] == built["recipients"]
        and queued["pending_rows"] == queued["recipients"]
        and queued["broker_messages"] == chunks + 1  # the chunks and the start task
        and sent["sent"] == sent["built"] == min(args.send, queued["recipients"])
        and sent["sent_again"] == 0
    )
    ratio = queued["seconds"] / TARGET_SECONDS
    log("")
    log(f"machine: {machine()}")
    log(f"database: {database}")
    log(f"set-up (not timed): {built['members']} members in {built['seconds']} s")
    log(
        f"send -> queued: {queued['seconds']:.2f} s wall ({queued['cpu_seconds']:.2f} s "
        f"CPU in Django) for {queued['audience']} members in the audience, "
        f"{queued['recipients']} recipient rows, {queued['broker_messages']} messages "
        f"in the broker ({chunks} chunks of {args.batch_size} + the start task); "
        f"peak RSS {queued['peak_rss_mb']} MB"
    )
    log(
        f"target: queued within {TARGET_SECONDS:.0f} s: {ratio:.3f} x the target "
        f"({TARGET_SECONDS / queued['seconds']:.0f} x faster than needed); "
        f"{'MET' if queued['seconds'] <= TARGET_SECONDS else 'NOT met'}"
    )
    log(
        f"sending: {sent['sent']} emails in {sent['chunks']} chunks in "
        f"{sent['seconds']:.2f} s ({sent['cpu_seconds']:.2f} s CPU in Django) = "
        f"{sent['per_second']} emails/s "
        f"({1000 * sent['seconds'] / max(sent['sent'], 1):.2f} ms each, "
        f"{sent['octets'] // max(sent['built'], 1)} bytes each); "
        f"the same chunks again sent {sent['sent_again']}"
    )
    log(f"checks: {'OK' if ok else 'FAILED'}")
    return ok


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench_newsletters.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument(
        "--send", type=int, default=10_000, help="recipients to send in step 4"
    )
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--phase", choices=["setup", "queue", "send"])
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.phase:
        return child(args)
    work = Path(tempfile.mkdtemp(prefix="bench-newsletters-"))
    url, database = create_database(work)
    env = django_env(url, work, args.batch_size)
    ok = False
    try:
        log(f"database {database}: migrate and set up {args.members} members")
        results = {"setup": run_phase("setup", env, args)}
        log("measuring send -> queued")
        results["queue"] = run_phase("queue", env, args)
        log(f"measuring the chunk tasks on {args.send} recipients")
        results["send"] = run_phase("send", env, args)
        ok = report(database, args, results)
    except Exception as error:  # noqa: BLE001 - report, clean up, fail
        log(f"bench_newsletters FAILED: {error}")
    finally:
        if not args.keep_db:
            with suppress(Exception):
                drop_database(url, DB_NAME)
        shutil.rmtree(work, ignore_errors=True)
        log(f"cleaned up: database {'kept' if args.keep_db else 'dropped'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
