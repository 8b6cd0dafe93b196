"""Every state change of proposals, amendments, nominations and elections.

Each function is typed, keyword-only and atomic: permission check, write, audit entry
and notification (after commit). Ballot contents never reach the audit log, the logs
or an email; casts are recorded as a Participation (who) and a Ballot (what) that
share nothing but a keyed hash (docs/ballot-integrity.md).
"""

from __future__ import annotations

import json
import logging
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from commonground.audit.services import audit_record
from commonground.members.models import Group, Membership, User
from commonground.members.selectors import group_active_member_count, viewer_for

from . import notifications, papers, rules
from .models import (
    Amendment,
    Ballot,
    Election,
    ElectionSeal,
    EligibleVoter,
    Method,
    Nomination,
    Option,
    Participation,
    Proposal,
    ProposalSupport,
    Second,
    StvRules,
    TallyResult,
)
from .secrecy import sha256_text, tracker_code, voter_token
from .tally_adapter import (
    METHOD_VERSION,
    count_ballots,
    definition_document,
    election_outcome,
)

logger = logging.getLogger(__name__)


class DecisionRefused(Exception):
    """A refusal to show the member: ``status`` is the HTTP status a view answers with."""

    def __init__(self, message: str, *, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class IntegrityMismatch(DecisionRefused):
    """The election's stored definition no longer matches its seal: counting refuses."""


def _now() -> datetime:
    return timezone.now()


def _require_member(actor: Any, group: Group) -> None:
    if not rules.can_take_part(viewer_for(actor, group)):
        raise PermissionDenied("only active members of this group can do this")


def _require_runner(actor: Any, group: Group) -> None:
    if not rules.can_run_elections(viewer_for(actor, group)):
        raise PermissionDenied(
            "only the group's organisers, returning officers and admins can do this"
        )


def _is_author(actor: Any, proposal: Proposal) -> bool:
    if actor is None or not actor.is_authenticated:
        return False
    return (
        actor.pk == proposal.author_id
        or proposal.coauthors.filter(pk=actor.pk).exists()
    )


# Proposals ---------------------------------------------------------------------------


@transaction.atomic
def proposal_create(
    *,
    author: User,
    group: Group,
    title: str,
    text: str,
    coauthors: Sequence[User] = (),
    support_share_percent: int = 10,
    support_period_days: int = 30,
    voting_days: int = 7,
) -> Proposal:
    _require_member(author, group)
    if not 1 <= support_share_percent <= 100:
        raise ValidationError(
            {"support_share_percent": "Choose a share from 1 to 100%."}
        )
    if not 1 <= support_period_days <= 365 or not 1 <= voting_days <= 60:
        raise ValidationError("Periods must be between a day and a year.")
    proposal = Proposal.objects.create(
        group=group,
        title=title.strip(),
        text=text,
        author=author,
        support_share_percent=support_share_percent,
        support_period_days=support_period_days,
        voting_days=voting_days,
        created_at=_now(),
    )
    _set_coauthors(proposal, coauthors)
    audit_record(actor=author, action="proposal.created", target=proposal, group=group)
    return proposal


def _set_coauthors(proposal: Proposal, coauthors: Sequence[User]) -> None:
    others = [user for user in coauthors if user.pk != proposal.author_id]
    for user in others:
        if not rules.can_take_part(viewer_for(user, proposal.group)):
            raise ValidationError(
                {"coauthors": "Co-authors must be members of the group."}
            )
    proposal.coauthors.set(others)


@transaction.atomic
def proposal_update(
    *,
    actor: User,
    proposal: Proposal,
    title: str,
    text: str,
    coauthors: Sequence[User] = (),
) -> Proposal:
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if not _is_author(actor, proposal):
        raise PermissionDenied("only the proposal's authors can edit it")
    if proposal.status != Proposal.Status.DRAFT:
        raise DecisionRefused("A published proposal changes only through amendments.")
    proposal.title = title.strip()
    proposal.text = text
    proposal.save(update_fields=["title", "text"])
    _set_coauthors(proposal, coauthors)
    audit_record(
        actor=actor, action="proposal.edited", target=proposal, group=proposal.group
    )
    return proposal


@transaction.atomic
def proposal_publish(*, actor: User, proposal: Proposal) -> Proposal:
    proposal = (
        Proposal.objects.select_for_update().select_related("group").get(pk=proposal.pk)
    )
    if not _is_author(actor, proposal):
        raise PermissionDenied("only the proposal's authors can publish it")
    if proposal.status != Proposal.Status.DRAFT:
        raise DecisionRefused("This proposal is already published.")
    now = _now()
    members = group_active_member_count(proposal.group)
    proposal.status = Proposal.Status.DISCUSSION
    proposal.published_at = now
    proposal.support_closes_at = now + timedelta(days=proposal.support_period_days)
    proposal.supporters_needed = max(
        1, math.ceil(members * proposal.support_share_percent / 100)
    )
    proposal.save(
        update_fields=[
            "status",
            "published_at",
            "support_closes_at",
            "supporters_needed",
        ]
    )
    audit_record(
        actor=actor,
        action="proposal.published",
        target=proposal,
        group=proposal.group,
        data={"supporters_needed": proposal.supporters_needed, "members": members},
    )
    return proposal


@transaction.atomic
def proposal_support(*, member: User, proposal: Proposal) -> Proposal:
    """Add the member's support; at the threshold the proposal goes to a ballot."""
    proposal = (
        Proposal.objects.select_for_update().select_related("group").get(pk=proposal.pk)
    )
    _require_member(member, proposal.group)
    now = _now()
    if proposal.status != Proposal.Status.DISCUSSION:
        raise DecisionRefused("This proposal is not gathering support.")
    if proposal.support_closes_at and now >= proposal.support_closes_at:
        raise DecisionRefused("The time to support this proposal has ended.")
    ProposalSupport.objects.get_or_create(
        proposal=proposal, member=member, defaults={"created_at": now}
    )
    _send_if_supported(proposal, now)
    return proposal


@transaction.atomic
def proposal_withdraw_support(*, member: User, proposal: Proposal) -> None:
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != Proposal.Status.DISCUSSION:
        raise DecisionRefused("This proposal is no longer gathering support.")
    ProposalSupport.objects.filter(proposal=proposal, member=member).delete()


def _send_if_supported(proposal: Proposal, now: datetime) -> bool:
    """Inside a transaction holding the proposal's row lock."""
    supporters = ProposalSupport.objects.filter(proposal=proposal).count()
    if (
        proposal.supporters_needed is not None
        and supporters >= proposal.supporters_needed
    ):
        _proposal_to_ballot(proposal, actor=None, now=now, reason="enough supporters")
        return True
    return False


@transaction.atomic
def proposal_send_to_ballot(*, actor: User, proposal: Proposal) -> Election:
    proposal = (
        Proposal.objects.select_for_update().select_related("group").get(pk=proposal.pk)
    )
    _require_runner(actor, proposal.group)
    if proposal.status not in (Proposal.Status.DISCUSSION, Proposal.Status.DRAFT):
        raise DecisionRefused("This proposal has already gone to a ballot.")
    if proposal.status == Proposal.Status.DRAFT:
        raise DecisionRefused("Its authors have not published this proposal yet.")
    return _proposal_to_ballot(
        proposal, actor=actor, now=_now(), reason="sent by an organiser"
    )


def _proposal_to_ballot(
    proposal: Proposal, *, actor: User | None, now: datetime, reason: str
) -> Election:
    closes_at = now + timedelta(days=proposal.voting_days)
    election = _create_election(
        actor=actor,
        group=proposal.group,
        title=f"Proposal: {proposal.title}",
        description=proposal.text,
        kind=Election.Kind.PROPOSAL,
        method=Method.YES_NO,
        options=["Yes", "No", "Abstain"],
        opens_at=now,
        closes_at=closes_at,
        proposal=proposal,
        majority_percent=50,
    )
    for amendment in proposal.amendments.filter(
        status__in=[Amendment.Status.PROPOSED, Amendment.Status.TO_VOTE]
    ):
        Amendment.objects.filter(pk=amendment.pk).update(
            status=Amendment.Status.TO_VOTE
        )
        _create_election(
            actor=actor,
            group=proposal.group,
            title=f"Amendment to {proposal.title}: {amendment.title}",
            description=amendment.text,
            kind=Election.Kind.AMENDMENT,
            method=Method.YES_NO,
            options=["Yes", "No", "Abstain"],
            opens_at=now,
            closes_at=closes_at,
            proposal=proposal,
            amendment=amendment,
            majority_percent=50,
        )
    proposal.status = Proposal.Status.BALLOT
    proposal.sent_to_ballot_at = now
    proposal.save(update_fields=["status", "sent_to_ballot_at"])
    audit_record(
        actor=actor,
        action="proposal.sent_to_ballot",
        target=proposal,
        group=proposal.group,
        reason=reason,
        data={"election": election.pk},
    )
    for created in proposal.elections.all():
        _seal(created, now)
    return election


def proposals_check_support(*, now: datetime | None = None) -> dict[str, int]:
    """Periodic and idempotent: send supported proposals to a ballot, lapse expired ones."""
    now = now or _now()
    sent = lapsed = 0
    for proposal_id in Proposal.objects.filter(
        status=Proposal.Status.DISCUSSION
    ).values_list("pk", flat=True):
        with transaction.atomic():
            proposal = (
                Proposal.objects.select_for_update()
                .select_related("group")
                .get(pk=proposal_id)
            )
            if proposal.status != Proposal.Status.DISCUSSION:
                continue
            if _send_if_supported(proposal, now):
                sent += 1
            elif proposal.support_closes_at and now >= proposal.support_closes_at:
                proposal.status = Proposal.Status.LAPSED
                proposal.save(update_fields=["status"])
                audit_record(
                    actor=None,
                    action="proposal.lapsed",
                    target=proposal,
                    group=proposal.group,
                )
                lapsed += 1
    return {"sent": sent, "lapsed": lapsed}


# Amendments --------------------------------------------------------------------------


@transaction.atomic
def amendment_propose(
    *, member: User, proposal: Proposal, title: str, text: str
) -> Amendment:
    proposal = (
        Proposal.objects.select_for_update().select_related("group").get(pk=proposal.pk)
    )
    _require_member(member, proposal.group)
    if proposal.status != Proposal.Status.DISCUSSION:
        raise DecisionRefused(
            "Amendments can be proposed while a proposal is under discussion."
        )
    amendment = Amendment.objects.create(
        proposal=proposal,
        author=member,
        title=title.strip(),
        text=text,
        created_at=_now(),
    )
    audit_record(
        actor=member,
        action="amendment.proposed",
        target=amendment,
        group=proposal.group,
    )
    return amendment


@transaction.atomic
def amendment_decide(*, actor: User, amendment: Amendment, accept: bool) -> Amendment:
    """The authors accept an amendment into their text, or let it go to the vote alongside."""
    amendment = (
        Amendment.objects.select_for_update()
        .select_related("proposal__group")
        .get(pk=amendment.pk)
    )
    proposal = Proposal.objects.select_for_update().get(pk=amendment.proposal_id)
    if not _is_author(actor, proposal):
        raise PermissionDenied("only the proposal's authors decide on amendments")
    if proposal.status != Proposal.Status.DISCUSSION or amendment.status != "proposed":
        raise DecisionRefused("This amendment has already been decided.")
    if accept:
        amendment.status = Amendment.Status.ACCEPTED
        proposal.text = f"{proposal.text.rstrip()}\n\n**Amendment accepted: {amendment.title}**\n\n{amendment.text}"
        proposal.save(update_fields=["text"])
    else:
        amendment.status = Amendment.Status.TO_VOTE
    amendment.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="amendment.accepted" if accept else "amendment.sent_to_vote",
        target=amendment,
        group=amendment.proposal.group,
    )
    return amendment


