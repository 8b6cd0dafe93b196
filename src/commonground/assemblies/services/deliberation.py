"""The panel deliberates: sessions, recommendations, the panel's private vote,
publication, and sending a recommendation to the whole membership.

Each service is typed, keyword-only and atomic: permission check (the predicates
of ``deliberation_rules``), write, audit entry and notification (queued after
commit). Organisers' acts are recorded under their name; what a panel member does
is recorded without one (actor ``None``), so the group's log never tells members
who sits on the panel.

**How the panel's vote decides (``ADOPTION_RULE``).** Each recommendation is a
yes/no/abstain ballot of the decisions app whose roll is exactly the seated panel
members with an account (``decisions.services.election_open_with_roll``): ballots
are secret, one per panel member (a re-vote replaces the earlier one until the
close), and nobody else may cast. A recommendation is adopted when at least half
of the panel votes (quorum 50 %) and more than half of the yes and no votes are
yes (majority 50 %; abstentions count toward the quorum, not the majority).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from allauth.account.models import EmailAddress
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.decisions import services as decisions
from commonground.discussion.richtext import render_markdown

from .. import deliberation_notifications as notices
from .. import deliberation_rules as panel_rules
from .. import deliberation_selectors as panel_selectors
from ..deliberation_rules import PanelAccess
from ..models import (
    Assembly,
    Kind,
    PanelSeat,
    PanelWelcome,
    Recommendation,
    RecommendationStatus,
    Registrant,
    SeatStatus,
    Session,
    Speaker,
    Status,
)
from ..models.deliberation import MATERIALS_MAX_LENGTH, RECOMMENDATION_TEXT_MAX_LENGTH
from . import clock, locks
from .errors import AssemblyRefused

ADOPTION_QUORUM_PERCENT = 50
ADOPTION_MAJORITY_PERCENT = 50
ADOPTION_RULE = (
    "adopted when at least half of the panel votes and more than half of the yes "
    "and no votes are yes"
)
YES_NO_ABSTAIN = ("Yes", "No", "Abstain")
CHOICES = {"yes": "0", "no": "1", "abstain": "2"}
MAX_SPEAKERS = 20
JOIN_SALT = "assemblies.panel-join"
JOIN_MAX_AGE = 60 * 24 * 3600  # an invitation to take a seat lasts sixty days


@dataclass(frozen=True)
class SpeakerSpec:
    name: str
    role: str = ""
    summary: str = ""


@dataclass(frozen=True)
class SessionSpec:
    """What an organiser says about a session; ``session_schedule`` validates it."""

    title: str
    starts_at: datetime
    ends_at: datetime
    place: str = ""
    online_url: str = ""
    materials: str = ""
    materials_public: bool = False
    speakers: Sequence[SpeakerSpec] = ()


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _actor_for_log(access: PanelAccess) -> Any:
    """Organisers act under their name; a panel member's act carries none."""
    return access.user if panel_rules.is_organiser(access) else None


def _start_deliberating(assembly: Assembly, actor: Any) -> None:
    """A drawn panel's first session or vote moves the assembly to deliberating."""
    if assembly.status != Status.DRAWN:
        return
    Assembly.objects.filter(pk=assembly.pk).update(status=Status.DELIBERATING)
    assembly.status = Status.DELIBERATING
    audit_record(
        actor=actor,
        action="assembly.deliberation_started",
        target=assembly,
        group=assembly.group,
    )


# Sessions ---------------------------------------------------------------------------


def _validated(spec: SessionSpec) -> SessionSpec:
    errors: dict[str, str] = {}
    if not spec.title.strip():
        errors["title"] = _("Give the session a title.")
    if spec.ends_at <= spec.starts_at:
        errors["ends_at"] = _("A session ends after it starts.")
    if len(spec.materials) > MATERIALS_MAX_LENGTH:
        errors["materials"] = _("The materials are too long.")
    if spec.online_url and not spec.online_url.startswith(("https://", "http://")):
        errors["online_url"] = _("Give a web address starting with https://.")
    if len(spec.speakers) > MAX_SPEAKERS:
        errors["speakers"] = _("A session has at most %(count)d speakers.") % {
            "count": MAX_SPEAKERS
        }
    if any(not speaker.name.strip() for speaker in spec.speakers):
        errors["speakers"] = _("Every speaker needs a name.")
    if errors:
        raise ValidationError(errors)
    return spec


