"""Demo conversations (``manage.py seed_demo``), made through the real services;
idempotent and quick (a few seconds).

- a coalition-wide conversation in the coalition assembly, opened by the demo
  admin: 40 statements, about 150 participants from every affiliated organisation
  answering with a clear, seeded structure (three groups of opinion and a handful
  of statements everyone agrees on), closed with its final map;
- an open conversation in the Leeds branch, opened by its organiser, with seed
  statements, some answers, one statement waiting for a moderator, and statements
  left for the demo member to answer.
"""

from __future__ import annotations

import random
from typing import Any
from unittest import mock

from django.test import override_settings

from commonground.members import services as member_services
from commonground.members.demo import email_for
from commonground.members.models import Group, User

from . import selectors, services
from .models import Conversation, MapVisibility, Moderation
from .notifications import eligible_members

COALITION_QUESTION = "What should the coalition campaign on together next year?"
BRANCH_QUESTION = "How should the Leeds branch use its campaign budget this year?"

# (statement, chance of agreeing in each of three groups of opinion: tenants and
# city organisers, greens, electoral pragmatists). The first six are common ground.
COALITION_STATEMENTS: list[tuple[str, tuple[float, float, float]]] = [
    (
        "Every home should be warm and dry without a choice between heating and eating.",
        (0.93, 0.9, 0.88),
    ),
    (
        "Decisions about a neighbourhood should involve the people who live there.",
        (0.9, 0.92, 0.85),
    ),
    (
        "Our organisations should share campaign data openly with each other.",
        (0.86, 0.88, 0.84),
    ),
    (
        "Public money should not subsidise landlords who leave homes empty.",
        (0.92, 0.85, 0.82),
    ),
    ("Local buses should run in the evenings and at weekends.", (0.9, 0.9, 0.8)),
    ("We should publish how every coalition decision was made.", (0.88, 0.86, 0.87)),
    ("Rent controls are the single most urgent change we need.", (0.95, 0.45, 0.2)),
    (
        "Tenants should have the right to organise unions in every building.",
        (0.95, 0.6, 0.35),
    ),
    (
        "A fixed cap on yearly rent rises is worth some landlords selling up.",
        (0.9, 0.35, 0.15),
    ),
    ("Councils should buy empty homes and let them at social rents.", (0.9, 0.6, 0.4)),
    (
        "No-fault evictions must end this year, whatever it costs landlords.",
        (0.95, 0.5, 0.25),
    ),
    ("Housing is a bigger issue for our members than climate.", (0.85, 0.1, 0.5)),
    (
        "Street-level organising matters more than winning council seats.",
        (0.85, 0.55, 0.1),
    ),
    ("Rent strikes are a legitimate tactic for our coalition.", (0.8, 0.3, 0.05)),
    ("City centres should get investment before rural areas.", (0.7, 0.15, 0.35)),
    ("Our campaign should name and shame the worst landlords.", (0.85, 0.4, 0.2)),
    ("Community energy co-operatives should own our local power.", (0.5, 0.97, 0.4)),
    (
        "Every new building should have solar panels and a heat pump.",
        (0.45, 0.95, 0.35),
    ),
    (
        "Climate is the frame that should hold our whole campaign together.",
        (0.35, 0.95, 0.2),
    ),
    ("We should oppose every new road-building scheme.", (0.4, 0.9, 0.1)),
    (
        "Common land and green spaces need legal protection from development.",
        (0.45, 0.95, 0.5),
    ),
    ("Car-free town centres would make our towns better places.", (0.55, 0.92, 0.2)),
    ("Farmers who restore nature should be paid for it.", (0.5, 0.9, 0.55)),
    ("Nuclear power has no place in a fair energy plan.", (0.4, 0.8, 0.15)),
    ("Flights for holidays should be taxed more heavily.", (0.35, 0.85, 0.1)),
    (
        "We should stand candidates in every council election next year.",
        (0.3, 0.35, 0.95),
    ),
    ("Winning elections is the only way to change housing law.", (0.25, 0.3, 0.95)),
    ("Our demands must be costed before we publish them.", (0.3, 0.4, 0.95)),
    ("We should work with any party that backs our main demands.", (0.35, 0.45, 0.9)),
    ("Moderate demands win more support than radical ones.", (0.1, 0.2, 0.9)),
    (
        "Tax rises for the campaign's plans should be spelled out in full.",
        (0.35, 0.45, 0.85),
    ),
    ("Endorsing candidates would divide our members.", (0.7, 0.6, 0.1)),
    ("The coalition should have one spokesperson, not many.", (0.2, 0.25, 0.85)),
    ("Door-knocking is a better use of time than social media.", (0.6, 0.4, 0.8)),
    ("Membership fees should be cut to grow the coalition.", (0.7, 0.55, 0.3)),
    (
        "We should run a citizens' assembly on the coalition's priorities.",
        (0.6, 0.8, 0.45),
    ),
    ("Trade unions should have seats on the coalition's council.", (0.75, 0.55, 0.6)),
    (
        "Young members should have a guaranteed share of every committee.",
        (0.65, 0.75, 0.4),
    ),
    (
        "The coalition should hold its meetings in a different town each month.",
        (0.55, 0.6, 0.5),
    ),
    (
        "We should publish our campaign plan before the spring conferences.",
        (0.6, 0.6, 0.65),
    ),
]
GROUP_SHARES = (0.4, 0.3, 0.3)
PASS_RATE = 0.08

