"""Reads about decisions that depend on the viewer; each runs a fixed number of queries.

Nothing here returns a result before its election has closed and been counted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commonground.core.capabilities import Activity, GroupOverview, NeedsYou
from commonground.members.models import Group, User
from commonground.members.selectors import (
    Viewer,
    active_memberships_of,
    subtree_active_members,
    subtree_active_memberships,
    viewer_for,
)

from . import rules
from .models import (
    Election,
    ElectionSeal,
    EligibleVoter,
    Nomination,
    Option,
    Participation,
    Proposal,
    TallyResult,
)
from .tally_adapter import round_sentence


def visible_group(user: Any, group: Group) -> Viewer | None:
    """The viewer if they may see the group's decisions, else None (views answer 404)."""
    viewer = viewer_for(user, group)
    return viewer if rules.can_see_group_decisions(viewer) else None


def proposal_for_editor(user: Any, proposal_id: int) -> tuple[Proposal, Viewer] | None:
    """The proposal if ``user`` may edit it now (an author of a draft), else None.

    Only authors see a draft at all; a published proposal changes only through
    amendments, so its edit page does not exist for anyone (views answer 404).
    """
    found = proposal_for_viewer(user, proposal_id)
    if found is None or not rules.can_edit_proposal(user, found[0]):
        return None
    return found


def coauthor_choices(group: Group, proposal: Proposal | None = None) -> Any:
    """Members who may be picked as co-authors: the group's active members who show
    their name in member lists (a hidden name is never listed), and whoever already
    co-authors ``proposal``, so that saving the form keeps them."""
    visible = subtree_active_members(group).filter(
        visibility=User.Visibility.MEMBERS, deleted_at__isnull=True
    )
    if proposal is None:
        return visible
    current = proposal.coauthors.values("pk")
    return (
        subtree_active_members(group)
        .filter(Q(pk__in=visible.values("pk")) | Q(pk__in=current))
        .distinct()
    )


def election_for_viewer(user: Any, election_id: int) -> tuple[Election, Viewer] | None:
    election = (
        Election.objects.select_related("group", "proposal", "amendment")
        .filter(pk=election_id)
        .first()
    )
    if election is None:
        return None
    viewer = visible_group(user, election.group)
    if viewer is None:
        return None
    return election, viewer