# Elections: definition ---------------------------------------------------------------


@dataclass(frozen=True)
class ElectionSpec:
    title: str
    method: str
    closes_at: datetime | None
    opens_at: datetime | None = None
    description: str = ""
    options: Sequence[str] = ()
    seats: int = 1
    rules: str = StvRules.SCOTTISH
    max_score: int = 5
    quorum_percent: int = 0
    majority_percent: int = 50
    allow_revote: bool = True
    nominations_open_at: datetime | None = None
    nominations_close_at: datetime | None = None
    required_seconds: int = 1


def _clean_label(label: str) -> str:
    # Names are exported to CSV: never let one start like a spreadsheet formula.
    return label.strip().lstrip("=+-@").strip()[:200]


def _create_election(
    *,
    actor: User | None,
    group: Group,
    title: str,
    method: str,
    closes_at: datetime | None,
    opens_at: datetime | None,
    kind: str = Election.Kind.QUESTION,
    description: str = "",
    options: Sequence[str] = (),
    seats: int = 1,
    rules: str = StvRules.SCOTTISH,
    max_score: int = 5,
    quorum_percent: int = 0,
    majority_percent: int = 50,
    allow_revote: bool = True,
    nominations_open_at: datetime | None = None,
    nominations_close_at: datetime | None = None,
    required_seconds: int = 1,
    proposal: Proposal | None = None,
    amendment: Amendment | None = None,
) -> Election:
    errors: dict[str, str] = {}
    if method not in Method.values:
        errors["method"] = "Choose a counting method."
    if opens_at and closes_at and closes_at <= opens_at:
        errors["closes_at"] = "Voting must close after it opens."
    labels = [_clean_label(label) for label in options if _clean_label(label)]
    if kind != Election.Kind.ELECTION:
        if len(labels) < 2:
            errors["options"] = "Give at least two options, one per line."
        elif len(set(labels)) != len(labels):
            errors["options"] = "Each option must be different."
    else:
        if not nominations_open_at or not nominations_close_at:
            errors["nominations_close_at"] = "An election needs a nomination period."
        elif nominations_close_at <= nominations_open_at:
            errors["nominations_close_at"] = "Nominations must close after they open."
        elif opens_at and opens_at < nominations_close_at:
            errors["opens_at"] = "Voting opens after nominations (and hustings) close."
    if method == Method.YES_NO and kind == Election.Kind.QUESTION and len(labels) != 3:
        labels = ["Yes", "No", "Abstain"]
        errors.pop("options", None)
    multi_seat = method in (Method.STV, Method.APPROVAL, Method.SCORE)
    if seats < 1 or (seats > 1 and not multi_seat):
        errors["seats"] = "Only STV, approval and score elect more than one."
    if kind != Election.Kind.ELECTION and seats >= len(labels) >= 2:
        errors["seats"] = "There must be more options than seats."
    if rules not in StvRules.values:
        errors["rules"] = "Choose an STV rule set."
    if not 0 <= quorum_percent <= 100 or not 0 <= majority_percent < 100:
        errors["quorum_percent"] = "Percentages run from 0 to 100."
    if not 1 <= max_score <= 10:
        errors["max_score"] = "The highest score is between 1 and 10."
    if errors:
        raise ValidationError(errors)
    election = Election.objects.create(
        group=group,
        title=title.strip(),
        description=description,
        kind=kind,
        method=method,
        seats=seats,
        rules=rules,
        max_score=max_score,
        quorum_percent=quorum_percent,
        majority_percent=majority_percent,
        allow_revote=allow_revote,
        required_seconds=required_seconds,
        nominations_open_at=nominations_open_at,
        nominations_close_at=nominations_close_at,
        opens_at=opens_at,
        closes_at=closes_at,
        created_by=actor,
        created_at=_now(),
        proposal=proposal,
        amendment=amendment,
    )
    Option.objects.bulk_create(
        [
            Option(election=election, position=i, label=label)
            for i, label in enumerate(labels)
        ]
    )
    audit_record(
        actor=actor,
        action="election.created",
        target=election,
        group=group,
        data={"method": method, "seats": seats, "kind": kind},
    )
    return election


