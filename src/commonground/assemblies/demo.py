"""Demo assemblies (``manage.py seed_demo``), made through the real services where a
person would act; idempotent, deterministic and quick (a few seconds).

- a finished citizens' assembly of the Leeds branch on transport: a pool of 300
  generated registrants (the demo members among them, with their accounts; the
  rest from the open call) against quotas on age, gender and area, a panel of 24
  drawn in public (committed pool, a random number typed in, the draw run here
  and now with LEXIMIN), four sessions with expert speakers, the panel's
  discussion, five recommendations voted on in secret by the panel and
  published, and one sent to the whole membership as a proposal;
- a members' assembly of the national party recruiting now, with quotas and
  part of its pool registered.

Registrants are generated straight into the pool (as if each had registered and
confirmed their address): running the registration form 300 times would only
slow the seed. Their pseudonyms come from a seeded generator, so the pool file,
its SHA-256 and the panel are the same on every run.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from unittest import mock

from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from commonground.decisions import services as decisions
from commonground.discussion import services as discussion
from commonground.members.demo import email_for
from commonground.members.models import Group, User
from commonground.members.selectors import subtree_active_members

from . import deliberation_selectors as panel_selectors
from .models import Assembly, Kind, Recruitment, Registrant
from .services import deliberation as panel_services
from .services import draws as draw_services
from .services import setup as setup_services
from .services.recruitment import PSEUDONYM_ALPHABET, PSEUDONYM_LENGTH

TRANSPORT_SLUG = "leeds-transport-2026"
DEMOCRACY_SLUG = "npp-party-democracy"
POOL_SIZE = 300
PANEL_SIZE = 24
RANDOM_NUMBER = "418236507712"  # "drawn live at the public meeting"

FIRST = ["Amal", "Bea", "Cal", "Dina", "Eli", "Fay", "Gus", "Hana", "Ira", "Jo"]
LAST = ["Archer", "Bell", "Cole", "Dunn", "Ellis", "Ford", "Gray", "Hart", "Ives"]


@dataclass(frozen=True)
class Band:
    value: str
    label: str
    share: float


FEATURES: dict[str, tuple[str, list[Band]]] = {
    "age": (
        "Age",
        [
            Band("16-29", "16 to 29", 0.24),
            Band("30-44", "30 to 44", 0.26),
            Band("45-64", "45 to 64", 0.31),
            Band("65-plus", "65 and over", 0.19),
        ],
    ),
    "gender": (
        "Gender",
        [
            Band("woman", "Woman", 0.5),
            Band("man", "Man", 0.47),
            Band("another", "In another way", 0.03),
        ],
    ),
    "area": (
        "Area of Leeds",
        [
            Band("inner", "Inner city", 0.3),
            Band("north", "North", 0.25),
            Band("east", "East", 0.2),
            Band("south-west", "South and west", 0.25),
        ],
    ),
}

SESSIONS = [
    (
        "Welcome, and how we will work",
        "Council chamber, Leeds Civic Hall",
        "How the panel was drawn, the ground rules and the question.",
        [("Maya Okafor", "Independent facilitator", "How deliberation works.")],
    ),
    (
        "Buses, trams and trains: the evidence",
        "Leeds Central Library, room 2",
        "Read [the bus network review](https://example.org/leeds-buses) before.",
        [
            ("Dr Ana Costa", "Transport economist", "What fares and frequency do."),
            ("Tom Reid", "Bus driver and union rep", "What a day on the 72 is like."),
        ],
    ),
    (
        "Walking, cycling and clean air",
        "Online",
        "Air quality data by ward, and the 2019 cycle network plan.",
        [("Prof Lena Shah", "Public health researcher", "Air pollution and health.")],
    ),
    (
        "Writing our recommendations",
        "Council chamber, Leeds Civic Hall",
        "",
        [],
    ),
]

RECOMMENDATIONS = [
    (
        "Buses every ten minutes on every main road",
        "Buses on every main road into the city centre should run **at least every "
        "ten minutes** from 6am to midnight, paid for by a workplace parking levy.",
        "yes",
    ),
    (
        "A single fare across buses, trams and trains",
        "One ticket, one daily cap, whatever the operator: no one should pay twice "
        "for one journey.",
        "yes",
    ),
    (
        "Safe cycle routes to every secondary school",
        "Protected cycle lanes to every secondary school within five years, planned "
        "with pupils and parents.",
        "yes",
    ),
    (
        "Free travel for under-22s",
        "Everyone under 22 travels free on buses in West Yorkshire.",
        "mixed",
    ),
    (
        "A congestion charge in the city centre",
        "Cars entering the inner ring road pay a daily charge on weekdays.",
        "no",
    ),
]

DISCUSSION = [
    "I never thought I would say it, but the bus evidence changed my mind.",
    "Can we ask the speakers how the parking levy worked in Nottingham?",
    "For people in the east, the last bus at 11pm is the real problem.",
]


def _pseudonym(rng: random.Random, taken: set[str]) -> str:
    while True:
        value = "".join(rng.choice(PSEUDONYM_ALPHABET) for _ in range(PSEUDONYM_LENGTH))
        if value not in taken:
            taken.add(value)
            return value


def _quotas(features: dict[str, tuple[str, list[Band]]], panel_size: int) -> list[Any]:
    """Each category's seats: its share of the panel, give or take one."""
    return [
        setup_services.FeatureSpec(
            key=key,
            label=label,
            categories=tuple(
                setup_services.CategorySpec(
                    value=band.value,
                    label=band.label,
                    minimum=max(0, math.floor(band.share * panel_size) - 1),
                    maximum=math.ceil(band.share * panel_size) + 1,
                )
                for band in bands
            ),
        )
        for key, (label, bands) in features.items()
    ]