BRANCH_SEEDS = [
    "Most of the budget should go to leaflets for every door in the ward.",
    "We should hire a room for monthly public meetings.",
    "A stall at the Saturday market is worth more than online adverts.",
    "We should save part of the budget for the next election.",
    "Training new canvassers should come before any spending on materials.",
    "We should pay for childcare so more members can come to meetings.",
    "Online adverts reach young people better than leaflets do.",
    "We should give part of the budget to the tenants' union's rent campaign.",
    "Every spending decision should be put to a branch vote.",
    "A branch newsletter by email is enough; print is a waste.",
    "We should buy a banner and a gazebo for demonstrations.",
    "Members who organise events should have their travel paid.",
]


def _answer(rng: random.Random, chance: float) -> str:
    if rng.random() < PASS_RATE:
        return "pass"
    return "agree" if rng.random() < chance else "disagree"


def _cast(
    user: User, conversation: Conversation, statement_id: int, value: str
) -> None:
    access = selectors.vote_access(user, conversation.pk)
    assert access is not None
    services.vote_cast(access=access, statement_id=statement_id, value=value)


def _coalition(assembly: Group, admin: User, rng: random.Random) -> None:
    if Conversation.objects.filter(
        group=assembly, question=COALITION_QUESTION
    ).exists():
        return
    member_services.role_grant_founding_admin(
        group=assembly, user=admin, reason="Demo: runs the coalition's conversations"
    )
    conversation = services.conversation_create(
        actor=admin,
        group=assembly,
        settings=services.ConversationSettings(
            question=COALITION_QUESTION,
            context=(
                "Members of **every organisation in the coalition** take part. Answer "
                "the statements, add your own, and the map shows where we stand "
                "together and where we differ."
            ),
            map_visibility=MapVisibility.PUBLIC,
        ),
        seeds=[text for text, _chances in COALITION_STATEMENTS],
    )
    statement_ids = list(
        conversation.statements.order_by("number").values_list("pk", flat=True)
    )
    # Everyone from the smaller affiliates, then party members up to 150.
    eligible = eligible_members(assembly).exclude(pk=admin.pk).order_by("id")
    party = set(
        eligible.filter(memberships__group__organisation__slug="npp").values_list(
            "pk", flat=True
        )
    )
    people = [u for u in eligible if u.pk not in party]
    people += [u for u in eligible if u.pk in party][: 150 - len(people)]
    for user in people:
        group = rng.choices(range(3), weights=GROUP_SHARES)[0]
        answered = rng.sample(range(len(statement_ids)), k=rng.randint(18, 34))
        for index in sorted(answered):
            chance = COALITION_STATEMENTS[index][1][group]
            _cast(user, conversation, statement_ids[index], _answer(rng, chance))
    services.conversation_close(actor=admin, conversation=conversation)
    services.conversation_finish(conversation_id=conversation.pk)


def _branch(
    leeds: Group, organiser: User, demo_member: User, rng: random.Random
) -> None:
    if Conversation.objects.filter(group=leeds, question=BRANCH_QUESTION).exists():
        return
    conversation = services.conversation_create(
        actor=organiser,
        group=leeds,
        settings=services.ConversationSettings(
            question=BRANCH_QUESTION,
            context="The branch has £2,000 to spend before the May elections.",
            moderation=Moderation.PRE,
        ),
        seeds=BRANCH_SEEDS,
    )
    statements = list(conversation.statements.order_by("number"))
    members = list(
        eligible_members(leeds)
        .exclude(pk__in=[organiser.pk, demo_member.pk])
        .order_by("id")[:16]
    )
    leaning = {user.pk: rng.random() for user in members}
    for user in members:
        for statement in rng.sample(statements, k=rng.randint(6, len(statements))):
            chance = leaning[user.pk] if statement.number % 2 else 1 - leaning[user.pk]
            _cast(user, conversation, statement.pk, _answer(rng, chance))
    # The demo member has answered a few; the rest wait for them.
    for statement in statements[:3]:
        _cast(demo_member, conversation, statement.pk, "agree")
    services.statement_add(  # by a member without a role: it waits for a moderator
        author=members[-1],
        conversation=conversation,
        text="We should ask local businesses to match what we spend on the market stall.",
    )
    services.map_refresh(conversation_id=conversation.pk)


def seed(context: dict[str, Any]) -> None:
    assembly = Group.objects.filter(slug="coalition-assembly").first()
    leeds = Group.objects.filter(slug="npp-leeds").first()
    if assembly is None or leeds is None:
        return
    admin = User.objects.get(email=email_for("admin"))
    organiser = User.objects.get(email=email_for("organiser"))
    demo_member = User.objects.get(email=email_for("member"))
    rng = random.Random(2026)  # noqa: S311 - demo choices, not security
    # Demo members have made-up addresses: send them no email; compute each map
    # once at the end rather than while the answers go in.
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
            CONVERSATION_MAP_DEBOUNCE_SECONDS=3600,
        ),
        mock.patch.object(services.maps, "_queue", lambda *args: None),
    ):
        _coalition(assembly, admin, rng)
        _branch(leeds, organiser, demo_member, rng)