@transaction.atomic
def election_create(
    *, actor: User, group: Group, spec: ElectionSpec, kind: str
) -> Election:
    """An organiser, returning officer or admin sets up a question or an election."""
    _require_runner(actor, group)
    if kind not in (Election.Kind.QUESTION, Election.Kind.ELECTION):
        raise ValidationError({"kind": "Choose a question or an election."})
    election = _create_election(
        actor=actor,
        group=group,
        kind=kind,
        title=spec.title,
        description=spec.description,
        method=spec.method,
        options=spec.options,
        seats=spec.seats,
        rules=spec.rules,
        max_score=spec.max_score,
        quorum_percent=spec.quorum_percent,
        majority_percent=spec.majority_percent,
        allow_revote=spec.allow_revote,
        opens_at=spec.opens_at,
        closes_at=spec.closes_at,
        nominations_open_at=spec.nominations_open_at,
        nominations_close_at=spec.nominations_close_at,
        required_seconds=spec.required_seconds,
    )
    now = _now()
    if election.opens_at is not None and election.opens_at <= now:
        _seal(election, now)
        election.refresh_from_db()
    return election


def election_edit(
    *,
    actor: User,
    election: Election,
    title: str,
    description: str,
    options: Sequence[str],
) -> Election:
    """Change a definition before it opens; afterwards refuse and record the attempt."""
    _require_runner(actor, election.group)
    if ElectionSeal.objects.filter(election=election).exists() or election.phase_at(
        _now()
    ) in ("open", "closed"):
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="election.edit_refused",
                target=election,
                group=election.group,
                reason="the definition is frozen at opening",
            )
        raise DecisionRefused(
            "Voting has opened: the ballot's definition is frozen and cannot change."
        )
    with transaction.atomic():
        election = Election.objects.select_for_update().get(pk=election.pk)
        if ElectionSeal.objects.filter(election=election).exists():
            raise DecisionRefused("Voting has opened: the definition is frozen.")
        labels = [_clean_label(label) for label in options if _clean_label(label)]
        if election.kind != Election.Kind.ELECTION:
            if len(labels) < 2 or len(set(labels)) != len(labels):
                raise ValidationError(
                    {"options": "Give at least two different options."}
                )
            election.options.all().delete()
            Option.objects.bulk_create(
                [
                    Option(election=election, position=i, label=lb)
                    for i, lb in enumerate(labels)
                ]
            )
        election.title = title.strip()
        election.description = description
        election.save(update_fields=["title", "description"])
        audit_record(
            actor=actor, action="election.edited", target=election, group=election.group
        )
    return election


