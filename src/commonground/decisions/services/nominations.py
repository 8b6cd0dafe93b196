"""Candidates for an election: members nominate themselves, others second them,
and the nominee may withdraw or an organiser reject them until voting opens."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.members.models import User

from ..models import Election, ElectionSeal, Nomination, Second
from ..tally_adapter import candidate_limit
from . import clock, locks
from .checks import require_member, require_runner
from .errors import DecisionRefused


def _require_nominations_open(election: Election) -> None:
    if (
        election.kind != Election.Kind.ELECTION
        or election.phase_at(clock.now()) != "nominations"
    ):
        raise DecisionRefused(_("Nominations are not open for this election."))


def _require_not_sealed(nomination: Nomination) -> None:
    if ElectionSeal.objects.filter(election=nomination.election).exists():
        raise DecisionRefused(_("Voting has opened: the ballot paper is frozen."))


@transaction.atomic
def nomination_submit(
    *, member: User, election: Election, statement: str
) -> Nomination:
    require_member(member, election.group)
    _require_nominations_open(election)
    if not statement.strip():
        raise ValidationError(
            {"statement": _("Write a statement for members to read.")}
        )
    try:
        with transaction.atomic():
            # The election's lock makes the count and the insert one step, so
            # concurrent nominations cannot pass the engine's candidate limit.
            locks.election_for_update(election.pk)
            _require_room_for_a_candidate(election)
            nomination = Nomination.objects.create(
                election=election,
                member=member,
                statement=statement,
                created_at=clock.now(),
            )
    except IntegrityError:
        raise DecisionRefused(_("You have already nominated yourself.")) from None
    audit_record(
        actor=member,
        action="nomination.submitted",
        target=nomination,
        group=election.group,
    )
    return nomination


def _require_room_for_a_candidate(election: Election) -> None:
    limit = candidate_limit(election.method, election.rules)
    standing = Nomination.objects.filter(
        election=election, status=Nomination.Status.STANDING
    ).count()
    if standing >= limit:
        raise DecisionRefused(
            _(
                "This election has %(limit)d nominations, the most its counting "
                "method can count."
            )
            % {"limit": limit}
        )


@transaction.atomic
def nomination_second(*, member: User, nomination: Nomination) -> Nomination:
    nomination = locks.nomination_for_update(nomination.pk)
    election = nomination.election
    require_member(member, election.group)
    _require_nominations_open(election)
    if nomination.member_id == member.pk:
        raise DecisionRefused(_("Another member must second your nomination."))
    if nomination.status != Nomination.Status.STANDING:
        raise DecisionRefused(_("This nomination is no longer standing."))
    _second, created = Second.objects.get_or_create(
        nomination=nomination, member=member, defaults={"created_at": clock.now()}
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
    nomination = locks.nomination_for_update(nomination.pk)
    if nomination.member_id != member.pk:
        raise PermissionDenied(_("only the nominee can withdraw a nomination"))
    _require_not_sealed(nomination)
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
    nomination = locks.nomination_for_update(nomination.pk)
    require_runner(actor, nomination.election.group)
    _require_not_sealed(nomination)
    if not reason.strip():
        raise ValidationError(
            {"reason": _("Give the reason members will see in the log.")}
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