def proposal_for_viewer(user: Any, proposal_id: int) -> tuple[Proposal, Viewer] | None:
    proposal = (
        Proposal.objects.select_related("group", "author")
        .prefetch_related("coauthors")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None:
        return None
    viewer = visible_group(user, proposal.group)
    if viewer is None:
        return None
    if proposal.status == Proposal.Status.DRAFT and not (
        user.is_authenticated
        and (
            user.pk == proposal.author_id
            or any(c.pk == user.pk for c in proposal.coauthors.all())
        )
    ):
        return None
    return proposal, viewer


@dataclass
class GroupDecisions:
    open_elections: list[Election]
    upcoming_elections: list[Election]
    closed_elections: list[Election]
    proposals: list[Any]  # Proposals annotated with supporter_count


def group_decisions(
    group: Group, user: Any, now: datetime | None = None
) -> GroupDecisions:
    """Elections and proposals of one group: two queries."""
    now = now or timezone.now()
    elections = list(
        Election.objects.filter(group=group).order_by("-closes_at", "-id")[:100]
    )
    grouped: dict[str, list[Election]] = {"open": [], "upcoming": [], "closed": []}
    for election in elections:
        phase = election.phase_at(now)
        key = phase if phase in ("open", "closed") else "upcoming"
        grouped[key].append(election)
    proposals = list(
        Proposal.objects.filter(group=group)
        .filter(
            ~Q(status=Proposal.Status.DRAFT) | Q(author_id=getattr(user, "pk", None))
        )
        .annotate(supporter_count=Count("supports"))
        .order_by("-created_at", "-id")[:100]
    )
    return GroupDecisions(
        grouped["open"], grouped["upcoming"], grouped["closed"], proposals
    )


@dataclass
class ElectionPage:
    election: Election
    phase: str
    options: list[Option]
    nominations: list[Nomination] = field(default_factory=list)
    seal: ElectionSeal | None = None
    turnout: int = 0
    roll_size: int = 0
    on_roll: bool = False
    has_voted: bool = False
    my_nomination: Nomination | None = None
    seconded_ids: set[int] = field(default_factory=set)
    result: TallyResult | None = None


def election_page(
    election: Election, user: Any, now: datetime | None = None
) -> ElectionPage:
    now = now or timezone.now()
    phase = election.phase_at(now)
    page = ElectionPage(
        election=election,
        phase=phase,
        options=list(election.options.order_by("position")),
    )
    if election.kind == Election.Kind.ELECTION:
        page.nominations = list(
            election.nominations.exclude(status=Nomination.Status.WITHDRAWN)
            .select_related("member")
            .annotate(second_count=Count("seconds"))
            .order_by("created_at", "id")
        )
        if user.is_authenticated:
            page.my_nomination = next(
                (n for n in page.nominations if n.member_id == user.pk), None
            )
            page.seconded_ids = set(
                election.nominations.filter(seconds__member=user).values_list(
                    "pk", flat=True
                )
            )
    page.seal = ElectionSeal.objects.filter(election=election).first()
    if page.seal is not None:
        page.roll_size = page.seal.roll_size
        page.turnout = Participation.objects.filter(election=election).count()
        if user.is_authenticated:
            page.on_roll = EligibleVoter.objects.filter(
                election=election, member=user
            ).exists()
            page.has_voted = Participation.objects.filter(
                election=election, member=user
            ).exists()
    elif phase == "open" and user.is_authenticated:
        # Sealed on the first cast; until then the roll is "members at opening".
        page.on_roll = (
            subtree_active_memberships(election.group, since_by=election.opens_at)
            .filter(user=user)
            .exists()
        )
    if phase == "closed":
        page.result = published_result(election, now)
    return page


def elections_voted_in(user: Any, election_ids: Sequence[int]) -> set[int]:
    """Which of these elections ``user`` has voted in (turnout only, never how)."""
    if not user.is_authenticated or not election_ids:
        return set()
    return set(
        Participation.objects.filter(
            member=user, election_id__in=election_ids
        ).values_list("election_id", flat=True)
    )


def published_result(
    election: Election, now: datetime | None = None
) -> TallyResult | None:
    """The stored count, and only once voting has closed: the embargo lives here."""
    now = now or timezone.now()
    if election.phase_at(now) != "closed":
        return None
    return election.results.order_by("-counted_at").first()


def count_refused(election: Election) -> bool:
    """Whether a count of this election was refused for an integrity mismatch."""
    from commonground.audit.models import AuditEntry

    return AuditEntry.objects.filter(
        action="election.count_refused",
        target_type=Election._meta.label_lower,
        target_id=str(election.pk),
    ).exists()


@dataclass
class ResultsView:
    result: TallyResult
    data: dict[str, Any]
    rounds: list[dict[str, Any]]
    candidates: list[str]
    chart: dict[str, Any]
    outcome: dict[str, Any]


def results_view(result: TallyResult) -> ResultsView:
    data = json.loads(result.result_json)
    candidates = list(data["input"]["candidates"])
    rounds = []
    for round_data in data["rounds"]:
        rounds.append(
            {
                "number": round_data["round"],
                "action": round_data["action"],
                "sentence": round_sentence(round_data, data.get("quota")),
                "cells": [round_data["tallies"].get(name, "") for name in candidates],
                "transfers": [
                    round_data.get("transfers", {}).get(name, "") for name in candidates
                ],
                "exhausted": round_data.get("exhausted", ""),
            }
        )
    return ResultsView(
        result=result,
        data=data,
        rounds=rounds,
        candidates=candidates,
        chart=chart_data(data),
        outcome=result.outcome,
    )


def _node(name: str, number: Any) -> str:
    """A Sankey node's name: a candidate in one round."""
    return _("%(name)s · round %(round)s") % {"name": name, "round": number}


def chart_data(data: dict[str, Any]) -> dict[str, Any]:
    """Bars per round and a Sankey of transfers, for static/js/decisions.js."""
    candidates = list(data["input"]["candidates"])
    bars = [
        {
            "round": r["round"],
            "values": [float(r["tallies"].get(name, "0")) for name in candidates],
        }
        for r in data["rounds"]
        if "tallies" in r
    ]
    nodes: list[dict[str, str]] = []
    links: list[dict[str, Any]] = []
    rounds = [r for r in data["rounds"] if "tallies" in r]
    for index, r in enumerate(rounds):
        for name in candidates:
            if float(r["tallies"].get(name, "0")) > 0 or index == 0:
                nodes.append({"name": _node(name, r["round"])})
        if index == 0:
            continue
        previous = rounds[index - 1]
        moved = set(r.get("subject", []))
        for name in candidates:
            before = float(previous["tallies"].get(name, "0"))
            if before <= 0:
                continue
            # A candidate whose votes move keeps what the round leaves them (the
            # quota after a surplus, nothing after an exclusion); others keep all.
            kept = before if name not in moved else float(r["tallies"].get(name, "0"))
            if kept > 0:
                links.append(
                    {
                        "source": _node(name, previous["round"]),
                        "target": _node(name, r["round"]),
                        "value": kept,
                    }
                )
        for giver in moved:
            for receiver, amount in r.get("transfers", {}).items():
                value = float(amount)
                if receiver != giver and value > 0:
                    links.append(
                        {
                            "source": _node(giver, previous["round"]),
                            "target": _node(receiver, r["round"]),
                            "value": value,
                        }
                    )
    names = {node["name"] for node in nodes}
    links = [
        link for link in links if link["source"] in names and link["target"] in names
    ]
    return {
        "candidates": candidates,
        "bars": bars,
        "sankey": {"nodes": nodes, "links": links},
    }


def published_trackers(result: TallyResult) -> list[str]:
    """Tracker codes of every counted ballot, sorted: no order, no link to contents."""
    return result.trackers_text.split()


def published_ballots(result: TallyResult) -> list[dict[str, Any]]:
    """The anonymised ballots as counted (sorted by content), from the stored count."""
    return [json.loads(line) for line in result.ballots_text.splitlines() if line]


def readable_ballots(result: TallyResult) -> list[str]:
    candidates = result.engine_input["candidates"]
    lines = []
    for paper in published_ballots(result):
        if "ranking" in paper:
            lines.append(
                " > ".join(
                    " = ".join(candidates[p] for p in group)
                    for group in paper["ranking"]
                )
            )
        else:
            lines.append(
                ", ".join(
                    f"{candidates[i]}: {v}" for i, v in enumerate(paper["grid"]) if v
                )
            )
    return lines


# The group's home ---------------------------------------------------------------------


def group_open_items(group: Group, viewer: Any = None) -> int:
    """Ballots open now plus proposals gathering support, in this group: one query."""
    now = timezone.now()
    ballots = (
        Election.objects.filter(group=group, opens_at__lte=now, closes_at__gt=now)
        .values_list("id")
        .order_by()
    )
    proposals = (
        Proposal.objects.filter(group=group, status=Proposal.Status.DISCUSSION)
        .values_list("id")
        .order_by()
    )
    return ballots.union(proposals, all=True).count()


def group_overview(group: Group, viewer: Viewer) -> GroupOverview:
    """What waits for this member in the group, and its recent decisions: four queries."""
    now = timezone.now()
    needs: list[NeedsYou] = []
    user = viewer.user
    if rules.can_take_part(viewer):
        ballots = (
            Election.objects.filter(group=group, opens_at__lte=now, closes_at__gt=now)
            .filter(Q(roll__member=user) | Q(seal__isnull=True))
            .exclude(participations__member=user)
            .distinct()
            .order_by("closes_at")[:10]
        )
        needs += [
            NeedsYou(
                text=_("Vote: %(title)s") % {"title": election.title},
                url=reverse("decisions:election_detail", args=[election.pk]),
                due=election.closes_at,
            )
            for election in ballots
        ]
        proposals = (
            Proposal.objects.filter(group=group, status=Proposal.Status.DISCUSSION)
            .exclude(supports__member=user)
            .annotate(supporter_count=Count("supports"))
            .order_by("support_closes_at")[:10]
        )
        needs += [_support_needed(proposal) for proposal in proposals]
    return GroupOverview(needs_you=needs, activity=_recent_decisions(group, now))


def _support_needed(proposal: Any) -> NeedsYou:
    """``proposal`` carries its ``supporter_count`` (annotated)."""
    short = max((proposal.supporters_needed or 0) - proposal.supporter_count, 0)
    if short:
        text = ngettext(
            "%(title)s: %(count)d more supporter needed",
            "%(title)s: %(count)d more supporters needed",
            short,
        ) % {"title": proposal.title, "count": short}
    else:
        text = _("%(title)s: gathering support") % {"title": proposal.title}
    return NeedsYou(
        text=text,
        url=reverse("decisions:proposal_detail", args=[proposal.pk]),
        due=proposal.support_closes_at,
    )


def _recent_decisions(group: Group, now: datetime) -> list[Activity]:
    activity: list[Activity] = []
    for election in Election.objects.filter(group=group, opens_at__lte=now).order_by(
        "-opens_at"
    )[:5]:
        url = reverse("decisions:election_detail", args=[election.pk])
        activity.append(
            Activity(
                when=election.opens_at or now,
                text=_("Ballot opened: %(title)s") % {"title": election.title},
                url=url,
            )
        )
        if election.closes_at and election.closes_at <= now:
            activity.append(
                Activity(
                    when=election.closes_at,
                    text=_("Ballot closed: %(title)s") % {"title": election.title},
                    url=url,
                )
            )
    for proposal in Proposal.objects.filter(
        group=group, published_at__isnull=False
    ).order_by("-published_at")[:5]:
        activity.append(
            Activity(
                when=proposal.published_at or now,
                text=_("Proposal published: %(title)s") % {"title": proposal.title},
                url=reverse("decisions:proposal_detail", args=[proposal.pk]),
            )
        )
    return activity


# Dashboard ----------------------------------------------------------------------------


def dashboard_decisions(request: Any) -> dict[str, Any]:
    """Ballots open to me that I have not voted in, and proposals gathering support: 3 queries."""
    user = request.user
    now = timezone.now()
    member_groups = active_memberships_of(user)
    paths = list(member_groups.values_list("group__path", flat=True))
    ancestor_ids: set[int] = set()
    for path in paths:
        ancestor_ids.update(int(part) for part in path.strip("/").split("/") if part)
    open_elections = list(
        Election.objects.filter(
            group_id__in=ancestor_ids, opens_at__lte=now, closes_at__gt=now
        )
        # On the frozen roll, or not sealed yet (the roll is fixed on first cast).
        .filter(Q(roll__member=user) | Q(seal__isnull=True))
        .exclude(participations__member=user)
        .distinct()
        .select_related("group")
        .order_by("closes_at")[:20]
    )
    proposals = list(
        Proposal.objects.filter(
            group_id__in=ancestor_ids, status=Proposal.Status.DISCUSSION
        )
        .select_related("group")
        .annotate(supporter_count=Count("supports"))
        .order_by("support_closes_at")[:20]
    )
    return {"open_elections": open_elections, "proposals": proposals}


__all__ = [
    "ElectionPage",
    "GroupDecisions",
    "ResultsView",
    "dashboard_decisions",
    "election_for_viewer",
    "election_page",
    "group_decisions",
    "proposal_for_viewer",
    "published_ballots",
    "published_result",
    "published_trackers",
    "readable_ballots",
    "results_view",
    "visible_group",
]


def personal_data_decisions(user: Any) -> dict[str, Any]:
    """The member's part in decisions, for their data export: never ballot contents."""
    from .models import Amendment, Nomination, ProposalSupport, Second

    return {
        "proposals_authored": [
            {"id": p.pk, "title": p.title, "status": p.status, "text": p.text}
            for p in Proposal.objects.filter(author=user)
        ],
        "proposals_supported": list(
            ProposalSupport.objects.filter(member=user).values_list(
                "proposal_id", flat=True
            )
        ),
        "amendments": [
            {"id": a.pk, "proposal": a.proposal_id, "title": a.title, "text": a.text}
            for a in Amendment.objects.filter(author=user)
        ],
        "nominations": [
            {"election": n.election_id, "statement": n.statement, "status": n.status}
            for n in Nomination.objects.filter(member=user)
        ],
        "seconds": list(
            Second.objects.filter(member=user).values_list("nomination_id", flat=True)
        ),
        "ballots_taken_part_in": [
            {
                "election": p.election_id,
                "title": p.election.title,
                "cast_at": p.cast_at.isoformat(),
            }
            for p in Participation.objects.filter(member=user).select_related(
                "election"
            )
        ],
    }


def archive_blockers(group: Group) -> list[Any]:
    """Why the group cannot be archived now: a ballot open or yet to open in it, or a
    proposal still gathering support or being voted on."""
    now = timezone.now()
    reasons: list[Any] = []
    ballots = Election.objects.filter(group=group, closes_at__gt=now).count()
    if ballots:
        reasons.append(
            ngettext(
                "It has %(count)d ballot open or yet to open.",
                "It has %(count)d ballots open or yet to open.",
                ballots,
            )
            % {"count": ballots}
        )
    live = Proposal.objects.filter(
        group=group,
        status__in=[Proposal.Status.DISCUSSION, Proposal.Status.BALLOT],
    ).count()
    if live:
        reasons.append(
            ngettext(
                "It has %(count)d proposal still being decided.",
                "It has %(count)d proposals still being decided.",
                live,
            )
            % {"count": live}
        )
    return reasons