def _write_session(session: Session, spec: SessionSpec) -> None:
    session.title = spec.title.strip()
    session.starts_at = spec.starts_at
    session.ends_at = spec.ends_at
    session.place = spec.place.strip()
    session.online_url = spec.online_url.strip()
    session.materials = spec.materials
    session.materials_html = str(render_markdown(spec.materials))
    session.materials_public = spec.materials_public
    session.updated_at = clock.now()
    session.save()
    session.speakers.all().delete()
    Speaker.objects.bulk_create(
        Speaker(
            session=session,
            name=speaker.name.strip(),
            role=speaker.role.strip(),
            summary=speaker.summary.strip(),
            position=position,
        )
        for position, speaker in enumerate(spec.speakers)
    )


@transaction.atomic
def session_schedule(*, actor: Any, assembly: Assembly, spec: SessionSpec) -> Session:
    """An organiser adds a session to the timetable; the panel is told."""
    assembly = locks.assembly_for_update(assembly.pk)
    access = panel_selectors.panel_access(actor, assembly)
    _require(
        panel_rules.can_schedule_sessions(access),
        _("Only the assembly's organisers schedule its sessions."),
    )
    _validated(spec)
    now = clock.now()
    session = Session(assembly=assembly, created_at=now, updated_at=now)
    _write_session(session, spec)
    audit_record(
        actor=actor,
        action="assembly.session_scheduled",
        target=assembly,
        group=assembly.group,
        data={"session": session.pk, "starts_at": spec.starts_at.isoformat()},
    )
    _start_deliberating(assembly, actor)
    notices.session_scheduled(
        session, panel_selectors.panel_members(assembly), changed=False
    )
    return session


@transaction.atomic
def session_update(*, actor: Any, session: Session, spec: SessionSpec) -> Session:
    """An organiser changes a session; the panel is told."""
    assembly = locks.assembly_for_update(session.assembly_id)
    session = Session.objects.get(pk=session.pk, assembly=assembly)
    access = panel_selectors.panel_access(actor, assembly)
    _require(
        panel_rules.can_schedule_sessions(access),
        _("Only the assembly's organisers change its sessions."),
    )
    _validated(spec)
    _write_session(session, spec)
    audit_record(
        actor=actor,
        action="assembly.session_changed",
        target=assembly,
        group=assembly.group,
        data={"session": session.pk, "starts_at": spec.starts_at.isoformat()},
    )
    notices.session_scheduled(
        session, panel_selectors.panel_members(assembly), changed=True
    )
    return session


@transaction.atomic
def session_cancel(*, actor: Any, session: Session) -> None:
    """An organiser removes a session from the timetable (its discussion goes too)."""
    assembly = locks.assembly_for_update(session.assembly_id)
    access = panel_selectors.panel_access(actor, assembly)
    _require(
        panel_rules.can_schedule_sessions(access),
        _("Only the assembly's organisers cancel its sessions."),
    )
    audit_record(
        actor=actor,
        action="assembly.session_cancelled",
        target=assembly,
        group=assembly.group,
        data={"session": session.pk, "title": session.title},
    )
    Session.objects.filter(pk=session.pk, assembly=assembly).delete()


# Recommendations ----------------------------------------------------------------------


def _validated_recommendation(title: str, text: str) -> tuple[str, str]:
    errors: dict[str, str] = {}
    title = title.strip()
    if not title:
        errors["title"] = _("Give the recommendation a title.")
    elif len(title) > 200:
        errors["title"] = _("Keep the title under 200 characters.")
    if not text.strip():
        errors["text"] = _("Write what the panel recommends.")
    elif len(text) > RECOMMENDATION_TEXT_MAX_LENGTH:
        errors["text"] = _("The recommendation is too long.")
    if errors:
        raise ValidationError(errors)
    return title, text


