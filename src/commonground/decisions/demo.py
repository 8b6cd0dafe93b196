"""Demo decisions (``manage.py seed_demo``), made through the real services; idempotent.

- an open STV candidate selection in the national party: 3 seats, 8 nominees with
  statements, seconded during a nomination period, voting open for a week;
- an open proposal in the Leeds branch gathering support;
- a closed ranked-choice (IRV) ballot in the Leeds branch with published results.

The closed ballot needs voting to happen and end during seeding: it opens now, its
ballots are cast on a demo clock held at the opening, and it closes one second later,
after which the real count runs.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any
from unittest import mock

from django.test import override_settings
from django.utils import timezone

from commonground.discussion import services as discussion
from commonground.members.demo import LOGINS, email_for
from commonground.members.models import Group, User
from commonground.members.selectors import subtree_active_members

from . import services
from .models import Election, Proposal

SELECTION_TITLE = "Candidate selection: the national list (3 seats)"
PROPOSAL_TITLE = "Open our branch meetings to non-members"
CLOSED_TITLE = "Where should the Leeds branch meet?"

STATEMENTS = [
    "I have organised tenants on my estate for six years. I will take our rent "
    "campaign into every debate and report back to branches each month.",
    "A nurse and union rep. I want a health policy written by the people who work "
    "in the service and the people who use it.",
    "I ran our food bank through the pandemic. I will stand for a fair minimum income "
    "and for local councils with the money to act.",
    "I teach in a secondary school. Members decide here, and I will vote as our "
    "policy conference tells me, not as party managers do.",
    "Small business owner and cyclist. I will push for safe streets, cheap buses "
    "and energy co-operatives that keep money local.",
    "Care worker and carer. I want carers paid, respected and represented, and "
    "I will hold open surgeries in every region.",
    "Engineer in renewables. A plan to insulate every home within ten years, "
    "paid for by what we save on energy.",
    "Youth worker. I will bring young members into every decision we make and "
    "publish every vote I cast, with my reasons.",
]


def _members(group: Group, exclude: set[int], count: int) -> list[User]:
    return list(
        subtree_active_members(group).exclude(pk__in=exclude).order_by("id")[:count]
    )


def _selection(
    national: Group, officer: User, demo_member: User, rng: random.Random
) -> None:
    if Election.objects.filter(group=national, title=SELECTION_TITLE).exists():
        return
    now = timezone.now()
    election = services.election_create(
        actor=officer,
        group=national,
        kind=Election.Kind.ELECTION,
        spec=services.ElectionSpec(
            title=SELECTION_TITLE,
            description="Open selection: any member may stand. The three elected head "
            "our national list, in the order elected.",
            method="stv",
            seats=3,
            rules="scottish",
            nominations_open_at=now - timedelta(minutes=1),
            nominations_close_at=now + timedelta(hours=1),
            closes_at=None,
            required_seconds=1,
        ),
    )
    named = set(
        User.objects.filter(
            email__in=[email_for(local) for local, _, _ in LOGINS]
        ).values_list("pk", flat=True)
    )
    people = _members(national, named | {officer.pk, demo_member.pk}, 60)
    nominees, seconders = people[:8], people[8:]
    for nominee, statement in zip(nominees, STATEMENTS, strict=True):
        nomination = services.nomination_submit(
            member=nominee, election=election, statement=statement
        )
        services.nomination_second(member=rng.choice(seconders), nomination=nomination)
    # The nomination period and hustings are over: voting opens for a week.
    Election.objects.filter(pk=election.pk).update(nominations_close_at=timezone.now())
    election.refresh_from_db()
    election = services.election_open_now(
        actor=officer, election=election, closes_at=timezone.now() + timedelta(days=7)
    )
    question = discussion.comment_post(
        author=seconders[0],
        target=election,
        body="What would each of you do in your first month if elected?",
    )
    discussion.comment_post(
        author=nominees[0],
        target=election,
        parent=question,
        body="Visit every branch in my region and publish what members tell me.",
    )
    for voter in seconders[:30]:
        order = rng.sample(range(8), k=rng.randint(2, 6))
        marks = {f"rank_{p}": str(rank) for rank, p in enumerate(order, start=1)}
        services.ballot_cast(member=voter, election=election, marks=marks)


def _proposal(leeds: Group, demo_member: User) -> None:
    if Proposal.objects.filter(group=leeds, title=PROPOSAL_TITLE).exists():
        return
    others = _members(leeds, {demo_member.pk}, 8)
    draft = services.proposal_create(
        author=others[0],
        group=leeds,
        title=PROPOSAL_TITLE,
        text=(
            "## What we propose\n\nFrom next month, anyone may attend our branch "
            "meetings and speak; only members vote.\n\n## Why\n\n- People join "
            "movements they have seen at work.\n- Our neighbours should hear what "
            "we decide in their name.\n"
        ),
        coauthors=[others[1]],
        support_share_percent=40,
        support_period_days=21,
    )
    proposal = services.proposal_publish(actor=others[0], proposal=draft)
    for supporter in others[2:5]:
        services.proposal_support(member=supporter, proposal=proposal)
    comment = discussion.comment_post(
        author=others[2],
        target=proposal,
        body="Yes: our best recruits came to a meeting first.",
    )
    discussion.comment_post(
        author=others[6],
        target=proposal,
        parent=comment,
        body="Agreed, but we need a quiet space for members to talk about casework.",
    )
    services.amendment_propose(
        member=others[5],
        proposal=proposal,
        title="Keep one members-only meeting a quarter",
        text="Every third month, the meeting is for members only.",
    )


def _closed_ballot(leeds: Group, organiser: User, rng: random.Random) -> None:
    if Election.objects.filter(group=leeds, title=CLOSED_TITLE).exists():
        return
    opens_at = timezone.now()
    election = services.election_create(
        actor=organiser,
        group=leeds,
        kind=Election.Kind.QUESTION,
        spec=services.ElectionSpec(
            title=CLOSED_TITLE,
            description="Our room at the library closes. Rank the places you would go to.",
            method="irv",
            options=[
                "Community centre",
                "Central library",
                "Union hall",
                "The Crown pub",
            ],
            opens_at=opens_at,
            closes_at=opens_at + timedelta(seconds=1),
        ),
    )
    voters = _members(leeds, set(), 40)
    preferences = [
        (0, 1, 2),
        (1, 0),
        (2, 0, 1),
        (3, 2),
        (0, 2),
        (1, 2, 0),
        (2, 1),
        (0,),
    ]
    with mock.patch.object(services.clock, "now", return_value=opens_at):
        for voter in voters:
            order = rng.choice(preferences)
            marks = {f"rank_{p}": str(rank) for rank, p in enumerate(order, start=1)}
            services.ballot_cast(member=voter, election=election, marks=marks)
    assert election.closes_at is not None
    remaining = (election.closes_at - timezone.now()).total_seconds()
    if remaining > 0:
        time.sleep(remaining + 0.01)
    services.election_count(election_id=election.pk)


def seed(context: dict[str, Any]) -> None:
    national = Group.objects.filter(slug="npp-national").first()
    leeds = Group.objects.filter(slug="npp-leeds").first()
    if national is None or leeds is None:
        return
    officer = User.objects.get(email=email_for("officer"))
    organiser = User.objects.get(email=email_for("organiser"))
    demo_member = User.objects.get(email=email_for("member"))
    rng = random.Random(2026)  # noqa: S311 - demo choices, not security
    # Demo members have made-up addresses: send them no email.
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"
    ):
        _selection(national, officer, demo_member, rng)
        _proposal(leeds, demo_member)
        _closed_ballot(leeds, organiser, rng)
