"""Set-up, query count and verification for benchmarks/bench_casts.py.

Run by bench_casts.py in a subprocess whose environment points Django at the
benchmark database (never at a developer's database):

  casts_setup.py setup --members N --out FILE   build a group, open ballots, sessions
  casts_setup.py queries --data FILE            SQL queries of one cast (test client)
  casts_setup.py verify --data FILE             one member, one ballot, after the load

The group, the roles and the ballots go through the platform's own services (so each
ballot is sealed with its frozen roll exactly as in production); only the bulk rows a
real movement would already have (members, memberships, logged-in sessions) are
written with the ORM. Sessions carry exactly the keys a login stores, so the load
generator sends the same cookies a browser would.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import timedelta
from importlib import import_module
from pathlib import Path
from typing import Any

import django

# Ballots in the benchmark: (method, options). One run per kind of paper.
KINDS: dict[str, tuple[str, list[str]]] = {
    "yes_no": ("yes_no", ["Yes", "No", "Abstain"]),
    "ranked": ("irv", ["Ann", "Bo", "Cy", "Di", "Ed"]),
}
PATTERNS_PER_KIND = 16


def _bodies(kind: str, option_count: int, rng: random.Random) -> list[str]:
    """Form fields (after the CSRF token) of valid papers, as a browser posts them."""
    if kind == "yes_no":
        return [f"choice={i % option_count}" for i in range(PATTERNS_PER_KIND)]
    bodies = []
    for _ in range(PATTERNS_PER_KIND):
        order = list(range(option_count))
        rng.shuffle(order)
        length = rng.randint(1, option_count)
        ranks = {position: rank + 1 for rank, position in enumerate(order[:length])}
        bodies.append(
            "&".join(f"rank_{p}={ranks.get(p, '')}" for p in range(option_count))
        )
    return bodies


def setup(members: int, out: Path, seed: int) -> dict[str, Any]:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.middleware.csrf import get_token
    from django.test import RequestFactory
    from django.utils import timezone

    from commonground.core.middleware import SESSION_STARTED_KEY
    from commonground.decisions import services as decisions
    from commonground.members import services as members_services
    from commonground.members.models import Group, Membership, Organisation, User

    # Whatever session store the settings name (database by default), as a login does.
    SessionStore = import_module(settings.SESSION_ENGINE).SessionStore  # noqa: N806
    rng = random.Random(seed)
    now = timezone.now()
    organisation = Organisation.objects.create(name="Bench movement", slug="bench")
    group = members_services.group_create(
        actor=None,
        organisation=organisation,
        name="Bench branch",
        slug="bench-branch",
        kind=Group.Kind.BRANCH,
    )
    users = [
        User(email=f"voter{i:06d}@bench.invalid", display_name=f"Voter {i}")
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
                since=now - timedelta(days=30),
            )
            for user in users
        ],
        batch_size=1000,
    )
    officer, voters = users[0], users[1:]
    members_services.role_grant_founding_admin(
        group=group, user=officer, reason="benchmark set-up"
    )
    elections = {}
    for kind, (method, options) in KINDS.items():
        election = decisions.election_create(
            actor=officer,
            group=group,
            kind="question",
            spec=decisions.ElectionSpec(
                title=f"Benchmark {kind} ballot",
                method=method,
                options=options,
                opens_at=timezone.now(),
                closes_at=timezone.now() + timedelta(hours=6),
            ),
        )
        elections[kind] = {
            "id": election.pk,
            "method": method,
            "path": f"/decisions/ballots/{election.pk}/vote/",
            "bodies": _bodies(kind, len(options), rng),
        }
    factory = RequestFactory()
    rows = []
    started = int(time.time())
    for user in voters:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[SESSION_STARTED_KEY] = started
        session.create()
        request = factory.get("/")
        token = get_token(request)
        rows.append(
            {
                "member": user.pk,
                "session": session.session_key,
                "csrf_secret": request.META["CSRF_COOKIE"],
                "csrf_token": token,
            }
        )
    data = {
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "group": group.pk,
        "elections": elections,
        "members": rows,
    }
    out.write_text(json.dumps(data))
    return {
        "members": len(rows),
        "elections": {k: v["id"] for k, v in elections.items()},
    }


def queries(data: dict[str, Any], show: bool) -> dict[str, Any]:
    """Count the SQL statements of one htmx cast through the full middleware stack."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from commonground.members.models import User

    out: dict[str, Any] = {}
    member = User.objects.get(pk=data["members"][-1]["member"])
    for kind, election in data["elections"].items():
        client = Client(HTTP_HX_REQUEST="true")
        client.force_login(member)
        statuses = []
        counts = []
        for body in election["bodies"][:2]:  # a first cast, then a re-vote
            fields = dict(part.split("=", 1) for part in body.split("&"))
            with CaptureQueriesContext(connection) as captured:
                response = client.post(election["path"], fields)
            statuses.append(response.status_code)
            counts.append(len(captured.captured_queries))
        out[kind] = {"statuses": statuses, "first_cast": counts[0], "revote": counts[1]}
        if show:
            out[kind]["revote_sql"] = [q["sql"] for q in captured.captured_queries]
    return out


def verify(data: dict[str, Any]) -> dict[str, Any]:
    """Counted ballots == distinct participants, and each ballot is a participant's."""
    from commonground.decisions.models import (
        Ballot,
        Election,
        EligibleVoter,
        Participation,
    )
    from commonground.decisions.secrecy import voter_token

    report: dict[str, Any] = {}
    for kind, info in data["elections"].items():
        election = Election.objects.get(pk=info["id"])
        participants = list(
            Participation.objects.filter(election=election).values_list(
                "member_id", flat=True
            )
        )
        tokens = list(
            Ballot.objects.filter(election=election).values_list(
                "voter_token", flat=True
            )
        )
        expected = {
            voter_token(election_id=election.pk, member_id=m) for m in participants
        }
        on_roll = set(
            EligibleVoter.objects.filter(election=election).values_list(
                "member_id", flat=True
            )
        )
        option_count = election.options.count()
        bad_papers = 0
        for payload in Ballot.objects.filter(election=election).values_list(
            "payload", flat=True
        ):
            paper = json.loads(payload)
            marks = paper.get("grid") or paper.get("ranking")
            if not marks or ("grid" in paper and len(paper["grid"]) != option_count):
                bad_papers += 1
        distinct_participants = len(set(participants))
        ok = (
            len(tokens) == distinct_participants == len(participants)
            and len(set(tokens)) == len(tokens)
            and set(tokens) == expected
            and set(participants) <= on_roll
            and bad_papers == 0
        )
        report[kind] = {
            "ballots": len(tokens),
            "participants": distinct_participants,
            "participation_rows": len(participants),
            "ballots_match_participants": set(tokens) == expected,
            "participants_on_roll": set(participants) <= on_roll,
            "malformed_papers": bad_papers,
            "ok": ok,
        }
    return report


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="casts_setup.py")
    parser.add_argument("action", choices=["setup", "queries", "verify"])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--show-sql", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commonground.site.settings")
    django.setup()
    if args.action == "setup":
        result = setup(args.members, args.out, args.seed)
    else:
        data = json.loads(args.data.read_text())
        result = (
            queries(data, args.show_sql) if args.action == "queries" else verify(data)
        )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