@transaction.atomic
def recommendation_draft(
    *, actor: Any, assembly: Assembly, title: str, text: str
) -> Recommendation:
    """A panel member or an organiser drafts a recommendation."""
    assembly = locks.assembly_for_update(assembly.pk)
    access = panel_selectors.panel_access(actor, assembly)
    _require(
        panel_rules.can_draft_recommendation(access),
        _("Only the panel and the organisers draft recommendations."),
    )
    title, text = _validated_recommendation(title, text)
    now = clock.now()
    last = (
        Recommendation.objects.filter(assembly=assembly).aggregate(last=Max("number"))[
            "last"
        ]
        or 0
    )
    recommendation = Recommendation.objects.create(
        assembly=assembly,
        number=last + 1,
        title=title,
        text=text,
        text_html=str(render_markdown(text)),
        drafted_by=actor,
        created_at=now,
        updated_at=now,
    )
    audit_record(
        actor=_actor_for_log(access),
        action="assembly.recommendation_drafted",
        target=assembly,
        group=assembly.group,
        data={"recommendation": recommendation.number},
    )
    return recommendation


@transaction.atomic
def recommendation_edit(
    *, actor: Any, recommendation: Recommendation, title: str, text: str
) -> Recommendation:
    """Any panel member or organiser edits a draft (drafting is shared work)."""
    assembly = locks.assembly_for_update(recommendation.assembly_id)
    recommendation = Recommendation.objects.get(pk=recommendation.pk)
    access = panel_selectors.panel_access(actor, assembly)
    _require(
        panel_rules.can_draft_recommendation(access),
        _("Only the panel and the organisers edit recommendations."),
    )
    if recommendation.status != RecommendationStatus.DRAFT:
        raise AssemblyRefused(_("Once the panel votes, a recommendation is fixed."))
    title, text = _validated_recommendation(title, text)
    recommendation.title = title
    recommendation.text = text
    recommendation.text_html = str(render_markdown(text))
    recommendation.updated_at = clock.now()
    recommendation.save(update_fields=["title", "text", "text_html", "updated_at"])
    audit_record(
        actor=_actor_for_log(access),
        action="assembly.recommendation_edited",
        target=assembly,
        group=assembly.group,
        data={"recommendation": recommendation.number},
    )
    return recommendation


@transaction.atomic
def panel_vote_open(
    *, actor: Any, assembly: Assembly, closes_at: datetime
) -> list[Recommendation]:
    """Put every drafted recommendation to the panel's secret vote until ``closes_at``.

    One yes/no/abstain ballot per recommendation, on an explicit roll: the seated
    panel members with an account now (``ADOPTION_RULE``). Raises
    PermissionDenied unless an organiser asks, AssemblyRefused with nothing to
    vote on or nobody on the panel yet.
    """
    assembly = locks.assembly_for_update(assembly.pk)
    access = panel_selectors.panel_access(actor, assembly)
    _require(
        panel_rules.can_open_panel_vote(access),
        _("Only the assembly's organisers open the panel's vote."),
    )
    drafts = list(
        Recommendation.objects.select_for_update().filter(
            assembly=assembly, status=RecommendationStatus.DRAFT
        )
    )
    if not drafts:
        raise AssemblyRefused(_("There is no drafted recommendation to vote on."))
    roll = panel_selectors.panel_member_ids(assembly)
    if not roll:
        raise AssemblyRefused(
            _("No panel member has taken their seat yet: nobody could vote.")
        )
    for recommendation in drafts:
        election = _open_panel_ballot(actor, assembly, recommendation, roll, closes_at)
        recommendation.election = election
        recommendation.status = RecommendationStatus.VOTING
        recommendation.save(update_fields=["election", "status"])
    audit_record(
        actor=actor,
        action="assembly.panel_vote_opened",
        target=assembly,
        group=assembly.group,
        data={
            "recommendations": [r.number for r in drafts],
            "roll_size": len(roll),
            "closes_at": closes_at.isoformat(),
        },
    )
    _start_deliberating(assembly, actor)
    notices.panel_vote_opened(
        assembly,
        panel_selectors.panel_members(assembly),
        count=len(drafts),
        closes_at=closes_at,
    )
    return drafts


def _open_panel_ballot(
    actor: Any,
    assembly: Assembly,
    recommendation: Recommendation,
    roll: list[int],
    closes_at: datetime,
) -> Any:
    """One recommendation's yes/no/abstain ballot, on the panel's roll."""
    try:
        return decisions.election_open_with_roll(
            actor=actor,
            group=assembly.group,
            member_ids=roll,
            spec=decisions.ElectionSpec(
                title=_ballot_title(assembly, recommendation),
                description=_("The panel's vote: only its members vote.")
                + "\n\n"
                + recommendation.text,
                method="yes_no",
                options=list(YES_NO_ABSTAIN),
                closes_at=closes_at,
                quorum_percent=ADOPTION_QUORUM_PERCENT,
                majority_percent=ADOPTION_MAJORITY_PERCENT,
            ),
        )
    except decisions.DecisionRefused as refusal:
        raise AssemblyRefused(refusal.message) from None


