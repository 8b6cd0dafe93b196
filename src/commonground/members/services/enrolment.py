"""Enrolment: many people brought into an organisation at once, from its register.

``members_enrol`` is the write; ``members_enrol_plan`` answers, without writing, what
the same call would do (the import's dry run counts with it, so the dry run and the
apply can never disagree about a row). Both take one batch of rows and run a fixed
number of queries whatever its size (four reads; the write adds seven bulk
statements), so a 100,000-row register costs a few queries per thousand rows.

``members_enrol`` runs inside the caller's transaction (one per batch) and writes no
audit entry: the import records one entry for the whole register.

What a row does, by whether its email (compared case-insensitively) has an account:

- no account: a User with an unusable password (the person claims the account
  through their invitation), an unverified primary EmailAddress, a Membership in
  the row's group with the row's status and ``since`` = the join date, its history
  row, and one Invitation. A row saying "left" for someone with no account is
  skipped: former members get no account and no invitation.
- an account: the membership in the row's group is created or moved to the row's
  status (with a history row); when the register had the member in another group of
  the organisation (``previous_group_id``), that membership becomes "left": the
  member moved branch. The display name is corrected only while the account is
  unclaimed and was created by this organisation's register; a member who claimed
  their account keeps the name they chose.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from ..models import (
    Group,
    Invitation,
    Membership,
    MembershipChange,
    Organisation,
    User,
)
from ..selectors import is_organisation_admin

Status = Membership.Status
IMPORT_REASON = "imported from the register"
# Statuses that still hold a place in a group; moving away from one ends it.
_HELD = frozenset({Status.ACTIVE, Status.APPLIED, Status.SUSPENDED, Status.LAPSED})


class EnrolResult(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class EnrolRow:
    """One person of the register. ``line`` is the caller's reference, echoed back.

    ``email`` is compared case-insensitively; ``group_id`` is a group of the
    organisation; ``status`` a ``Membership.Status`` value, or None when the register
    does not say (a new membership is active, an existing one keeps its status, a
    member moving branch takes theirs along); ``since`` the join date (new memberships
    only; None means now).
    """

    line: int
    email: str
    name: str
    group_id: int
    status: str | None = None
    since: datetime | None = None
    previous_group_id: int | None = None


@dataclass(frozen=True)
class EnrolLine:
    """What happened to one row: the result, the account and the membership that
    records the row's status (None for a skipped row, and for new accounts in a plan)."""

    result: EnrolResult
    user_id: int | None
    membership_id: int | None


@dataclass
class EnrolOutcome:
    lines: dict[int, EnrolLine] = field(default_factory=dict)

    def count(self, result: EnrolResult) -> int:
        return sum(1 for line in self.lines.values() if line.result == result)

    @property
    def created(self) -> int:
        return self.count(EnrolResult.CREATED)

    @property
    def updated(self) -> int:
        return self.count(EnrolResult.UPDATED)

    @property
    def unchanged(self) -> int:
        return self.count(EnrolResult.UNCHANGED)

    @property
    def skipped(self) -> int:
        return self.count(EnrolResult.SKIPPED)


@dataclass(frozen=True)
class EnrolmentDirectory:
    """The organisation's groups an enrolment may name, read once per import.

    ``by_slug`` and ``by_name`` are keyed in lower case (names with their spaces
    collapsed); a name two groups share maps to None (the register must use the slug).
    ``top_group`` is where members go when the register names no branch.
    """

    groups: dict[int, Group]
    by_slug: dict[str, Group]
    by_name: dict[str, Group | None]
    top_group: Group | None


def enrolment_directory(*, organisation: Organisation) -> EnrolmentDirectory:
    """The organisation's groups (archived ones included, so a register naming one
    gets a clear refusal rather than "unknown"), in one query."""
    groups = list(
        Group.objects.filter(organisation=organisation)
        .only("id", "name", "slug", "parent_id", "path", "archived_at", "organisation")
        .order_by("path", "id")
    )
    by_name: dict[str, Group | None] = {}
    for group in groups:
        key = " ".join(group.name.split()).lower()
        by_name[key] = None if key in by_name else group
    top = next((g for g in groups if g.parent_id is None and not g.archived_at), None)
    return EnrolmentDirectory(
        groups={g.pk: g for g in groups},
        by_slug={g.slug.lower(): g for g in groups},
        by_name=by_name,
        top_group=top,
    )


