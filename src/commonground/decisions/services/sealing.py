"""Sealing an election at opening: the roll, the candidates, the seed and the frozen definition.

The definition is stored as canonical JSON (``core.canonical``) and its SHA-256 is
published; the count rebuilds it from the database and refuses if it differs.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.core.canonical import canonical_json, canonical_sha256
from commonground.members.selectors import subtree_active_memberships, verified_q

from .. import notifications
from ..models import Election, ElectionSeal, EligibleVoter, Method, Nomination, Option
from ..secrecy import sha256_text
from . import clock, locks
from .errors import DecisionRefused
from .options import distinct_labels


def definition_document(
    election: Election, member_ids: Sequence[int]
) -> dict[str, Any]:
    """The frozen definition whose SHA-256 is published when voting opens."""
    roll_text = "\n".join(str(member_id) for member_id in sorted(member_ids))
    options = list(election.options.order_by("position").values("position", "label"))
    return {
        "format": "commonground-election/1",
        "election": election.pk,
        "group": election.group_id,
        "title": election.title,
        "kind": election.kind,
        "method": election.method,
        "seats": election.seats,
        "rules": election.rules if election.method == Method.STV else None,
        "max_score": election.max_score,
        "quorum_percent": election.quorum_percent,
        "majority_percent": election.majority_percent,
        "allow_revote": election.allow_revote,
        "opens_at": election.opens_at.isoformat() if election.opens_at else None,
        "closes_at": election.closes_at.isoformat() if election.closes_at else None,
        "seed": election.seed,
        "options": options,
        "roll_size": len(member_ids),
        "roll_sha256": sha256_text(roll_text),
    }


def definition_matches_seal(document: dict[str, Any], seal: ElectionSeal) -> bool:
    """Whether ``document``, rebuilt from the database, is the definition sealed.

    Seals are canonical JSON. Seals written before decisions used it escaped
    non-ASCII text (``"\\u00e9"`` for "é"), so their hash is also checked in that
    form: the same definition in an older encoding, which must still count.
    """
    if canonical_sha256(document) == seal.definition_sha256:
        return True
    escaped = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return sha256_text(escaped) == seal.definition_sha256


def roll_member_ids(election: Election) -> list[int]:
    """Active members of the group's subtree whose membership began by the opening,
    verified the way the organisation requires before members vote."""
    assert election.opens_at is not None
    memberships = (
        subtree_active_memberships(election.group, since_by=election.opens_at)
        .filter(user__deleted_at__isnull=True)
        .filter(verified_q(election.group.organisation, prefix="user__"))
    )
    return sorted(set(memberships.values_list("user_id", flat=True)))


def sealed_roll_member_ids(election: Election) -> list[int]:
    """The roll as it was sealed, in member order."""
    return list(
        EligibleVoter.objects.filter(election=election)
        .order_by("member_id")
        .values_list("member_id", flat=True)
    )


def candidates_from_nominations(election: Election) -> None:
    """Standing nominations with enough seconds become candidates, in name order."""
    nominations = list(
        Nomination.objects.filter(election=election, status=Nomination.Status.STANDING)
        .select_related("member")
        .annotate(second_count=Count("seconds"))
        .filter(second_count__gte=election.required_seconds)
        .order_by("created_at", "id")
    )
    labels = distinct_labels(
        [nomination.member.public_name for nomination in nominations],
        fallback=_("Candidate"),
    )
    named = sorted(
        zip(labels, nominations, strict=True),
        key=lambda pair: (pair[0].casefold(), pair[0]),
    )
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


def seal(
    election: Election, now: datetime, *, roll: Sequence[int] | None = None
) -> ElectionSeal:
    """Freeze the definition and roll once, at or after opening; idempotent.

    The roll is the group's eligible members (``roll_member_ids``), or exactly the
    member ids in ``roll`` when the caller names them (``election_open_with_roll``).
    Runs inside the caller's transaction, holding the election row's lock.
    """
    election = locks.election_for_update(election.pk, with_group=True)
    existing = ElectionSeal.objects.filter(election=election).first()
    if existing is not None:
        return existing
    if election.opens_at is None or election.opens_at > now:
        raise DecisionRefused(_("Voting has not opened yet."))
    if election.kind == Election.Kind.ELECTION and not election.options.exists():
        candidates_from_nominations(election)
    election.seed = secrets.randbelow(2**31)
    election.save(update_fields=["seed"])
    member_ids = roll_member_ids(election) if roll is None else sorted(set(roll))
    EligibleVoter.objects.bulk_create(
        [
            EligibleVoter(election=election, member_id=member_id)
            for member_id in member_ids
        ],
        batch_size=500,
    )
    document = definition_document(election, member_ids)
    definition_json = canonical_json(document)
    sealed = ElectionSeal.objects.create(
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
        data={
            "definition_sha256": sealed.definition_sha256,
            "roll_size": sealed.roll_size,
        },
    )
    notifications.queue_election_opened(election.pk)
    return sealed


def elections_seal_due(*, now: datetime | None = None) -> int:
    """Periodic and idempotent: seal every election whose opening time has come."""
    now = now or clock.now()
    sealed = 0
    for election in Election.objects.filter(
        opens_at__lte=now, closes_at__gt=now, seal__isnull=True
    ):
        with transaction.atomic():
            seal(election, now)
        sealed += 1
    return sealed