def _ballot_title(assembly: Assembly, recommendation: Recommendation) -> str:
    title = _("%(assembly)s, recommendation %(number)d: %(title)s") % {
        "assembly": assembly.title,
        "number": recommendation.number,
        "title": recommendation.title,
    }
    return title if len(title) <= 200 else title[:199] + "…"


def panel_ballot_cast(
    *, member: Any, recommendation: Recommendation, choice: str
) -> decisions.CastReceipt:
    """A panel member votes yes, no or abstain on a recommendation (secret ballot).

    Anyone else is refused here (PermissionDenied) and, were they to reach the
    ballot another way, by the decisions app: they are not on its roll.
    """
    recommendation = Recommendation.objects.select_related(
        "assembly__group", "election"
    ).get(pk=recommendation.pk)
    access = panel_selectors.panel_access(member, recommendation.assembly)
    _require(
        panel_rules.can_vote_as_panel(access),
        _("Only the panel's members vote on its recommendations."),
    )
    if choice not in CHOICES:
        raise ValidationError({"choice": _("Choose yes, no or abstain.")})
    if recommendation.status != RecommendationStatus.VOTING or not (
        recommendation.election_id
    ):
        raise AssemblyRefused(_("The panel is not voting on this recommendation."))
    election = recommendation.election
    assert election is not None
    try:
        return decisions.ballot_cast(
            member=member, election=election, marks={"choice": CHOICES[choice]}
        )
    except decisions.DecisionRefused as refusal:
        if refusal.status == 403:
            raise PermissionDenied(refusal.message) from None
        raise AssemblyRefused(refusal.message) from None


@transaction.atomic
def recommendations_publish(*, actor: Any, assembly: Assembly) -> list[Recommendation]:
    """Once the panel's votes have closed: count them, settle each recommendation by
    ``ADOPTION_RULE`` and publish them all (adopted or not, with the count); the
    assembly is then concluded. Drafts never voted on stay unpublished."""
    assembly = locks.assembly_for_update(assembly.pk)
    access = panel_selectors.panel_access(actor, assembly)
    _require(
        panel_rules.can_publish_recommendations(access),
        _("Only the assembly's organisers publish its recommendations."),
    )
    voting = list(
        Recommendation.objects.select_for_update(of=("self",))
        .filter(assembly=assembly, status=RecommendationStatus.VOTING)
        .select_related("election")
    )
    if not voting:
        raise AssemblyRefused(_("The panel has voted on no recommendation yet."))
    now = clock.now()
    for recommendation in voting:
        election = recommendation.election
        if election is None or election.phase_at(now) != "closed":
            raise AssemblyRefused(
                _("The panel is still voting: publish once every vote has closed.")
            )
    for recommendation in voting:
        assert recommendation.election_id is not None
        try:
            result = decisions.election_count(election_id=recommendation.election_id)
        except decisions.IntegrityMismatch as mismatch:
            raise AssemblyRefused(str(mismatch)) from None
        adopted = bool(result.outcome.get("passed"))
        recommendation.status = (
            RecommendationStatus.ADOPTED
            if adopted
            else RecommendationStatus.NOT_ADOPTED
        )
        recommendation.outcome_summary = str(result.outcome.get("summary", ""))
        recommendation.published_at = now
        recommendation.save(update_fields=["status", "outcome_summary", "published_at"])
    Assembly.objects.filter(pk=assembly.pk).update(status=Status.CONCLUDED)
    assembly.status = Status.CONCLUDED
    audit_record(
        actor=actor,
        action="assembly.recommendations_published",
        target=assembly,
        group=assembly.group,
        data={
            "adopted": [
                r.number for r in voting if r.status == RecommendationStatus.ADOPTED
            ],
            "not_adopted": [
                r.number for r in voting if r.status == RecommendationStatus.NOT_ADOPTED
            ],
        },
    )
    return voting


# To the whole membership ----------------------------------------------------------------