def enrolment_accounts(*, emails: Sequence[str]) -> dict[str, int]:
    """Account ids by lower-cased email, for the given emails (one query, through the
    case-insensitive email index), so a caller can find what it keeps per member
    without reading its whole table."""
    return {
        email.lower(): pk
        for pk, email in User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=[email.strip().lower() for email in emails])
        .values_list("pk", "email")
    }


@dataclass
class _Plan:
    outcome: EnrolOutcome = field(default_factory=EnrolOutcome)
    new_users: dict[int, User] = field(default_factory=dict)  # line -> unsaved user
    renamed: list[User] = field(default_factory=list)
    # (line, user or line of a new user, group id, status, since)
    new_memberships: list[tuple[int, User, int, str, datetime]] = field(
        default_factory=list
    )
    transitions: list[tuple[Membership, str]] = field(default_factory=list)


def members_enrol_plan(
    *, organisation: Organisation, rows: Sequence[EnrolRow]
) -> EnrolOutcome:
    """What ``members_enrol`` would do with these rows, without writing (4 queries)."""
    return _plan(organisation, rows).outcome


def members_enrol(
    *,
    actor: User | None,
    organisation: Organisation,
    rows: Sequence[EnrolRow],
    invited_by: User | None,
) -> EnrolOutcome:
    """Create or update these members of ``organisation``, inside the caller's
    transaction. ``actor`` must administer the organisation (None: the system).

    Raises ``PermissionDenied`` for any other actor and ``ValueError`` for rows that
    name a group outside the organisation or repeat an email.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("members_enrol must run inside the caller's transaction")
    if actor is not None and not is_organisation_admin(actor, organisation):
        raise PermissionDenied("only the organisation's admins can enrol members")
    plan = _plan(organisation, rows)
    _write(plan, actor=actor, organisation=organisation, invited_by=invited_by)
    return plan.outcome


def _check_rows(organisation: Organisation, rows: Sequence[EnrolRow]) -> None:
    emails = [row.email.strip().lower() for row in rows]
    if len(set(emails)) != len(emails):
        raise ValueError("each email may appear once in a batch")
    group_ids = {row.group_id for row in rows} | {
        row.previous_group_id for row in rows if row.previous_group_id is not None
    }
    known = set(
        Group.objects.filter(organisation=organisation, pk__in=group_ids).values_list(
            "pk", flat=True
        )
    )
    if group_ids - known:
        raise ValueError(
            f"groups outside the organisation: {sorted(group_ids - known)}"
        )


def _plan(organisation: Organisation, rows: Sequence[EnrolRow]) -> _Plan:
    """Decide every row against the accounts and memberships that exist (4 queries)."""
    _check_rows(organisation, rows)
    plan = _Plan()
    if not rows:
        return plan
    users = {
        user.email.lower(): user
        for user in User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=[row.email.strip().lower() for row in rows])
        .only("id", "email", "display_name", "password", "deleted_at")
    }
    renamable = set(
        Invitation.objects.filter(
            organisation=organisation,
            user_id__in=[u.pk for u in users.values()],
            claimed_at__isnull=True,
        ).values_list("user_id", flat=True)
    )
    memberships = {
        (m.user_id, m.group_id): m
        for m in Membership.objects.filter(
            user_id__in=[u.pk for u in users.values()],
            group_id__in={row.group_id for row in rows}
            | {r.previous_group_id for r in rows if r.previous_group_id},
        ).only("id", "user_id", "group_id", "status", "since")
    }
    now = timezone.now()
    for row in rows:
        user = users.get(row.email.strip().lower())
        if user is None:
            _plan_new(plan, row, now)
        else:
            _plan_existing(plan, row, user, memberships, user.pk in renamable, now)
    return plan


def _plan_new(plan: _Plan, row: EnrolRow, now: datetime) -> None:
    if row.status == Status.LEFT:
        plan.outcome.lines[row.line] = EnrolLine(EnrolResult.SKIPPED, None, None)
        return
    user = User(
        email=row.email.strip().lower(),
        display_name=row.name,
        date_joined=now,
    )
    plan.new_users[row.line] = user
    plan.new_memberships.append(
        (row.line, user, row.group_id, row.status or Status.ACTIVE, row.since or now)
    )
    plan.outcome.lines[row.line] = EnrolLine(EnrolResult.CREATED, None, None)


def _plan_existing(
    plan: _Plan,
    row: EnrolRow,
    user: User,
    memberships: dict[tuple[int, int], Membership],
    renamable: bool,
    now: datetime,
) -> None:
    changed = False
    if (
        renamable
        and row.name
        and row.name != user.display_name
        and not user.has_usable_password()
        and user.deleted_at is None
    ):
        user.display_name = row.name
        plan.renamed.append(user)
        changed = True
    previous = (
        memberships.get((user.pk, row.previous_group_id))
        if row.previous_group_id and row.previous_group_id != row.group_id
        else None
    )
    membership = memberships.get((user.pk, row.group_id))
    wanted = row.status
    if wanted is None:
        carried = (
            previous if previous is not None and previous.status in _HELD else None
        )
        wanted = (membership or carried or Membership(status=Status.ACTIVE)).status
    if previous is not None and previous.status in _HELD:
        plan.transitions.append((previous, Status.LEFT))
        changed = True
    if membership is None and wanted != Status.LEFT:
        plan.new_memberships.append(
            (row.line, user, row.group_id, wanted, row.since or now)
        )
        changed = True
    elif membership is not None and membership.status != wanted:
        plan.transitions.append((membership, wanted))
        changed = True
    recorded = membership or previous
    if recorded is None and not changed:
        plan.outcome.lines[row.line] = EnrolLine(EnrolResult.SKIPPED, user.pk, None)
        return
    result = EnrolResult.UPDATED if changed else EnrolResult.UNCHANGED
    plan.outcome.lines[row.line] = EnrolLine(
        result, user.pk, recorded.pk if recorded is not None else None
    )


def _write(
    plan: _Plan,
    *,
    actor: User | None,
    organisation: Organisation,
    invited_by: User | None,
) -> None:
    """Seven bulk statements, whatever the number of rows."""
    from allauth.account.models import EmailAddress

    now = timezone.now()
    for user in plan.new_users.values():
        # Unusable until the person claims the account through their invitation.
        user.password = make_password(None)
    created = User.objects.bulk_create(list(plan.new_users.values()))
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, verified=False, primary=True)
        for user in created
    )
    Invitation.objects.bulk_create(
        Invitation(
            user=user, organisation=organisation, invited_by=invited_by, created_at=now
        )
        for user in created
    )
    new_memberships = Membership.objects.bulk_create(
        Membership(user_id=user.pk, group_id=group_id, status=status, since=since)
        for _, user, group_id, status, since in plan.new_memberships
    )
    moved = [(membership, membership.status) for membership, _ in plan.transitions]
    for membership, to_status in plan.transitions:
        membership.status = to_status
        membership.since = now
    Membership.objects.bulk_update(
        [membership for membership, _ in plan.transitions], ["status", "since"]
    )
    actor_id = actor.pk if actor is not None else None
    MembershipChange.objects.bulk_create(
        [
            *(
                MembershipChange(
                    membership=m,
                    from_status="",
                    to_status=m.status,
                    actor_id=actor_id,
                    reason=IMPORT_REASON,
                    at=now,
                )
                for m in new_memberships
            ),
            *(
                MembershipChange(
                    membership=m,
                    from_status=from_status,
                    to_status=m.status,
                    actor_id=actor_id,
                    reason=IMPORT_REASON,
                    at=now,
                )
                for m, from_status in moved
            ),
        ]
    )
    User.objects.bulk_update(plan.renamed, ["display_name"])
    _record_ids(plan, new_memberships)


def _record_ids(plan: _Plan, new_memberships: list[Membership]) -> None:
    """Fill in the ids the writes gave: new accounts and the memberships of each line."""
    by_line: dict[int, Any] = {
        line: membership
        for (line, *_), membership in zip(
            plan.new_memberships, new_memberships, strict=True
        )
    }
    for line, result in list(plan.outcome.lines.items()):
        user_id = result.user_id
        if line in plan.new_users:
            user_id = plan.new_users[line].pk
        membership_id = by_line[line].pk if line in by_line else result.membership_id
        plan.outcome.lines[line] = EnrolLine(result.result, user_id, membership_id)
