"""Conversations: answers per second over HTTP, and the opinion map's refresh at scale.

Issue 14's bars, on the project's 2-core machine:

1. **Votes over HTTP** (target >= 1,000 votes/s with p99 <= 50 ms): recreates the
   PostgreSQL database ``commonground_bench_conversations``, migrates it, and (the
   ``setup-votes`` action of this script, in a subprocess pointed at that database)
   builds a branch of ``--members`` members with one logged-in session and CSRF pair
   each and one open conversation of ``--statements`` statements through the
   platform's services. It starts gunicorn (``--workers`` sync workers, production
   settings: DEBUG off, Redis cache, sessions and Celery broker) and a Celery worker
   that refreshes the map in the background as votes come in, then runs wrk:
   every request is the htmx POST a browser sends when a member answers
   (``/conversations/<pk>/vote/`` with CSRF token, session cookie and
   ``HX-Request``), a random member, statement and answer; only ``200`` answers
   count. It prints votes/s, p50/p90/p99, every other status and socket error, the
   server CPU per vote (gunicorn, PostgreSQL backends, the Celery worker) and what
   the server side alone would sustain on the idle cores, then checks the database:
   one history row per answered request, one current vote per (statement,
   participant) equal to its last history row.
2. **Map refresh** (target <= 2 s from a burst of 1,000 new votes to a refreshed map,
   on 100,000 participants x 2,000 statements): the ``map`` action builds such a
   conversation in the same database with PostgreSQL ``COPY`` (seeded generator as in
   ../shared/specs/opinion.md §9.3: 6 latent groups, 50 statements a participant,
   popularity 1/(rank+10), agree probability Beta(2, 2) per group and statement, 15 %
   passes), runs the first (cold) refresh, then ``--bursts`` times: 1,000 votes
   through the vote path's own statement (half by 100 new participants, half changed
   answers), then ``map_refresh`` (the background task's work: history since the last
   refresh, the engine's ``partial_fit`` on the warm map, page data, storage). Median
   and every run are printed.

Skips (exit 0, with the reason) when PostgreSQL, Redis or wrk is missing. Cleans up
the database, the Redis keys it added and its files, also on failure.

Usage: .venv/bin/python benchmarks/bench_conversations.py [--duration 20]
       [--members 2000] [--statements 200] [--workers 4] [--connections 32]
       [--participants 100000] [--map-statements 2000] [--bursts 5]
       [--skip-http] [--skip-map] [--keep-db]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import bench_casts as shared  # noqa: E402 - the cast benchmark's service helpers

DB_NAME = os.environ.get("BENCH_CONVERSATIONS_DB", "commonground_bench_conversations")
TARGET_VOTES_PER_S = 1000.0
TARGET_P99_MS = 50.0
TARGET_REFRESH_S = 2.0
SUCCESS = 200

# wrk: a random member, statement and answer per request; count statuses.
WRK_LUA = r"""
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + id * 7919)
  members = {}
  for line in io.lines(args[1]) do
    local cookie, token = line:match("^([^\t]+)\t([^\t]+)$")
    members[#members + 1] = {cookie, token}
  end
  statements = {}
  for line in io.lines(args[2]) do statements[#statements + 1] = line end
  path = args[3]
  answers = {"agree", "disagree", "pass"}
  statuses = {}
  sample = ""
end

function request()
  local member = members[math.random(#members)]
  local body = "csrfmiddlewaretoken=" .. member[2] ..
    "&statement=" .. statements[math.random(#statements)] ..
    "&vote=" .. answers[math.random(3)]
  local headers = {
    ["Cookie"] = member[1],
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["HX-Request"] = "true",
  }
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status ~= 200 and sample == "" then sample = string.sub(body, 1, 300) end
end

function done(summary, latency, requests)
  local total = {}
  local samples = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
    local smp = thread:get("sample")
    if smp ~= "" then samples[#samples + 1] = smp end
  end
  local parts = {}
  for status, n in pairs(total) do
    parts[#parts + 1] = string.format('"%d":%d', status, n)
  end
  local sample = (samples[1] or ""):gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('%c', ' ')
  io.write(string.format(
    'WRKJSON {"duration_us":%d,"requests":%d,"statuses":{%s},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"sample":"%s"}\n',
    summary.duration, summary.requests, table.concat(parts, ","),
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, sample))
end
"""


def log(message: str) -> None:
    print(message, flush=True)


# --- actions run inside Django (subprocess with the benchmark's environment) ---------


def _django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commonground.site.settings")
    django.setup()


def setup_votes(members: int, statements: int, out: Path) -> dict[str, Any]:
    """A branch, its members with sessions, and one open conversation."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.middleware.csrf import get_token
    from django.test import RequestFactory
    from django.utils import timezone

    from commonground.conversations import services
    from commonground.core.middleware import SESSION_STARTED_KEY
    from commonground.members import services as members_services
    from commonground.members.models import Group, Membership, Organisation, User

    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    organisation = Organisation.objects.create(name="Bench movement", slug="bench")
    group = members_services.group_create(
        actor=None,
        organisation=organisation,
        name="Bench branch",
        slug="bench-branch",
        kind=Group.Kind.BRANCH,
    )
    users = [
        User(email=f"member{i:06d}@bench.invalid", display_name=f"Member {i}")
        for i in range(members + 1)
    ]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users, batch_size=1000)
    users = list(User.objects.filter(email__endswith="@bench.invalid").order_by("id"))
    Membership.objects.bulk_create(
        [
            Membership(
                user=user,
                group=group,
                status=Membership.Status.ACTIVE,
                since=timezone.now(),
            )
            for user in users
        ],
        batch_size=1000,
    )
    organiser, voters = users[0], users[1:]
    members_services.role_grant_founding_admin(
        group=group, user=organiser, reason="benchmark set-up"
    )
    conversation = services.conversation_create(
        actor=organiser,
        group=group,
        settings=services.ConversationSettings(question="What should we do next?"),
        seeds=[f"Benchmark statement number {n}." for n in range(statements)],
        notify=False,
    )
    factory = RequestFactory()
    rows = []
    started = int(time.time())
    for user in voters:
        session = session_store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[SESSION_STARTED_KEY] = started
        session.create()
        request = factory.get("/")
        token = get_token(request)
        rows.append(
            {
                "session": session.session_key,
                "csrf_secret": request.META["CSRF_COOKIE"],
                "csrf_token": token,
            }
        )
    data = {
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "conversation": conversation.pk,
        "path": f"/conversations/{conversation.pk}/vote/",
        "statements": list(conversation.statements.values_list("pk", flat=True)),
        "members": rows,
    }
    out.write_text(json.dumps(data))
    return {"members": len(rows), "conversation": conversation.pk}


def vote_queries(data: dict[str, Any]) -> dict[str, Any]:
    """The SQL statements of one htmx answer through the whole middleware stack."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from commonground.members.models import User

    member = User.objects.filter(email__endswith="@bench.invalid").order_by("-id")[0]
    client = Client(HTTP_HX_REQUEST="true")
    client.force_login(member)
    counts = []
    statements = data["statements"]
    for index in range(3):  # a first answer (joins), then two more
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                data["path"], {"statement": statements[index], "vote": "agree"}
            )
        counts.append((response.status_code, len(captured.captured_queries)))
    sql = [q["sql"].split()[0:3] for q in captured.captured_queries]
    return {"first": counts[0], "later": counts[2], "later_sql": sql}


def verify_votes(data: dict[str, Any]) -> dict[str, Any]:
    """One vote per (statement, participant), equal to its last history row."""
    from django.db import connection

    conversation = data["conversation"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM conversations_voteevent WHERE conversation_id = %s",
            [conversation],
        )
        events = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*), count(DISTINCT (statement_id, participant_id)) "
            "FROM conversations_vote WHERE conversation_id = %s",
            [conversation],
        )
        votes, distinct = cursor.fetchone()
        cursor.execute(
            """
            SELECT count(*) FROM conversations_vote v
            JOIN LATERAL (
                SELECT e.value FROM conversations_voteevent e
                WHERE e.statement_id = v.statement_id
                  AND e.participant_id = v.participant_id
                ORDER BY e.id DESC LIMIT 1) last ON true
            WHERE v.conversation_id = %s AND last.value <> v.value
            """,
            [conversation],
        )
        mismatched = cursor.fetchone()[0]
    return {
        "history_rows": events,
        "votes": votes,
        "one_per_pair": votes == distinct,
        "last_history_mismatches": mismatched,
    }


def build_map_conversation(
    participants: int, statements: int, seed: int
) -> dict[str, Any]:
    """A conversation of ``participants`` x ``statements`` with ~50 answers each,
    written with COPY (bulk rows a long-running conversation would already hold)."""
    import numpy as np
    from django.db import connection
    from django.utils import timezone

    from commonground.conversations.models import Conversation
    from commonground.members.models import Group

    rng = np.random.default_rng(seed)
    group = Group.objects.get(slug="bench-branch")
    now = timezone.now()
    conversation = Conversation.objects.create(
        group=group,
        question="A very large conversation",
        created_at=now,
        next_statement_number=statements,
        next_participant_number=participants,
    )
    started = time.perf_counter()
    n_groups = 6
    shares = np.array([0.30, 0.25, 0.20, 0.12, 0.08, 0.05])
    latent = rng.choice(n_groups, size=participants, p=shares)
    agree_probability = rng.beta(2, 2, size=(n_groups, statements))
    popularity = 1.0 / (np.arange(statements) + 10)
    popularity /= popularity.sum()
    per_person = 50
    chosen = np.empty((participants, per_person), dtype=np.int64)
    for start in range(0, participants, 10_000):
        stop = min(start + 10_000, participants)
        # Weighted sampling without replacement: the largest log(u) / weight.
        keys = np.log(rng.random((stop - start, statements))) / popularity
        chosen[start:stop] = np.argpartition(-keys, per_person, axis=1)[:, :per_person]
    person = np.repeat(np.arange(participants), per_person)
    statement = chosen.ravel()
    draw = rng.random(len(person))
    agree = draw < agree_probability[latent[person], statement]
    passed = rng.random(len(person)) < 0.15
    value = np.where(passed, 0, np.where(agree, 1, -1)).astype(np.int64)
    at_ms = int(now.timestamp() * 1000) - 86_400_000 + np.arange(len(person)) // 100
    generated = time.perf_counter() - started
    cid = conversation.pk
    raw = connection.connection
    started = time.perf_counter()
    with raw.cursor() as cursor:
        with cursor.copy(
            "COPY conversations_statement (conversation_id, number, text, text_key, "
            "is_seed, is_meta, status, moderator_accepted, created_at_ms, priority, "
            "report_count, moderation_reason) FROM STDIN"
        ) as copy:
            for number in range(statements):
                copy.write_row(
                    (
                        cid,
                        number,
                        f"Statement {number}",
                        f"statement {number}",
                        False,
                        False,
                        "accepted",
                        False,
                        0,
                        5.0,
                        0,
                        "",
                    )
                )
        with cursor.copy(
            "COPY conversations_participant (conversation_id, number, joined_at) FROM STDIN"
        ) as copy:
            for number in range(participants):
                copy.write_row((cid, number, now))
        cursor.execute(
            "SELECT number, id FROM conversations_statement WHERE conversation_id = %s",
            [cid],
        )
        statement_id = dict(cursor.fetchall())
        cursor.execute(
            "SELECT number, id FROM conversations_participant WHERE conversation_id = %s",
            [cid],
        )
        participant_id = dict(cursor.fetchall())
        s_ids = np.array([statement_id[n] for n in range(statements)], dtype=np.int64)
        p_ids = np.array(
            [participant_id[n] for n in range(participants)], dtype=np.int64
        )
        columns = np.stack(
            [np.full(len(person), cid), s_ids[statement], p_ids[person], value, at_ms],
            axis=1,
        )
        for table in ("conversations_vote", "conversations_voteevent"):
            with cursor.copy(
                f"COPY {table} (conversation_id, statement_id, participant_id, value, "
                "at_ms) FROM STDIN"
            ) as copy:
                for start in range(0, len(columns), 200_000):
                    block = columns[start : start + 200_000]
                    copy.write(
                        "".join(
                            "\t".join(map(str, row)) + "\n" for row in block.tolist()
                        )
                    )
        for table in (
            "conversations_statement",
            "conversations_participant",
            "conversations_vote",
            "conversations_voteevent",
        ):
            cursor.execute(f"ANALYZE {table}")
    return {
        "conversation": cid,
        "votes": int(len(person)),
        "generate_s": round(generated, 1),
        "copy_s": round(time.perf_counter() - started, 1),
        "participant_ids": [int(p_ids[0]), int(p_ids[-1])],
        "statement_ids": s_ids.tolist(),
    }


def map_bench(
    participants: int, statements: int, bursts: int, seed: int
) -> dict[str, Any]:
    """Build the large conversation, refresh cold once, then burst and refresh."""
    import numpy as np
    from django.db import connection
    from django.utils import timezone

    from commonground.conversations.services import clock, maps, voting

    built = build_map_conversation(participants, statements, seed)
    cid = built["conversation"]
    log(
        f"map: {participants:,} participants x {statements:,} statements, "
        f"{built['votes']:,} votes (generated in {built['generate_s']} s, COPY "
        f"{built['copy_s']} s)"
    )
    started = time.perf_counter()
    cold = maps.map_refresh(conversation_id=cid, force=True)
    cold_s = time.perf_counter() - started
    # A refresh right after the cold one re-reads the last seconds' history once.
    maps.map_refresh(conversation_id=cid)
    log(f"map: first (cold) refresh {cold_s:.2f} s, k = {cold.k}")
    rng = np.random.default_rng(seed + 1)
    statement_ids = np.array(built["statement_ids"], dtype=np.int64)
    runs = []
    for burst in range(bursts):
        inserted = 0
        started = time.perf_counter()
        # 500 answers by 100 newcomers (5 each), 500 changed answers by existing ones.
        newcomers = []
        with connection.cursor() as cursor:
            for _ in range(100):
                number = voting.next_number(cid, "next_participant_number")
                cursor.execute(
                    "INSERT INTO conversations_participant "
                    "(conversation_id, number, joined_at) VALUES (%s, %s, %s) RETURNING id",
                    [cid, number, timezone.now()],
                )
                newcomers.append(cursor.fetchone()[0])
        low, high = built["participant_ids"]
        pairs = [
            (p, int(s))
            for p in newcomers
            for s in rng.choice(statement_ids, 5, replace=False)
        ]
        cursor = connection.cursor()
        cursor.execute(
            "SELECT participant_id, statement_id FROM conversations_vote "
            "WHERE conversation_id = %s AND participant_id BETWEEN %s AND %s "
            "ORDER BY random() LIMIT 500",
            [cid, low, high],
        )
        pairs += cursor.fetchall()
        now = clock.now()
        for participant, statement in pairs:
            inserted += voting.record_vote(
                conversation_id=cid,
                statement_id=int(statement),
                participant_id=int(participant),
                value=int(rng.integers(-1, 2)),
                at_ms=clock.to_ms(now),
                now=now,
            )
        burst_s = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        report = maps.map_refresh(conversation_id=cid)
        refresh_s = time.perf_counter() - started
        refresh_cpu = time.process_time() - cpu
        runs.append(
            {
                "burst_s": round(burst_s, 3),
                "refresh_s": round(refresh_s, 3),
                "refresh_cpu_s": round(refresh_cpu, 3),
                "votes": inserted,
                "warm": report.warm,
                "k": report.k,
            }
        )
        log(
            f"map: burst {burst + 1}: {inserted} votes in {burst_s:.2f} s, then refresh "
            f"{refresh_s:.3f} s wall, {refresh_cpu:.3f} s CPU (warm: {report.warm}, "
            f"k = {report.k})"
        )
    median = statistics.median(r["refresh_s"] for r in runs)
    median_cpu = statistics.median(r["refresh_cpu_s"] for r in runs)
    started = time.perf_counter()
    p, s, v = maps.final_votes_of(cid)
    load_s = time.perf_counter() - started
    return {
        "participants": participants,
        "statements": statements,
        "votes": built["votes"],
        "cold_refresh_s": round(cold_s, 2),
        "final_votes_copy_s": round(load_s, 2),
        "final_votes_rows": int(len(v)),
        "bursts": runs,
        "median_refresh_s": round(median, 3),
        "median_refresh_cpu_s": round(median_cpu, 3),
        "target_met": median <= TARGET_REFRESH_S,
    }


def _action(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_conversations.py")
    parser.add_argument("action", choices=["setup-votes", "queries", "verify", "map"])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--statements", type=int, default=200)
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--data", type=Path)
    args = parser.parse_args(argv)
    _django()
    if args.action == "setup-votes":
        result = setup_votes(args.members, args.statements, args.out)
    elif args.action == "map":
        result = map_bench(args.participants, args.statements, args.bursts, args.seed)
    else:
        data = json.loads(args.data.read_text())
        result = vote_queries(data) if args.action == "queries" else verify_votes(data)
    print("RESULT " + json.dumps(result))
    return 0


# --- the driver ----------------------------------------------------------------------


def _run(
    action: list[str], env: dict[str, str], what: str, *, stream: bool = False
) -> Any:
    command = [sys.executable, str(Path(__file__).resolve()), *action]
    if stream:
        process = subprocess.run(  # noqa: S603 - fixed arguments
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=False
        )
        out = process.stdout
        for line in out.splitlines():
            if not line.startswith("RESULT "):
                log(line)
        if process.returncode != 0:
            raise RuntimeError(f"{what} failed")
    else:
        out = shared.run_checked(command, env, what)
    match = re.search(r"^RESULT (.*)$", out, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"{what}: no result")
    return json.loads(match.group(1))


def start_worker(env: dict[str, str], logfile: Path) -> subprocess.Popen[bytes]:
    with logfile.open("ab") as sink:
        return subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                str(shared.BIN / "celery"),
                "-A",
                "commonground.site",
                "worker",
                "--concurrency",
                "1",
                "--pool",
                "solo",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def run_wrk(
    work: Path, data: dict[str, Any], port: int, seconds: float, connections: int
) -> dict[str, Any]:
    threads = max(1, min(2, connections))
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(work / "votes.lua"),
            f"http://127.0.0.1:{port}{data['path']}",
            "--",
            str(work / "members.tsv"),
            str(work / "statements.txt"),
            data["path"],
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"^WRKJSON (.*)$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    return dict(json.loads(match.group(1)))


def _process_cpu(pid: int) -> float:
    seconds = shared._cpu_seconds(pid)
    return seconds or 0.0


def http_bench(
    args: argparse.Namespace, env: dict[str, str], work: Path
) -> dict[str, Any]:
    created = _run(
        [
            "setup-votes",
            "--members",
            str(args.members),
            "--statements",
            str(args.statements),
            "--out",
            str(work / "data.json"),
        ],
        env,
        "set-up",
    )
    data = json.loads((work / "data.json").read_text())
    log(
        f"set-up: {created['members']} members with sessions, conversation "
        f"{created['conversation']} with {args.statements} statements"
    )
    (work / "members.tsv").write_text(
        "".join(
            f"{data['session_cookie']}={row['session']}; "
            f"{data['csrf_cookie']}={row['csrf_secret']}\t{row['csrf_token']}\n"
            for row in data["members"]
        )
    )
    (work / "statements.txt").write_text("".join(f"{s}\n" for s in data["statements"]))
    (work / "votes.lua").write_text(WRK_LUA)
    queries = _run(["queries", "--data", str(work / "data.json")], env, "queries")
    log(
        f"SQL statements per htmx answer (all middleware included): first "
        f"{queries['first'][1]}, later {queries['later'][1]}: {queries['later_sql']}"
    )
    port = shared.free_port()
    errlog = work / "gunicorn.log"
    gunicorn = shared.start_gunicorn(env, port, args.workers, errlog)
    worker = start_worker(env, work / "celery.log")
    try:
        log(
            f"gunicorn: {args.workers} sync workers; Celery: 1 worker refreshing the map; "
            f"wrk: {args.connections} connections, {args.duration:g} s"
        )
        if args.warmup > 0:
            run_wrk(work, data, port, args.warmup, args.connections)
        before = shared.cpu_snapshot(gunicorn.pid)
        worker_before = sum(
            _process_cpu(p) for p in [worker.pid, *shared._children(worker.pid)]
        )
        wrk_before = os.times()
        raw = run_wrk(work, data, port, args.duration, args.connections)
        wrk_after = os.times()
        used = shared.cpu_used(before, shared.cpu_snapshot(gunicorn.pid))
        used["worker"] = (
            sum(_process_cpu(p) for p in [worker.pid, *shared._children(worker.pid)])
            - worker_before
        )
        used["wrk"] = (wrk_after.children_user - wrk_before.children_user) + (
            wrk_after.children_system - wrk_before.children_system
        )
    finally:
        shared.stop_process_group(gunicorn)
        shared.stop_process_group(worker)
    seconds = raw["duration_us"] / 1e6
    ok = int(raw["statuses"].get(str(SUCCESS), 0))
    rate = ok / seconds if seconds else 0.0
    server = used["app"] + used["database"] + used["worker"]
    run = {
        "seconds": round(seconds, 2),
        "votes": ok,
        "votes_per_s": round(rate, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p90_ms": round(raw["p90_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "max_ms": round(raw["max_us"] / 1000, 1),
        "other_statuses": {
            s: n for s, n in raw["statuses"].items() if s != str(SUCCESS)
        },
        "socket_errors": {
            k: v for k, v in raw["errors"].items() if k != "status" and v
        },
        "sample_refusal": raw.get("sample", ""),
        "cpu_ms_per_vote": {
            k: round(1000 * v / ok, 3) if ok else None for k, v in used.items()
        },
        "capacity_votes_per_s": round((os.cpu_count() or 1) * ok / server)
        if ok and server
        else None,
        "server_tracebacks": shared.server_errors(errlog),
        "queries": queries,
    }
    run["target_met"] = rate >= TARGET_VOTES_PER_S and run["p99_ms"] <= TARGET_P99_MS
    run["verify"] = _run(["verify", "--data", str(work / "data.json")], env, "verify")
    return run


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench_conversations.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--statements", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--map-statements", type=int, default=2000)
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--redis-db", type=int, default=13)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-map", action="store_true")
    parser.add_argument("--keep-db", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("setup-votes", "queries", "verify", "map"):
        return _action(argv)
    args = parse_args(argv)
    shared.DB_NAME = DB_NAME  # the shared helpers act on this benchmark's database
    try:
        versions = shared.check_services(args.redis_db)
    except shared.Skip as reason:
        log(f"SKIP bench_conversations: {reason}")
        return 0
    versions.update(shared.package_versions())
    versions["commonground"] = shared.source_revision()
    m = shared.machine()
    log(
        f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; load average "
        f"{os.getloadavg()[0]:.2f}; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
    )
    work = Path(tempfile.mkdtemp(prefix="bench-conversations-"))
    env = shared.django_env(work, args.redis_db)
    env["COMMONGROUND_MAP_DEBOUNCE"] = "2"
    redis_before = shared.redis_keys(args.redis_db)
    failed = False
    results: dict[str, Any] = {"machine": m, "versions": versions}
    try:
        log(f"database {DB_NAME}: recreate, migrate, collectstatic")
        shared.recreate_database()
        manage = [sys.executable, str(ROOT / "manage.py")]
        shared.run_checked([*manage, "migrate", "--no-input"], env, "migrate")
        shared.run_checked(
            [*manage, "collectstatic", "--no-input"], env, "collectstatic"
        )
        if not args.skip_http:
            run = http_bench(args, env, work)
            results["http"] = run
            cpu = run["cpu_ms_per_vote"]
            log(
                f"votes: {run['votes_per_s']:.1f} votes/s ({run['votes']} in "
                f"{run['seconds']} s)  p50 {run['p50_ms']} ms  p90 {run['p90_ms']} ms  "
                f"p99 {run['p99_ms']} ms  max {run['max_ms']} ms  other statuses "
                f"{run['other_statuses'] or 'none'}  socket errors {run['socket_errors'] or 'none'}"
            )
            log(
                f"votes: CPU per vote: gunicorn {cpu['app']} ms, PostgreSQL "
                f"{cpu['database']} ms, Celery worker {cpu['worker']} ms, wrk {cpu['wrk']} ms; "
                f"the server side alone would sustain ~{run['capacity_votes_per_s']} votes/s "
                f"on {os.cpu_count()} idle cores"
            )
            check = run["verify"]
            log(
                f"verify: {check['history_rows']} history rows for {run['votes']} answered "
                f"requests (+ warm-up and the query count), {check['votes']} current votes, "
                f"one per pair: {check['one_per_pair']}, vote != last history row: "
                f"{check['last_history_mismatches']}; tracebacks: {run['server_tracebacks']}"
            )
            log(
                f"target >= {TARGET_VOTES_PER_S:g} votes/s with p99 <= {TARGET_P99_MS:g} ms: "
                f"{'MET' if run['target_met'] else 'NOT met'}"
            )
            failed |= (
                not check["one_per_pair"]
                or check["last_history_mismatches"] != 0
                or run["server_tracebacks"] > 0
                or any(s.startswith("5") for s in run["other_statuses"])
            )
        if not args.skip_map:
            if args.skip_http:
                _run(
                    [
                        "setup-votes",
                        "--members",
                        "1",
                        "--statements",
                        "1",
                        "--out",
                        str(work / "data.json"),
                    ],
                    env,
                    "set-up",
                )
            result = _run(
                [
                    "map",
                    "--participants",
                    str(args.participants),
                    "--statements",
                    str(args.map_statements),
                    "--bursts",
                    str(args.bursts),
                ],
                env,
                "map",
                stream=True,
            )
            results["map"] = result
            log(
                f"map: cold refresh {result['cold_refresh_s']} s (final votes by COPY: "
                f"{result['final_votes_copy_s']} s for {result['final_votes_rows']:,} rows); "
                f"after a burst of 1,000 votes: median {result['median_refresh_s']} s wall, "
                f"{result['median_refresh_cpu_s']} s CPU over "
                f"{len(result['bursts'])} bursts; target <= {TARGET_REFRESH_S:g} s: "
                f"{'MET' if result['target_met'] else 'NOT met'}"
            )
        log("RESULTS " + json.dumps(results))
    except Exception as error:  # noqa: BLE001 - report, clean up, fail
        log(f"bench_conversations FAILED: {error}")
        for name in ("gunicorn.log", "celery.log"):
            path = work / name
            if path.exists():
                log(path.read_text(errors="replace")[-2000:])
        failed = True
    finally:
        if not args.keep_db:
            with suppress(Exception):
                shared.drop_database()
        with suppress(Exception):
            shared.redis_remove_new_keys(args.redis_db, redis_before)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