def _markdown_escape(text: str) -> str:
    for char in "\\`*_{}[]()#+-.!<>|":
        text = text.replace(char, "\\" + char)
    return text


def _origin(assembly: Assembly, recommendation: Recommendation) -> str:
    """The opening line of what the membership reads: where it comes from."""
    url = reverse("assemblies:recommendations", args=[assembly.slug])
    anchor = f"{url}#recommendation-{recommendation.number}"
    values = {
        "title": _markdown_escape(assembly.title),
        "url": anchor,
        "number": recommendation.number,
    }
    if assembly.kind == Kind.CITIZENS:
        line = _(
            "From the citizens' assembly [%(title)s](%(url)s): its recommendation "
            "%(number)d, adopted by the panel."
        )
    else:
        line = _(
            "From the members' assembly [%(title)s](%(url)s): its recommendation "
            "%(number)d, adopted by the panel."
        )
    return line % values


def _sendable(actor: Any, recommendation: Recommendation) -> Recommendation:
    recommendation = (
        Recommendation.objects.select_for_update()
        .select_related("assembly__group")
        .get(pk=recommendation.pk)
    )
    access = panel_selectors.panel_access(actor, recommendation.assembly)
    _require(
        panel_rules.can_send_to_membership(access),
        _("Only the assembly's organisers send recommendations to the membership."),
    )
    if (
        recommendation.published_at is None
        or recommendation.status != RecommendationStatus.ADOPTED
    ):
        raise AssemblyRefused(
            _("Only a published recommendation the panel adopted can be sent.")
        )
    if recommendation.proposal_id or recommendation.ballot_id:
        raise AssemblyRefused(
            _("This recommendation has already been sent to the membership.")
        )
    return recommendation


def _as_refusal(error: Exception) -> AssemblyRefused:
    if isinstance(error, ValidationError):
        return AssemblyRefused(" ".join(error.messages))
    return AssemblyRefused(getattr(error, "message", str(error)))


@transaction.atomic
def recommendation_to_proposal(*, actor: Any, recommendation: Recommendation) -> Any:
    """Draft a proposal to the whole membership from an adopted recommendation,
    linked both ways: the recommendation points at the proposal, and the
    proposal's text opens with where it comes from (the decisions app knows
    nothing of assemblies). The organiser becomes its author and publishes it."""
    recommendation = _sendable(actor, recommendation)
    assembly = recommendation.assembly
    text = f"{_origin(assembly, recommendation)}\n\n{recommendation.text}\n"
    try:
        proposal = decisions.proposal_create(
            author=actor, group=assembly.group, title=recommendation.title, text=text
        )
    except (decisions.DecisionRefused, ValidationError) as error:
        raise _as_refusal(error) from None
    Recommendation.objects.filter(pk=recommendation.pk).update(proposal=proposal)
    recommendation.proposal = proposal
    audit_record(
        actor=actor,
        action="assembly.recommendation_proposed",
        target=assembly,
        group=assembly.group,
        data={"recommendation": recommendation.number, "proposal": proposal.pk},
    )
    return proposal


@transaction.atomic
def recommendation_to_ballot(
    *, actor: Any, recommendation: Recommendation, closes_at: datetime
) -> Any:
    """Put an adopted recommendation to the whole membership now, as a yes/no ballot
    of the convening group until ``closes_at``, linked both ways."""
    recommendation = _sendable(actor, recommendation)
    assembly = recommendation.assembly
    now = clock.now()
    if closes_at <= now:
        raise ValidationError({"closes_at": _("Voting must close in the future.")})
    try:
        election = decisions.election_create(
            actor=actor,
            group=assembly.group,
            kind="question",
            spec=decisions.ElectionSpec(
                title=recommendation.title,
                description=(
                    f"{_origin(assembly, recommendation)}\n\n{recommendation.text}"
                ),
                method="yes_no",
                options=list(YES_NO_ABSTAIN),
                opens_at=now,
                closes_at=closes_at,
            ),
        )
    except (decisions.DecisionRefused, ValidationError, PermissionDenied) as error:
        raise _as_refusal(error) from None
    Recommendation.objects.filter(pk=recommendation.pk).update(ballot=election)
    recommendation.ballot = election
    audit_record(
        actor=actor,
        action="assembly.recommendation_balloted",
        target=assembly,
        group=assembly.group,
        data={"recommendation": recommendation.number, "election": election.pk},
    )
    return election


