"""Reads of a panel's deliberation: who is on the panel, the space a viewer sees,
the public timetable and the published recommendations.

Every read here asks ``deliberation_rules``; none of them shows a pseudonym, and
none links a panel member to their registration for anyone but the organisers
(the panel list shows names only, to the panel and organisers, as people who
meet in the same room would know them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from commonground.decisions.selectors import elections_voted_in
from commonground.members.models import User
from commonground.members.selectors import viewer_for

from . import deliberation_rules as panel_rules
from .deliberation_rules import PanelAccess
from .models import (
    Assembly,
    PanelSeat,
    Recommendation,
    RecommendationStatus,
    SeatStatus,
    Session,
)


def seated_seats(assembly: Assembly) -> QuerySet[PanelSeat]:
    """The seats held now (drop-outs excluded)."""
    return PanelSeat.objects.filter(assembly=assembly, status=SeatStatus.SEATED)


def panel_member_ids(assembly: Assembly) -> list[int]:
    """Account ids of the seated panel members who have an account (the roll of
    the panel's votes), in id order."""
    return sorted(
        seated_seats(assembly)
        .filter(registrant__user__isnull=False, registrant__user__deleted_at=None)
        .values_list("registrant__user_id", flat=True)
    )


def panel_members(assembly: Assembly) -> QuerySet[User]:
    return User.objects.filter(pk__in=panel_member_ids(assembly)).order_by(
        "display_name", "id"
    )


def panel_access(user: Any, assembly: Assembly) -> PanelAccess:
    """What ``user`` is to ``assembly``: three queries (memberships, roles, seat)."""
    viewer = viewer_for(user, assembly.group)
    seat_id = None
    if user is not None and user.is_authenticated:
        seat_id = (
            seated_seats(assembly)
            .filter(registrant__user=user)
            .values_list("pk", flat=True)
            .first()
        )
    return PanelAccess(assembly=assembly, viewer=viewer, seat_id=seat_id)


def assembly_by_slug(slug: str) -> Assembly | None:
    return Assembly.objects.select_related("group").filter(slug=slug).first()


def session_of(assembly: Assembly, session_id: int) -> Session | None:
    return (
        Session.objects.filter(assembly=assembly, pk=session_id)
        .prefetch_related("speakers")
        .first()
    )


def recommendation_of(
    assembly: Assembly, recommendation_id: int
) -> Recommendation | None:
    return Recommendation.objects.filter(
        assembly=assembly, pk=recommendation_id
    ).first()


@dataclass
class SessionItem:
    """A session as this viewer may see it."""

    session: Session
    show_materials: bool
    show_link: bool


@dataclass
class PanelSpace:
    """The panel's space as one viewer sees it."""

    access: PanelAccess
    sessions: list[SessionItem]
    can_enter: bool
    can_schedule: bool = False
    can_discuss: bool = False
    can_draft: bool = False
    can_open_vote: bool = False
    can_vote: bool = False
    can_publish: bool = False
    can_invite: bool = False
    drafts: list[Recommendation] = field(default_factory=list)
    voting: list[Recommendation] = field(default_factory=list)
    decided: list[Recommendation] = field(default_factory=list)
    voted_election_ids: set[int] = field(default_factory=set)
    panel: list[str] = field(default_factory=list)
    panel_size: int = 0
    waiting_to_join: int = 0
    not_yet_invited: int = 0


def sessions_for(access: PanelAccess) -> list[SessionItem]:
    """The timetable: every session, with materials and link where allowed."""
    sessions = Session.objects.filter(assembly=access.assembly).prefetch_related(
        "speakers"
    )
    show_link = panel_rules.can_see_session_link(access)
    return [
        SessionItem(
            session=session,
            show_materials=panel_rules.can_see_session_materials(access, session),
            show_link=show_link,
        )
        for session in sessions
    ]


def panel_space(access: PanelAccess) -> PanelSpace:
    """Everything the space page shows this viewer, in a fixed number of queries."""
    space = PanelSpace(
        access=access,
        sessions=sessions_for(access),
        can_enter=panel_rules.can_enter_panel_space(access),
    )
    if not space.can_enter:
        return space
    space.can_schedule = panel_rules.can_schedule_sessions(access)
    space.can_discuss = panel_rules.can_discuss(access)
    space.can_draft = panel_rules.can_draft_recommendation(access)
    space.can_open_vote = panel_rules.can_open_panel_vote(access)
    space.can_vote = panel_rules.can_vote_as_panel(access)
    space.can_publish = panel_rules.can_publish_recommendations(access)
    space.can_invite = panel_rules.is_organiser(access)
    recommendations = list(
        Recommendation.objects.filter(assembly=access.assembly).select_related(
            "election"
        )
    )
    for recommendation in recommendations:
        if recommendation.status == RecommendationStatus.DRAFT:
            space.drafts.append(recommendation)
        elif recommendation.status == RecommendationStatus.VOTING:
            space.voting.append(recommendation)
        else:
            space.decided.append(recommendation)
    if space.can_vote and space.voting:
        space.voted_election_ids = elections_voted_in(
            access.user, [r.election_id for r in space.voting if r.election_id]
        )
    seats = list(seated_seats(access.assembly).select_related("registrant__user"))
    space.panel_size = len(seats)
    space.panel = sorted(
        seat.registrant.user.public_name
        for seat in seats
        if seat.registrant.user is not None
    )
    space.waiting_to_join = sum(1 for seat in seats if seat.registrant.user is None)
    space.not_yet_invited = sum(
        1
        for seat in seats
        if seat.registrant.user is None and not hasattr(seat, "welcome")
    )
    return space


def published_recommendations(assembly: Assembly) -> list[Recommendation]:
    """The public page: recommendations once published, with their outcome."""
    return list(
        Recommendation.objects.filter(
            assembly=assembly, published_at__isnull=False
        ).select_related("proposal", "ballot")
    )


def dashboard_panel_seats(request: Any) -> dict[str, Any]:
    """The member's dashboard: the panels they sit on, each with the recommendations
    waiting for their vote. Three queries whatever the numbers."""
    user = request.user
    seats = list(
        PanelSeat.objects.filter(status=SeatStatus.SEATED, registrant__user=user)
        .select_related("assembly")
        .order_by("-assembly__created_at", "-assembly_id")[:10]
    )
    voting = list(
        Recommendation.objects.filter(
            assembly_id__in=[seat.assembly_id for seat in seats],
            status=RecommendationStatus.VOTING,
            election__isnull=False,
        ).values_list("assembly_id", "election_id")
    )
    voted = elections_voted_in(user, [election_id for _a, election_id in voting])
    waiting = Counter(
        assembly_id for assembly_id, election_id in voting if election_id not in voted
    )
    return {
        "panels": [
            {"assembly": seat.assembly, "waiting": waiting[seat.assembly_id]}
            for seat in seats
        ]
    }


def personal_data_recommendations(user: Any) -> list[dict[str, Any]]:
    """The recommendations the member drafted for a panel (their words)."""
    return [
        {
            "assembly": recommendation.assembly.title,
            "number": recommendation.number,
            "title": recommendation.title,
            "text": recommendation.text,
            "drafted_at": recommendation.created_at.isoformat(),
        }
        for recommendation in Recommendation.objects.filter(
            drafted_by=user
        ).select_related("assembly")
    ]


def recommendation_for_proposal(proposal_id: int) -> Recommendation | None:
    """The recommendation a proposal came from (the link back), if any."""
    return (
        Recommendation.objects.filter(proposal_id=proposal_id)
        .select_related("assembly")
        .first()
    )