@transaction.atomic
def election_open_now(
    *, actor: User, election: Election, closes_at: datetime
) -> Election:
    """Open voting immediately (freezing the definition) until ``closes_at``."""
    election = Election.objects.select_for_update().get(pk=election.pk)
    _require_runner(actor, election.group)
    now = _now()
    if ElectionSeal.objects.filter(election=election).exists():
        raise DecisionRefused("Voting has already opened.")
    if closes_at <= now:
        raise ValidationError({"closes_at": "Voting must close in the future."})
    if election.kind == Election.Kind.ELECTION and (
        election.nominations_close_at is None or now < election.nominations_close_at
    ):
        raise DecisionRefused("Nominations are still open.")
    election.opens_at = now
    election.closes_at = closes_at
    election.save(update_fields=["opens_at", "closes_at"])
    audit_record(
        actor=actor, action="election.scheduled", target=election, group=election.group
    )
    _seal(election, now)
    election.refresh_from_db()
    return election


# Sealing at opening ------------------------------------------------------------------


def _roll_member_ids(election: Election) -> list[int]:
    """Active members of the group's subtree whose membership began by the opening."""
    assert election.opens_at is not None
    return sorted(
        set(
            Membership.objects.filter(
                group__path__startswith=election.group.path,
                status=Membership.Status.ACTIVE,
                since__lte=election.opens_at,
                user__deleted_at__isnull=True,
            ).values_list("user_id", flat=True)
        )
    )


