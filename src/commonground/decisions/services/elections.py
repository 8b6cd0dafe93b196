"""Defining ballots (questions and candidate elections), editing them until they open,
opening them by hand, and reminding members who have not voted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.members.models import Group, User

from .. import notifications
from ..models import (
    Amendment,
    Election,
    ElectionSeal,
    EligibleVoter,
    Method,
    Option,
    Participation,
    Proposal,
    StvRules,
)
from ..tally_adapter import candidate_limit
from . import clock, locks, sealing
from .checks import require_live, require_runner
from .errors import DecisionRefused
from .options import clean_labels

MULTI_SEAT_METHODS = (Method.STV, Method.APPROVAL, Method.SCORE)


@dataclass(frozen=True)
class ElectionSpec:
    """What an organiser defines; ``election_create`` validates it."""

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


def _validated_labels(spec: ElectionSpec, kind: str) -> list[str]:
    """The option labels to store; raises ValidationError with every problem found."""
    errors: dict[str, str] = {}
    if spec.method not in Method.values:
        errors["method"] = _("Choose a counting method.")
    if spec.opens_at and spec.closes_at and spec.closes_at <= spec.opens_at:
        errors["closes_at"] = _("Voting must close after it opens.")
    labels = clean_labels(spec.options)
    if kind != Election.Kind.ELECTION:
        if len(labels) < 2:
            errors["options"] = _("Give at least two options, one per line.")
        elif len(set(labels)) != len(labels):
            errors["options"] = _("Each option must be different.")
        elif spec.method in Method.values and spec.rules in StvRules.values:
            too_many = _too_many_options(len(labels), spec.method, spec.rules)
            if too_many:
                errors["options"] = too_many
    elif not spec.nominations_open_at or not spec.nominations_close_at:
        errors["nominations_close_at"] = _("An election needs a nomination period.")
    elif spec.nominations_close_at <= spec.nominations_open_at:
        errors["nominations_close_at"] = _("Nominations must close after they open.")
    elif spec.opens_at and spec.opens_at < spec.nominations_close_at:
        errors["opens_at"] = _("Voting opens after nominations (and hustings) close.")
    if (
        spec.method == Method.YES_NO
        and kind == Election.Kind.QUESTION
        and len(labels) != 3
    ):
        labels = ["Yes", "No", "Abstain"]
        errors.pop("options", None)
    if spec.seats < 1 or (spec.seats > 1 and spec.method not in MULTI_SEAT_METHODS):
        errors["seats"] = _("Only STV, approval and score elect more than one.")
    if kind != Election.Kind.ELECTION and spec.seats >= len(labels) >= 2:
        errors["seats"] = _("There must be more options than seats.")
    if spec.rules not in StvRules.values:
        errors["rules"] = _("Choose an STV rule set.")
    if not 0 <= spec.quorum_percent <= 100 or not 0 <= spec.majority_percent < 100:
        errors["quorum_percent"] = _("Percentages run from 0 to 100.")
    if not 1 <= spec.max_score <= 10:
        errors["max_score"] = _("The highest score is between 1 and 10.")
    if errors:
        raise ValidationError(errors)
    return labels


def _too_many_options(count: int, method: str, rules: str) -> str | None:
    """The refusal when ``count`` options are more than the method counts."""
    limit = candidate_limit(method, rules)
    if count <= limit:
        return None
    return _(
        "This counting method counts at most %(limit)d options; there are %(count)d."
    ) % {"limit": limit, "count": count}


def create_election(
    *,
    actor: User | None,
    group: Group,
    spec: ElectionSpec,
    kind: str,
    proposal: Proposal | None = None,
    amendment: Amendment | None = None,
) -> Election:
    """Validate ``spec`` and store the election with its options (no permission check)."""
    labels = _validated_labels(spec, kind)
    election = Election.objects.create(
        group=group,
        title=spec.title.strip(),
        description=spec.description,
        kind=kind,
        method=spec.method,
        seats=spec.seats,
        rules=spec.rules,
        max_score=spec.max_score,
        quorum_percent=spec.quorum_percent,
        majority_percent=spec.majority_percent,
        allow_revote=spec.allow_revote,
        required_seconds=spec.required_seconds,
        nominations_open_at=spec.nominations_open_at,
        nominations_close_at=spec.nominations_close_at,
        opens_at=spec.opens_at,
        closes_at=spec.closes_at,
        created_by=actor,
        created_at=clock.now(),
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
        data={"method": spec.method, "seats": spec.seats, "kind": kind},
    )
    return election


@transaction.atomic
def election_create(
    *, actor: User, group: Group, spec: ElectionSpec, kind: str
) -> Election:
    """An organiser, returning officer or admin sets up a question or an election."""
    require_runner(actor, group)
    require_live(group)
    if kind not in (Election.Kind.QUESTION, Election.Kind.ELECTION):
        raise ValidationError({"kind": _("Choose a question or an election.")})
    election = create_election(actor=actor, group=group, spec=spec, kind=kind)
    now = clock.now()
    if election.opens_at is not None and election.opens_at <= now:
        sealing.seal(election, now)
        election.refresh_from_db()
    return election


@transaction.atomic
def election_open_with_roll(
    *, actor: User, group: Group, spec: ElectionSpec, member_ids: Sequence[int]
) -> Election:
    """Open a question in ``group`` now, on an explicit roll: exactly ``member_ids``.

    For a body that votes on its own (a panel, a committee): the roll is sealed at
    once with these members, whether or not they belong to the group, and nobody
    else may cast. Counting, results and the seal work as for any question.
    Raises PermissionDenied unless the actor runs the group's ballots, and
    ValidationError for an empty roll or a closing time not in the future.
    """
    require_runner(actor, group)
    require_live(group)
    now = clock.now()
    if not member_ids:
        raise ValidationError({"roll": _("The roll needs at least one member.")})
    if spec.closes_at is None or spec.closes_at <= now:
        raise ValidationError({"closes_at": _("Voting must close in the future.")})
    opening = replace(spec, opens_at=now)
    election = create_election(
        actor=actor, group=group, spec=opening, kind=Election.Kind.QUESTION
    )
    sealing.seal(election, now, roll=member_ids)
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
    require_runner(actor, election.group)
    if ElectionSeal.objects.filter(election=election).exists() or election.phase_at(
        clock.now()
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
            _("Voting has opened: the ballot's definition is frozen and cannot change.")
        )
    with transaction.atomic():
        election = locks.election_for_update(election.pk)
        if ElectionSeal.objects.filter(election=election).exists():
            raise DecisionRefused(_("Voting has opened: the definition is frozen."))
        labels = clean_labels(options)
        if election.kind != Election.Kind.ELECTION:
            if len(labels) < 2 or len(set(labels)) != len(labels):
                raise ValidationError(
                    {"options": _("Give at least two different options.")}
                )
            too_many = _too_many_options(len(labels), election.method, election.rules)
            if too_many:
                raise ValidationError({"options": too_many})
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
    election = locks.election_for_update(election.pk)
    require_runner(actor, election.group)
    now = clock.now()
    if ElectionSeal.objects.filter(election=election).exists():
        raise DecisionRefused(_("Voting has already opened."))
    if closes_at <= now:
        raise ValidationError({"closes_at": _("Voting must close in the future.")})
    if election.kind == Election.Kind.ELECTION and (
        election.nominations_close_at is None or now < election.nominations_close_at
    ):
        raise DecisionRefused(_("Nominations are still open."))
    election.opens_at = now
    election.closes_at = closes_at
    election.save(update_fields=["opens_at", "closes_at"])
    audit_record(
        actor=actor, action="election.scheduled", target=election, group=election.group
    )
    sealing.seal(election, now)
    election.refresh_from_db()
    return election


def elections_send_reminders(*, now: datetime | None = None) -> int:
    """Periodic and idempotent: 24 hours before close, remind members who have not voted."""
    now = now or clock.now()
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