def _features(rng: random.Random) -> dict[str, str]:
    return {
        key: rng.choices(
            [band.value for band in bands], weights=[band.share for band in bands]
        )[0]
        for key, (_label, bands) in FEATURES.items()
    }


def _pool(
    assembly: Assembly, people: list[User], size: int, rng: random.Random
) -> None:
    """``size`` registrants in the pool: ``people`` with their accounts, the rest
    generated as if from the open call (confirmed addresses, consent given)."""
    now = timezone.now()
    taken: set[str] = set()
    rows = []
    for index in range(size):
        user = people[index] if index < len(people) else None
        name = (
            user.public_name
            if user is not None
            else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        )
        email = (
            user.email
            if user is not None
            else f"resident{index:03d}@residents.demo.commonground.example"
        )
        rows.append(
            Registrant(
                assembly=assembly,
                user=user,
                name=name,
                email=email,
                features=_features(rng),
                consent_to_draw=True,
                consent_publish_name=rng.random() < 0.3,
                email_confirmed_at=now,
                pseudonym=_pseudonym(rng, taken),
            )
        )
    Registrant.objects.bulk_create(rows, batch_size=500)


def _create(actor: User, group: Group, **settings: Any) -> Assembly:
    assembly = setup_services.assembly_create(
        actor=actor,
        group=group,
        settings=setup_services.AssemblySettings(**settings),
    )
    setup_services.quotas_set(
        actor=actor,
        assembly=assembly,
        features=_quotas(FEATURES, assembly.panel_size),
    )
    return setup_services.recruitment_open(actor=actor, assembly=assembly)


def _transport(leeds: Group, organiser: User, rng: random.Random) -> None:
    if Assembly.objects.filter(slug=TRANSPORT_SLUG).exists():
        return
    now = timezone.now()
    assembly = _create(
        organiser,
        leeds,
        title="Leeds citizens' assembly on transport",
        slug=TRANSPORT_SLUG,
        question="How should people in Leeds get around by 2035?",
        description=(
            "Twenty-four residents of Leeds, drawn by lot so that together they "
            "look like the city, hear the evidence, deliberate and recommend what "
            "the branch should campaign for."
        ),
        panel_size=PANEL_SIZE,
        kind=Kind.CITIZENS,
        recruitment=Recruitment.OPEN_CALL,
        seed_source=(
            "Six two-digit numbers drawn from a bingo machine at the public "
            "meeting in the Civic Hall, read out in order."
        ),
        draw_at=(now - timedelta(days=45)).replace(
            hour=18, minute=0, second=0, microsecond=0
        ),
        deliberation_starts_at=(now - timedelta(days=40)).replace(
            hour=10, minute=0, second=0, microsecond=0
        ),
        deliberation_ends_at=(now - timedelta(days=19)).replace(
            hour=15, minute=0, second=0, microsecond=0
        ),
    )
    residents = list(
        User.objects.filter(email__startswith="member", deleted_at__isnull=True)
        .exclude(email=email_for("member"))
        .order_by("id")[:180]
    )
    residents.append(User.objects.get(email=email_for("member")))
    _pool(assembly, residents, POOL_SIZE, rng)
    draw = draw_services.draw_commit(actor=organiser, assembly=assembly)
    with mock.patch.object(draw_services, "queue_run", lambda draw_id: None):
        draw = draw_services.draw_start(
            actor=organiser, draw=draw, random_number=RANDOM_NUMBER
        )
    draw_services.draw_run(draw_id=draw.pk)
    assembly.refresh_from_db()
    panel_services.panel_seats_welcome(assembly=assembly)
    _deliberate(assembly, organiser, now, rng)