def _candidates_from_nominations(election: Election) -> None:
    """Standing nominations with enough seconds become candidates, in name order."""
    nominations = (
        Nomination.objects.filter(election=election, status=Nomination.Status.STANDING)
        .select_related("member")
        .annotate(second_count=Count("seconds"))
        .filter(second_count__gte=election.required_seconds)
        .order_by("created_at", "id")
    )
    taken: set[str] = set()
    named: list[tuple[str, Nomination]] = []
    for nomination in nominations:
        base = _clean_label(nomination.member.public_name) or "Candidate"
        label, n = base, 2
        while label in taken:
            label, n = f"{base} ({n})", n + 1
        taken.add(label)
        named.append((label, nomination))
    named.sort(key=lambda pair: (pair[0].casefold(), pair[0]))
    Option.objects.bulk_create(
        Option(
            election=election,
            position=position,
            label=label,
            description=nomination.statement,
            nomination=nomination,
        )
        for position, (label, nomination) in enumerate(named)
    )


def _seal(election: Election, now: datetime) -> ElectionSeal:
    """Freeze the definition and roll once, at or after opening; idempotent."""
    election = (
        Election.objects.select_for_update().select_related("group").get(pk=election.pk)
    )
    existing = ElectionSeal.objects.filter(election=election).first()
    if existing is not None:
        return existing
    if election.opens_at is None or election.opens_at > now:
        raise DecisionRefused("Voting has not opened yet.")
    if election.kind == Election.Kind.ELECTION and not election.options.exists():
        _candidates_from_nominations(election)
    election.seed = secrets.randbelow(2**31)
    election.save(update_fields=["seed"])
    member_ids = _roll_member_ids(election)
    EligibleVoter.objects.bulk_create(
        [
            EligibleVoter(election=election, member_id=member_id)
            for member_id in member_ids
        ],
        batch_size=500,
    )
    document = definition_document(election, member_ids)
    definition_json = json.dumps(document, sort_keys=True, separators=(",", ":"))
    seal = ElectionSeal.objects.create(
        election=election,
        definition_json=definition_json,
        definition_sha256=sha256_text(definition_json),
        roll_sha256=document["roll_sha256"],
        roll_size=len(member_ids),
        sealed_at=now,
    )
    audit_record(
        actor=None,
        action="election.opened",
        target=election,
        group=election.group,
        data={"definition_sha256": seal.definition_sha256, "roll_size": seal.roll_size},
    )
    notifications.queue_election_opened(election.pk)
    return seal


def elections_seal_due(*, now: datetime | None = None) -> int:
    """Periodic and idempotent: seal every election whose opening time has come."""
    now = now or _now()
    sealed = 0
    for election in Election.objects.filter(
        opens_at__lte=now, closes_at__gt=now, seal__isnull=True
    ):
        with transaction.atomic():
            _seal(election, now)
        sealed += 1
    return sealed


# Nominations ---------------------------------------------------------------------------


def _require_nominations_open(election: Election) -> None:
    if (
        election.kind != Election.Kind.ELECTION
        or election.phase_at(_now()) != "nominations"
    ):
        raise DecisionRefused("Nominations are not open for this election.")


@transaction.atomic
def nomination_submit(
    *, member: User, election: Election, statement: str
) -> Nomination:
    _require_member(member, election.group)
    _require_nominations_open(election)
    if not statement.strip():
        raise ValidationError({"statement": "Write a statement for members to read."})
    try:
        with transaction.atomic():
            nomination = Nomination.objects.create(
                election=election, member=member, statement=statement, created_at=_now()
            )
    except IntegrityError:
        raise DecisionRefused("You have already nominated yourself.") from None
    audit_record(
        actor=member,
        action="nomination.submitted",
        target=nomination,
        group=election.group,
    )
    return nomination


