"""Reads about conversations that depend on the viewer; each runs a fixed number of
queries whatever the size of the conversation (the map page reads one stored map).

``access_for`` is the one place that works out what a user is to a conversation;
``vote_access`` answers the same question for the vote path in one statement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commonground.core.capabilities import Activity, GroupOverview, NeedsYou
from commonground.members.models import Group, Membership, Organisation, User
from commonground.members.selectors import Viewer, viewer_for

from . import map_page, rules
from .models import (
    Conversation,
    ConversationMap,
    Participant,
    Statement,
    StatementReport,
    Vote,
    VoteEvent,
)
from .rules import Access


def _affiliate_member(user: Any, group: Group) -> bool:
    organisation = group.organisation
    if organisation.kind != Organisation.Kind.COALITION:
        return False
    return Membership.objects.filter(
        user=user,
        status=Membership.Status.ACTIVE,
        group__organisation__coalitions=organisation,
    ).exists()


def _email_verified(user: Any) -> bool:
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, primary=True, verified=True).exists()


def access_for(
    user: Any, conversation: Conversation, viewer: Viewer | None = None
) -> Access:
    """What ``user`` is to ``conversation``: at most five queries (two with a viewer
    already resolved and no participant row asked for)."""
    access = Access(conversation=conversation, user=user)
    if not user.is_authenticated:
        return access
    viewer = viewer or viewer_for(user, conversation.group)
    access.is_member = viewer.is_member
    access.roles = frozenset(viewer.roles)
    if not access.is_member:
        access.is_affiliate_member = _affiliate_member(user, conversation.group)
        if not access.is_affiliate_member:
            access.email_verified = _email_verified(user)
    participant = (
        Participant.objects.filter(conversation=conversation, user=user)
        .values_list("pk", "number")
        .first()
    )
    if participant is not None:
        access.participant_id, access.participant_number = participant
    return access


def conversation_for_viewer(
    user: Any, conversation_id: int
) -> tuple[Conversation, Access] | None:
    """The conversation and the viewer's access, or None when they may not see it."""
    conversation = (
        Conversation.objects.select_related("group", "group__organisation")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        return None
    access = access_for(user, conversation)
    if not rules.can_see_conversation(access):
        return None
    return conversation, access


def statement_for_viewer(
    user: Any, statement_id: int
) -> tuple[Statement, Access] | None:
    statement = (
        Statement.objects.select_related(
            "conversation", "conversation__group", "conversation__group__organisation"
        )
        .filter(pk=statement_id)
        .first()
    )
    if statement is None:
        return None
    access = access_for(user, statement.conversation)
    if not rules.can_see_conversation(access):
        return None
    if not statement.is_visible and not rules.can_moderate(access):
        return None
    return statement, access


# Table names are spelled out (they are fixed by the models' app and names): the
# vote path's statements are plain constants, bound with parameters only.
VOTE_ACCESS_SQL = """
SELECT c.participation, c.closes_at, c.closed_at, c.map_visibility,
       c.statement_policy, g.is_public,
       EXISTS (SELECT 1 FROM members_membership m
               JOIN members_group mg ON mg.id = m.group_id
               WHERE m.user_id = %s AND m.status = 'active'
                 AND mg.path LIKE g.path || '%%') AS is_member,
       (o.kind = 'coalition' AND EXISTS (
               SELECT 1 FROM members_membership m
               JOIN members_group mg ON mg.id = m.group_id
               JOIN members_organisation_affiliates a
                    ON a.to_organisation_id = mg.organisation_id
               WHERE m.user_id = %s AND m.status = 'active'
                 AND a.from_organisation_id = o.id)) AS is_affiliate,
       EXISTS (SELECT 1 FROM account_emailaddress e
               WHERE e.user_id = %s AND e."primary" AND e.verified) AS verified,
       p.id, p.number
FROM conversations_conversation c
JOIN members_group g ON g.id = c.group_id
JOIN members_organisation o ON o.id = g.organisation_id
LEFT JOIN conversations_participant p
       ON p.conversation_id = c.id AND p.user_id = %s
WHERE c.id = %s
"""


# Row ids are 64-bit signed integers: a larger number in a URL matches nothing (and
# must not reach raw SQL, which would overflow).
MAX_ROW_ID = 2**63


def vote_access(user: Any, conversation_id: int) -> Access | None:
    """The access of the vote path, in one statement (None: no such conversation).

    The conversation it carries holds only the fields the rules read (and its
    group's visibility); roles are not resolved, as voting does not depend on them.
    """
    if not 0 < conversation_id < MAX_ROW_ID:  # a guessed id no row can have
        return None
    if not user.is_authenticated:
        return None
    with connection.cursor() as cursor:
        cursor.execute(VOTE_ACCESS_SQL, [user.pk] * 4 + [conversation_id])
        row = cursor.fetchone()
    if row is None:
        return None
    (
        participation,
        closes_at,
        closed_at,
        map_visibility,
        statement_policy,
        is_public,
        is_member,
        is_affiliate,
        verified,
        participant_id,
        participant_number,
    ) = row
    conversation = Conversation(
        pk=conversation_id,
        participation=participation,
        closes_at=_aware(closes_at),
        closed_at=_aware(closed_at),
        map_visibility=map_visibility,
        statement_policy=statement_policy,
    )
    conversation.group = Group(is_public=bool(is_public))
    return Access(
        conversation=conversation,
        user=user,
        is_member=bool(is_member),
        is_affiliate_member=bool(is_affiliate),
        email_verified=bool(verified),
        participant_id=participant_id,
        participant_number=participant_number,
    )


def _aware(value: Any) -> datetime | None:
    """A datetime column read by raw SQL: aware UTC on both backends."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite returns the stored text
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


# Choosing the next statement ----------------------------------------------------------

# Statements a participant is shown next are drawn, weighted by their priority (the
# Pol.is priority of the last map: few votes and much information rank high), from
# this many of the highest-priority statements they have not answered yet.
NEXT_CANDIDATES = 12


@dataclass(frozen=True)
class StatementCard:
    id: int
    number: int
    text: str
    is_seed: bool
    priority: float


# Highest priority first, straight from the statement_next_idx index (seed
# statements carry SEED_PRIORITY on top): the scan stops after NEXT_CANDIDATES
# unanswered ones. What is left is counted from the visible statements and the
# participant's own answers, never by scanning every unanswered statement.
NEXT_SQL = """
SELECT s.id, s.number, s.text, s.is_seed, s.priority,
       (SELECT count(*) FROM conversations_statement a
        WHERE a.conversation_id = %s AND a.status = 'accepted')
     - (SELECT count(*) FROM conversations_vote v
        JOIN conversations_statement b ON b.id = v.statement_id
        WHERE v.participant_id = %s AND b.conversation_id = %s
          AND b.status = 'accepted') AS remaining
FROM conversations_statement s
WHERE s.conversation_id = %s AND s.status = 'accepted'
  AND NOT EXISTS (SELECT 1 FROM conversations_vote v
                  WHERE v.statement_id = s.id AND v.participant_id = %s)
  AND s.id <> %s
ORDER BY s.priority DESC, s.number
LIMIT %s
"""


@dataclass(frozen=True)
class Candidates:
    cards: list[StatementCard]
    remaining: int


def next_candidates(
    conversation_id: int, participant_id: int | None, skip: int | None = None
) -> Candidates:
    """The statements to choose the next one from (seed statements first) and how
    many the participant has not answered yet: one query.

    ``skip`` leaves out a statement just answered, should the query not see that
    answer yet.
    """
    with connection.cursor() as cursor:
        participant = participant_id or 0
        cursor.execute(
            NEXT_SQL,
            [
                conversation_id,
                participant,
                conversation_id,
                conversation_id,
                participant,
                skip or 0,
                NEXT_CANDIDATES,
            ],
        )
        rows = cursor.fetchall()
    cards = [
        StatementCard(
            id=row[0],
            number=row[1],
            text=row[2],
            is_seed=bool(row[3]),
            priority=float(row[4]),
        )
        for row in rows
    ]
    return Candidates(cards=cards, remaining=int(rows[0][5]) if rows else 0)


def choose_next(candidates: list[StatementCard], rng: Any) -> StatementCard | None:
    """Pol.is's choice: an unanswered seed statement first, else a draw weighted by
    priority (statements with few votes and high information come up more)."""
    if not candidates:
        return None
    seeds = [card for card in candidates if card.is_seed]
    if seeds:
        return seeds[0]
    weights = [max(card.priority, 1e-6) for card in candidates]
    chosen: StatementCard = rng.choices(candidates, weights=weights, k=1)[0]
    return chosen


# The conversation page ------------------------------------------------------------------


@dataclass
class ConversationPage:
    conversation: Conversation
    access: Access
    open: bool
    statements: int
    participants: int
    my_votes: int = 0
    remaining: int = 0
    my_pending: list[Statement] = field(default_factory=list)
    waiting_for_moderation: int = 0


def conversation_page(
    conversation: Conversation, access: Access, now: datetime | None = None
) -> ConversationPage:
    """Counts for the conversation page: four queries (five for a moderator)."""
    now = now or timezone.now()
    visible = Statement.objects.filter(
        conversation=conversation, status=Statement.Status.ACCEPTED
    ).count()
    page = ConversationPage(
        conversation=conversation,
        access=access,
        open=conversation.is_open_at(now),
        statements=visible,
        participants=Participant.objects.filter(conversation=conversation)
        .filter(Exists(Vote.objects.filter(participant=OuterRef("pk"))))
        .count(),
    )
    if access.participant_id is not None:
        page.my_votes = Vote.objects.filter(
            participant_id=access.participant_id,
            statement__status=Statement.Status.ACCEPTED,
        ).count()
        page.my_pending = list(
            Statement.objects.filter(
                author_id=access.participant_id,
                status__in=[Statement.Status.PENDING, Statement.Status.REJECTED],
            ).order_by("number")
        )
    page.remaining = max(visible - page.my_votes, 0)
    if rules.can_moderate(access):
        page.waiting_for_moderation = moderation_waiting_count(conversation)
    return page


@dataclass(frozen=True)
class MyVote:
    statement: Statement
    value: int


def my_votes(access: Access, limit: int = 200) -> list[MyVote]:
    """The participant's answers to visible statements, newest first (one query)."""
    if access.participant_id is None:
        return []
    votes = (
        Vote.objects.filter(
            participant_id=access.participant_id,
            statement__status=Statement.Status.ACCEPTED,
        )
        .select_related("statement")
        .order_by("-at_ms", "-id")[:limit]
    )
    return [MyVote(statement=vote.statement, value=vote.value) for vote in votes]


# Moderation --------------------------------------------------------------------------


def moderation_waiting_count(conversation: Conversation) -> int:
    return Statement.objects.filter(
        Q(status__in=[Statement.Status.PENDING, Statement.Status.HIDDEN])
        | Q(status=Statement.Status.ACCEPTED, report_count__gt=0),
        conversation=conversation,
    ).count()


@dataclass
class ModerationQueue:
    pending: list[Statement]
    reported: list[Statement]
    rejected: list[Statement]


def moderation_queue(conversation: Conversation) -> ModerationQueue:
    """Statements waiting for a moderator, reported ones and rejected ones (3 queries)."""
    base = Statement.objects.filter(conversation=conversation).select_related(
        "author__user"
    )
    return ModerationQueue(
        pending=list(base.filter(status=Statement.Status.PENDING).order_by("number")),
        reported=list(
            base.filter(
                Q(status=Statement.Status.HIDDEN)
                | Q(status=Statement.Status.ACCEPTED, report_count__gt=0)
            )
            .prefetch_related("reports")
            .order_by("-report_count", "number")
        ),
        rejected=list(
            base.filter(status=Statement.Status.REJECTED).order_by("-moderated_at")[:50]
        ),
    )


def statement_reports(statement: Statement) -> list[StatementReport]:
    return list(
        statement.reports.filter(resolved_at__isnull=True).order_by("created_at")
    )


# The map --------------------------------------------------------------------------------


@dataclass
class MapView:
    """What the results page shows (see ``map_page``)."""

    map: ConversationMap | None
    page: map_page.PageData | None
    newer_votes: int = 0
    my_position: dict[str, Any] | None = None


def map_view(conversation: Conversation, access: Access) -> MapView:
    """The stored map with statement texts and sentences, the viewer's own point, and
    how many votes arrived since (three queries)."""
    stored = ConversationMap.objects.filter(conversation=conversation).first()
    if stored is None:
        newer = VoteEvent.objects.filter(conversation=conversation).count()
        return MapView(map=None, page=None, newer_votes=newer)
    texts: dict[int, str] = {}
    ids: dict[int, int] = {}
    proposals: dict[int, int] = {}
    for pk, number, text, proposal_id in Statement.objects.filter(
        conversation=conversation, status=Statement.Status.ACCEPTED
    ).values_list("pk", "number", "text", "proposal_id"):
        texts[number], ids[number] = text, pk
        if proposal_id is not None:
            proposals[number] = proposal_id
    page = map_page.page_data(json.loads(stored.page_json), texts, proposals, ids)
    newer = VoteEvent.objects.filter(
        conversation=conversation, id__gt=stored.through_event
    ).count()
    position = None
    if access.participant_number is not None:
        position = map_page.position_of(
            bytes(stored.positions), access.participant_number
        )
    return MapView(map=stored, page=page, newer_votes=newer, my_position=position)


# The group's home ------------------------------------------------------------------


def group_conversations(group: Group) -> dict[str, list[Conversation]]:
    """The group's conversations, open first (one query)."""
    now = timezone.now()
    grouped: dict[str, list[Conversation]] = {"open": [], "closed": []}
    conversations = (
        Conversation.objects.filter(group=group)
        .annotate(
            statement_count=Count(
                "statements",
                filter=Q(statements__status=Statement.Status.ACCEPTED),
                distinct=True,
            ),
            participant_count=Count("participants", distinct=True),
        )
        .order_by("-created_at", "-id")[:100]
    )
    for conversation in conversations:
        key = "open" if conversation.is_open_at(now) else "closed"
        grouped[key].append(conversation)
    return grouped


def _open_q(now: datetime) -> Q:
    return Q(closed_at__isnull=True) & (
        Q(closes_at__isnull=True) | Q(closes_at__gt=now)
    )


def group_open_count(group: Group, viewer: Any = None) -> int:
    """Open conversations in this group (one query)."""
    return Conversation.objects.filter(_open_q(timezone.now()), group=group).count()


def group_overview(group: Group, viewer: Viewer) -> GroupOverview:
    """Open conversations this member has not answered yet, and recent conversations
    (two queries)."""
    now = timezone.now()
    needs: list[NeedsYou] = []
    user = viewer.user
    if user.is_authenticated and viewer.is_member:
        waiting = (
            Conversation.objects.filter(_open_q(now), group=group)
            .exclude(
                Exists(
                    Vote.objects.filter(
                        conversation=OuterRef("pk"), participant__user=user
                    )
                )
            )
            .order_by("closes_at", "-created_at")[:10]
        )
        needs += [
            NeedsYou(
                text=_("Share your view: %(question)s")
                % {"question": conversation.question},
                url=reverse("conversations:detail", args=[conversation.pk]),
                due=conversation.closes_at,
            )
            for conversation in waiting
        ]
    activity: list[Activity] = []
    for conversation in Conversation.objects.filter(group=group).order_by(
        "-created_at"
    )[:5]:
        url = reverse("conversations:detail", args=[conversation.pk])
        activity.append(
            Activity(
                when=conversation.created_at,
                text=_("Conversation opened: %(question)s")
                % {"question": conversation.question},
                url=url,
            )
        )
        closed = conversation.closed_time(now)
        if closed is not None:
            activity.append(
                Activity(
                    when=closed,
                    text=_("Conversation closed: %(question)s")
                    % {"question": conversation.question},
                    url=reverse("conversations:map", args=[conversation.pk]),
                )
            )
    return GroupOverview(needs_you=needs, activity=activity)


def archive_blockers(group: Group) -> list[Any]:
    """An open conversation keeps its group from being archived."""
    count = Conversation.objects.filter(_open_q(timezone.now()), group=group).count()
    if not count:
        return []
    return [
        ngettext(
            "It has %(count)d open conversation.",
            "It has %(count)d open conversations.",
            count,
        )
        % {"count": count}
    ]


# Personal data ----------------------------------------------------------------------


def personal_data_conversations(user: Any) -> dict[str, Any]:
    """What the member said in conversations: their statements and their answers."""
    participants = list(
        Participant.objects.filter(user=user).select_related("conversation")
    )
    ids = [p.pk for p in participants]
    statements = Statement.objects.filter(author_id__in=ids).order_by(
        "conversation_id", "number"
    )
    votes = (
        Vote.objects.filter(participant_id__in=ids)
        .select_related("statement")
        .order_by("conversation_id", "statement__number")
    )
    return {
        "participations": [
            {
                "conversation": p.conversation_id,
                "question": p.conversation.question,
                "participant_number": p.number,
                "joined_at": p.joined_at.isoformat(),
            }
            for p in participants
        ],
        "statements": [
            {
                "conversation": s.conversation_id,
                "number": s.number,
                "text": s.text,
                "status": s.status,
            }
            for s in statements
        ],
        "votes": [
            {
                "conversation": v.conversation_id,
                "statement": v.statement.number,
                "vote": v.value,
                "at_ms": v.at_ms,
            }
            for v in votes
        ],
    }


def participant_users(conversation: Conversation) -> Any:
    """Members who answered at least one statement (for the map-ready notice)."""
    return User.objects.filter(
        pk__in=Participant.objects.filter(conversation=conversation, user__isnull=False)
        .filter(Exists(Vote.objects.filter(participant=OuterRef("pk"))))
        .values("user_id")
    )