def _deliberate(
    assembly: Assembly, organiser: User, now: Any, rng: random.Random
) -> None:
    panel = list(panel_selectors.panel_members(assembly))
    first_day = (now - timedelta(days=40)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    sessions = []
    for index, (title, place, materials, speakers) in enumerate(SESSIONS):
        starts = first_day + timedelta(days=7 * index)
        sessions.append(
            panel_services.session_schedule(
                actor=organiser,
                assembly=assembly,
                spec=panel_services.SessionSpec(
                    title=title,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=5),
                    place=place,
                    online_url="https://meet.example.org/leeds-panel"
                    if place == "Online"
                    else "",
                    materials=materials,
                    materials_public=index < 2,
                    speakers=[
                        panel_services.SpeakerSpec(name=n, role=r, summary=s)
                        for n, r, s in speakers
                    ],
                ),
            )
        )
    for index, body in enumerate(DISCUSSION):
        discussion.comment_post(
            author=panel[index % len(panel)],
            target=assembly if index != 1 else sessions[1],
            body=body,
        )
    [
        panel_services.recommendation_draft(
            actor=panel[index % len(panel)], assembly=assembly, title=title, text=text
        )
        for index, (title, text, _leaning) in enumerate(RECOMMENDATIONS)
    ]
    closes = timezone.now() + timedelta(seconds=2)
    voting = panel_services.panel_vote_open(
        actor=organiser, assembly=assembly, closes_at=closes
    )
    # The ballots are cast on a demo clock held at the opening, then the vote
    # closes and the real count runs (as in the decisions demo).
    opened = max(
        draft.election.opens_at
        for draft in voting
        if draft.election and draft.election.opens_at
    )
    leanings = {"yes": 0.85, "mixed": 0.55, "no": 0.25}
    with mock.patch.object(decisions.elections.clock, "now", return_value=opened):
        for draft, (_title, _text, leaning) in zip(
            voting, RECOMMENDATIONS, strict=True
        ):
            for member in panel:
                roll = rng.random()
                choice = (
                    "abstain"
                    if roll > 0.93
                    else ("yes" if rng.random() < leanings[leaning] else "no")
                )
                panel_services.panel_ballot_cast(
                    member=member, recommendation=draft, choice=choice
                )
    remaining = (closes - timezone.now()).total_seconds()
    if remaining > 0:
        time.sleep(remaining + 0.01)
    published = panel_services.recommendations_publish(
        actor=organiser, assembly=assembly
    )
    proposal = panel_services.recommendation_to_proposal(
        actor=organiser, recommendation=published[0]
    )
    decisions.proposal_publish(actor=organiser, proposal=proposal)


def _democracy(national: Group, admin: User, rng: random.Random) -> None:
    if Assembly.objects.filter(slug=DEMOCRACY_SLUG).exists():
        return
    assembly = _create(
        admin,
        national,
        title="Members' assembly on party democracy",
        slug=DEMOCRACY_SLUG,
        question="How should members hold the party's leadership to account?",
        description="Thirty members drawn by lot from everyone who registers.",
        panel_size=30,
        kind=Kind.MEMBERS,
        recruitment=Recruitment.OPEN_CALL,
        recruitment_closes_at=timezone.now() + timedelta(days=21),
        seed_source="The last six digits of the national lottery on the draw day.",
    )
    members = list(
        subtree_active_members(national)
        .exclude(email=email_for("member"))
        .order_by("id")[:70]
    )
    _pool(assembly, members, len(members), rng)


def seed(context: dict[str, Any]) -> None:
    national = Group.objects.filter(slug="npp-national").first()
    leeds = Group.objects.filter(slug="npp-leeds").first()
    if national is None or leeds is None:
        return
    organiser = User.objects.get(email=email_for("organiser"))
    admin = User.objects.get(email=email_for("admin"))
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    # Demo people have made-up addresses: send them no email.
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"
    ):
        # Each assembly whole or not at all: a failed seed leaves nothing behind.
        with transaction.atomic():
            _transport(leeds, organiser, rng)
        with transaction.atomic():
            _democracy(national, admin, rng)