@transaction.atomic
def nomination_second(*, member: User, nomination: Nomination) -> Nomination:
    nomination = (
        Nomination.objects.select_for_update()
        .select_related("election__group")
        .get(pk=nomination.pk)
    )
    election = nomination.election
    _require_member(member, election.group)
    _require_nominations_open(election)
    if nomination.member_id == member.pk:
        raise DecisionRefused("Another member must second your nomination.")
    if nomination.status != Nomination.Status.STANDING:
        raise DecisionRefused("This nomination is no longer standing.")
    _, created = Second.objects.get_or_create(
        nomination=nomination, member=member, defaults={"created_at": _now()}
    )
    if created and nomination.seconds.count() == election.required_seconds:
        audit_record(
            actor=None,
            action="nomination.accepted",
            target=nomination,
            group=election.group,
            reason="seconded",
        )
    return nomination


@transaction.atomic
def nomination_withdraw(*, member: User, nomination: Nomination) -> Nomination:
    nomination = (
        Nomination.objects.select_for_update()
        .select_related("election__group")
        .get(pk=nomination.pk)
    )
    if nomination.member_id != member.pk:
        raise PermissionDenied("only the nominee can withdraw a nomination")
    if ElectionSeal.objects.filter(election=nomination.election).exists():
        raise DecisionRefused("Voting has opened: the ballot paper is frozen.")
    nomination.status = Nomination.Status.WITHDRAWN
    nomination.save(update_fields=["status"])
    audit_record(
        actor=member,
        action="nomination.withdrawn",
        target=nomination,
        group=nomination.election.group,
    )
    return nomination


@transaction.atomic
def nomination_reject(
    *, actor: User, nomination: Nomination, reason: str
) -> Nomination:
    nomination = (
        Nomination.objects.select_for_update()
        .select_related("election__group")
        .get(pk=nomination.pk)
    )
    _require_runner(actor, nomination.election.group)
    if ElectionSeal.objects.filter(election=nomination.election).exists():
        raise DecisionRefused("Voting has opened: the ballot paper is frozen.")
    if not reason.strip():
        raise ValidationError(
            {"reason": "Give the reason members will see in the log."}
        )
    nomination.status = Nomination.Status.REJECTED
    nomination.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="nomination.rejected",
        target=nomination,
        group=nomination.election.group,
        reason=reason,
    )
    return nomination


# Casting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CastReceipt:
    tracker: str
    replaced: bool


class _NotSealedYet(Exception):
    """The first cast after the opening time: seal, then cast again."""


def ballot_cast(
    *, member: User, election: Election, marks: Mapping[str, Any]
) -> CastReceipt:
    """Record a secret ballot; a re-vote replaces the member's earlier one.

    Raises DecisionRefused (not open, closed, not eligible, already voted) or
    papers.PaperErrors (field-level problems). Nothing is stored on refusal.
    A first cast runs three statements in its transaction: the locked state check,
    the participation insert and the ballot insert.
    """
    now = _now()
    phase = election.phase_at(now)
    if phase == "closed":
        raise DecisionRefused(_closed_message(election))
    if phase != "open":
        raise DecisionRefused(
            "Voting has not opened yet; your ballot was not recorded."
        )
    try:
        return _cast(member, election, marks, now)
    except _NotSealedYet:
        with transaction.atomic():
            _seal(election, now)
        return _cast(member, election, marks, now)


def _closed_message(election: Election) -> str:
    return (
        f"Voting closed at {election.closes_at:%Y-%m-%d %H:%M %Z}; "
        "your ballot was not recorded."
    )


def _cast(
    member: User, election: Election, marks: Mapping[str, Any], now: datetime
) -> CastReceipt:
    with transaction.atomic():
        sealed, on_roll, option_count = _cast_state(election, member)
        if not sealed:
            raise _NotSealedYet
        if _now() >= election.closes_at:  # type: ignore[operator]
            raise DecisionRefused(_closed_message(election))
        if not on_roll:
            raise DecisionRefused(
                "You are not on the roll for this ballot: it was fixed when voting opened.",
                status=403,
            )
        paper = papers.read_marks(
            method=election.method,
            option_count=option_count,
            max_score=election.max_score,
            data=marks,
        )
        participation_id = _insert_participation(election, member, now)
        replaced = participation_id is None
        token = voter_token(election_id=election.pk, member_id=member.pk)
        if replaced:
            if not election.allow_revote:
                raise DecisionRefused("You have already voted in this ballot.")
            # Lock the member's row: one member's re-votes run one after another.
            locked = (
                Participation.objects.select_for_update()
                .filter(election=election, member=member)
                .values_list("pk", flat=True)
                .get()
            )
            Ballot.objects.filter(election=election, voter_token=token).delete()
            Participation.objects.filter(pk=locked).update(cast_at=now)
        ballot = Ballot.objects.create(
            election=election, payload=papers.serialise(paper), voter_token=token
        )
        tracker = tracker_code(ballot.id)
        notifications.queue_cast_receipt(election.pk, member.pk, tracker)
    return CastReceipt(tracker=tracker, replaced=replaced)