# Seats: telling the panel, and taking a seat without an account at the draw ----------


def panel_join_token(seat: PanelSeat) -> str:
    """The signed link that lets the person seated take their seat (sixty days)."""
    return signing.dumps(
        {"seat": seat.pk, "email": seat.registrant.email.lower()}, salt=JOIN_SALT
    )


@transaction.atomic
def panel_seats_welcome(*, assembly: Assembly, actor: Any = None) -> int:
    """Welcome every newly seated panel member, once per seat; returns how many.

    Someone from the open call without an account gets an email inviting them to
    sign in or create an account with the address they confirmed, and take their
    seat (members with an account were told by the draw itself).
    Idempotent (a ``PanelWelcome`` per seat): the draw calls it after seating the
    panel, and again after a replacement draw; an organiser (``actor``) may also
    send the invitations not sent yet from the panel's page.
    """
    assembly = Assembly.objects.select_related("group").get(pk=assembly.pk)
    if actor is not None:
        _require(
            panel_rules.is_organiser(panel_selectors.panel_access(actor, assembly)),
            _("Only the assembly's organisers invite the panel."),
        )
    seats = list(
        panel_selectors.seated_seats(assembly)
        .filter(welcome__isnull=True)
        .select_related("registrant__user")
    )
    now = clock.now()
    for seat in seats:
        registrant = seat.registrant
        if registrant.user_id is None:
            notices.panel_invitation_email(
                assembly,
                name=registrant.name,
                email=registrant.email,
                token=panel_join_token(seat),
            )
    PanelWelcome.objects.bulk_create(
        [PanelWelcome(seat=seat, sent_at=now) for seat in seats],
        ignore_conflicts=True,
    )
    if seats:
        audit_record(
            actor=actor,
            action="assembly.panel_welcomed",
            target=assembly,
            group=assembly.group,
            data={"seats": len(seats)},
        )
    return len(seats)


def _read_join_token(token: str) -> dict[str, Any]:
    try:
        data = signing.loads(token, salt=JOIN_SALT, max_age=JOIN_MAX_AGE)
    except signing.SignatureExpired:
        raise AssemblyRefused(
            _("This link has expired: ask the organisers for a new one.")
        ) from None
    except signing.BadSignature:
        raise AssemblyRefused(_("This link is not valid.")) from None
    if not isinstance(data, dict) or not isinstance(data.get("seat"), int):
        raise AssemblyRefused(_("This link is not valid."))
    return data


def panel_join_seat(assembly: Assembly, token: str) -> PanelSeat:
    """The seat a join link names (read-only: for the page that asks to sign in)."""
    data = _read_join_token(token)
    seat = (
        PanelSeat.objects.filter(
            pk=data["seat"], assembly=assembly, status=SeatStatus.SEATED
        )
        .select_related("registrant")
        .first()
    )
    if seat is None or seat.registrant.email.lower() != data.get("email"):
        raise AssemblyRefused(_("This link is not valid any more."))
    return seat


@transaction.atomic
def panel_seat_take(*, user: Any, assembly: Assembly, token: str) -> PanelSeat:
    """Someone seated without an account, now signed in, takes their seat.

    The link proves they received the invitation; their account must also hold
    the address they registered with, confirmed. Taking the seat links their
    registration to their account (they then see and vote as the panel).
    """
    seat = panel_join_seat(assembly, token)
    registrant = Registrant.objects.select_for_update().get(pk=seat.registrant_id)
    if registrant.user_id == user.pk:
        return seat
    if registrant.user_id is not None:
        raise AssemblyRefused(_("This seat has already been taken by its holder."))
    if not EmailAddress.objects.filter(
        user=user, email__iexact=registrant.email, verified=True
    ).exists():
        raise PermissionDenied(
            _(
                "Sign in with the email address you registered with, once it is "
                "confirmed, to take this seat."
            )
        )
    if panel_selectors.seated_seats(assembly).filter(registrant__user=user).exists():
        raise AssemblyRefused(_("You already hold a seat on this panel."))
    registrant.user = user
    registrant.save(update_fields=["user"])
    PanelWelcome.objects.filter(seat=seat).update(claimed_at=clock.now())
    audit_record(
        actor=None,
        action="assembly.panel_seat_taken",
        target=assembly,
        group=assembly.group,
    )
    return seat