def _cast_state(election: Election, member: User) -> tuple[bool, bool, int]:
    """Sealed?, on the roll?, how many options: one statement, holding the close out.

    Casts share a lock on the election row (PostgreSQL ``FOR SHARE``; SQLite runs
    one write transaction at a time anyway) and the count takes it exclusively, so a
    cast that began before the close either commits before the count reads the
    ballots, or sees the close after this lock and stores nothing.
    """
    connection = transaction.get_connection()
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    # Only table names from the models are interpolated (S608 is a false alarm).
    sql = (
        "SELECT"  # noqa: S608
        f" EXISTS(SELECT 1 FROM {ElectionSeal._meta.db_table} WHERE election_id = %s),"
        f" EXISTS(SELECT 1 FROM {EligibleVoter._meta.db_table}"
        "  WHERE election_id = %s AND member_id = %s),"
        f" (SELECT COUNT(*) FROM {Option._meta.db_table} WHERE election_id = %s)"
        f" FROM {Election._meta.db_table} WHERE id = %s{lock}"
    )
    pk = election.pk
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk, pk, member.pk, pk, pk])
        row = cursor.fetchone()
    return bool(row[0]), bool(row[1]), int(row[2])


def _insert_participation(
    election: Election, member: User, now: datetime
) -> int | None:
    """Insert the member's participation; None if they have already voted.

    Concurrent first casts by one member collide on the unique constraint: the
    database makes the later ones wait for the first to commit, then skip.
    """
    connection = transaction.get_connection()
    # Only the table name from the model is interpolated (S608 is a false alarm).
    sql = (
        f"INSERT INTO {Participation._meta.db_table} (election_id, member_id, cast_at)"  # noqa: S608
        " VALUES (%s, %s, %s) ON CONFLICT (election_id, member_id) DO NOTHING RETURNING id"
    )
    cast_at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [election.pk, member.pk, cast_at])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


# Reminders and counting --------------------------------------------------------------


def elections_send_reminders(*, now: datetime | None = None) -> int:
    """Periodic and idempotent: 24 hours before close, remind members who have not voted."""
    now = now or _now()
    sent = 0
    due = Election.objects.filter(
        closes_at__gt=now,
        closes_at__lte=now + timedelta(hours=24),
        opens_at__lte=now,
        reminder_sent_at__isnull=True,
    ).select_related("group")
    for election in due:
        with transaction.atomic():
            claimed = Election.objects.filter(
                pk=election.pk, reminder_sent_at__isnull=True
            ).update(reminder_sent_at=now)
            if not claimed:
                continue
            voted = Participation.objects.filter(election=election).values("member_id")
            member_ids = list(
                EligibleVoter.objects.filter(election=election)
                .exclude(member_id__in=voted)
                .values_list("member_id", flat=True)
            )
            notifications.queue_closing_soon(election.pk, member_ids)
            sent += len(member_ids)
    return sent


def election_count(*, election_id: int) -> TallyResult:
    """Count a closed election once; re-running returns the same stored result.

    The engine's inputs (candidates, method, seats, rules, seed and the sorted
    ballots) and its output are stored together, so anyone can re-run the count.
    The seal is verified first: a definition changed after opening is refused.
    """
    now = _now()
    election = Election.objects.select_related("group").get(pk=election_id)
    if election.phase_at(now) != "closed":
        raise DecisionRefused("Results are counted only after voting closes.")
    with transaction.atomic():
        if not ElectionSeal.objects.filter(election=election).exists():
            _seal(election, now)
            election.refresh_from_db()  # sealing drew the seed the definition holds
    seal = ElectionSeal.objects.get(election=election)
    options = list(Option.objects.filter(election=election).order_by("position"))
    member_ids = list(
        EligibleVoter.objects.filter(election=election)
        .order_by("member_id")
        .values_list("member_id", flat=True)
    )
    recomputed = json.dumps(
        definition_document(election, member_ids), sort_keys=True, separators=(",", ":")
    )
    if sha256_text(recomputed) != seal.definition_sha256:
        from .selectors import count_refused

        with transaction.atomic():
            if not count_refused(election):  # record the refusal once, not per attempt
                audit_record(
                    actor=None,
                    action="election.count_refused",
                    target=election,
                    group=election.group,
                    reason="integrity mismatch: the definition differs from its seal",
                )
        raise IntegrityMismatch(
            "Integrity mismatch: this ballot's definition changed after it was sealed; "
            "the count is refused."
        )
    with transaction.atomic():
        # Exclusive lock on the election row: in-flight casts (which share it)
        # commit first, and later ones see the close and store nothing.
        Election.objects.select_for_update().filter(pk=election.pk).values("pk").first()
        existing = TallyResult.objects.filter(
            election=election,
            seal_sha256=seal.definition_sha256,
            method_version=METHOD_VERSION,
        ).first()
        if existing is not None:
            return existing
        rows = list(
            Ballot.objects.filter(election=election).values_list("id", "payload")
        )
        payloads = sorted(payload for _, payload in rows)
        trackers = sorted(tracker_code(ballot_id) for ballot_id, _ in rows)
        counted = count_ballots(
            election, [option.label for option in options], payloads
        )
        outcome = election_outcome(election, counted.result, roll_size=seal.roll_size)
        try:
            with transaction.atomic():
                tally = TallyResult.objects.create(
                    election=election,
                    seal_sha256=seal.definition_sha256,
                    method_version=METHOD_VERSION,
                    ballots_sha256=counted.ballots_sha256,
                    ballot_count=len(payloads),
                    roll_size=seal.roll_size,
                    engine_input=counted.engine_input,
                    ballots_text=counted.ballots_text,
                    trackers_text="".join(code + "\n" for code in trackers),
                    result_json=counted.result_json,
                    result_sha256=sha256_text(counted.result_json),
                    outcome=outcome,
                    counted_at=now,
                )
        except IntegrityError:
            return TallyResult.objects.get(
                election=election,
                seal_sha256=seal.definition_sha256,
                method_version=METHOD_VERSION,
            )
        audit_record(
            actor=None,
            action="election.closed",
            target=election,
            group=election.group,
            data={"ballots": len(payloads), "ballots_sha256": counted.ballots_sha256},
        )
        audit_record(
            actor=None,
            action="election.counted",
            target=election,
            group=election.group,
            data={
                "result_sha256": tally.result_sha256,
                "method_version": METHOD_VERSION,
            },
        )
        _record_outcome_on_proposal(election, outcome)
        notifications.queue_results(election.pk)
    return tally


def _record_outcome_on_proposal(election: Election, outcome: Mapping[str, Any]) -> None:
    if election.amendment_id is not None:
        carried = (
            Amendment.Status.CARRIED
            if outcome.get("passed")
            else Amendment.Status.DEFEATED
        )
        Amendment.objects.filter(pk=election.amendment_id).update(status=carried)
        return
    if election.kind == Election.Kind.PROPOSAL and election.proposal_id is not None:
        status = (
            Proposal.Status.PASSED if outcome.get("passed") else Proposal.Status.FAILED
        )
        Proposal.objects.filter(pk=election.proposal_id).update(
            status=status, outcome=outcome.get("summary", "")
        )


def elections_due_for_count(*, now: datetime | None = None) -> list[int]:
    now = now or _now()
    return list(
        Election.objects.filter(closes_at__lte=now, results__isnull=True).values_list(
            "pk", flat=True
        )
    )


def elections_count_due() -> dict[str, int]:
    """Periodic and idempotent: count every closed, uncounted election, here and now.

    Reports what really happened: ``counted`` (a result is stored), ``refused`` (an
    integrity mismatch, recorded once in the audit log) and ``failed`` (an
    unexpected error, logged with its traceback). One election's trouble never
    stops the others; refused and failed elections stay due and are tried again.
    """
    report = {"counted": 0, "refused": 0, "failed": 0}
    for election_id in elections_due_for_count():
        try:
            election_count(election_id=election_id)
        except IntegrityMismatch:
            report["refused"] += 1
        except Exception:
            logger.exception("Counting election %s failed", election_id)
            report["failed"] += 1
        else:
            report["counted"] += 1
    return report


__all__ = [
    "CastReceipt",
    "DecisionRefused",
    "ElectionSpec",
    "IntegrityMismatch",
    "amendment_decide",
    "amendment_propose",
    "ballot_cast",
    "election_count",
    "election_create",
    "election_edit",
    "election_open_now",
    "elections_count_due",
    "elections_due_for_count",
    "elections_seal_due",
    "elections_send_reminders",
    "nomination_reject",
    "nomination_second",
    "nomination_submit",
    "nomination_withdraw",
    "proposal_create",
    "proposal_publish",
    "proposal_send_to_ballot",
    "proposal_support",
    "proposal_update",
    "proposal_withdraw_support",
    "proposals_check_support",
]
