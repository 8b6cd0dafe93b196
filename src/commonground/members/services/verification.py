"""Verifying members before they vote, the way their organisation chose.

Email: confirming the address is enough (nothing to do here). Postal code: the
organisers print letters, each with a one-time code (only its keyed hash is kept),
and the member types it in; five wrong tries lock the code until a new letter.
Organiser check: an organiser marks the member as checked against the register.
Every verification is audit-logged without the code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record

from ..models import Group, MemberVerification, Organisation, User, Verification
from ..selectors import unverified_members, viewer_for

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 10
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Letter:
    user: User
    code: str


def _code_hash(user_id: int, organisation_id: int, code: str) -> str:
    normalised = "".join(code.split()).replace("-", "").upper()
    message = f"{organisation_id}:{user_id}:{normalised}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def _require_manager_of(actor: User, group: Group) -> None:
    if not viewer_for(actor, group).can_manage:
        raise PermissionDenied(_("Only the group's organisers and admins can do this."))


@transaction.atomic
def verification_letters_issue(*, actor: User, group: Group) -> list[Letter]:
    """A new code for every unverified active member of the group's subtree, for
    letters sent by post; earlier codes stop working. The codes are returned once
    (for the PDF) and never stored."""
    _require_manager_of(actor, group)
    organisation = group.organisation
    if organisation.verification != Verification.POSTAL_CODE:
        raise ValidationError(_("This organisation does not verify members by post."))
    now = timezone.now()
    letters = []
    for user in unverified_members(group).only("id", "display_name", "email"):
        code = _new_code()
        MemberVerification.objects.update_or_create(
            user=user,
            organisation=organisation,
            defaults={
                "method": Verification.POSTAL_CODE,
                "code_hash": _code_hash(user.pk, organisation.pk, code),
                "code_issued_at": now,
                "code_attempts": 0,
                "verified_at": None,
            },
        )
        letters.append(Letter(user=user, code=code))
    audit_record(
        actor=actor,
        action="verification.letters_issued",
        target=group,
        group=group,
        data={"letters": len(letters)},
    )
    return letters


def verification_code_redeem(
    *, user: User, organisation: Organisation, code: str
) -> MemberVerification:
    """The member types the code from their letter.

    A wrong code counts against the five tries even though it is refused: the count
    is committed before the refusal is raised (a refusal raised inside the
    transaction would roll the count back and allow endless guessing).
    """
    record, refusal = _redeem(user=user, organisation=organisation, code=code)
    if refusal:
        raise ValidationError({"code": refusal})
    assert record is not None
    return record


@transaction.atomic
def _redeem(
    *, user: User, organisation: Organisation, code: str
) -> tuple[MemberVerification | None, str]:
    record = (
        MemberVerification.objects.select_for_update()
        .filter(user=user, organisation=organisation)
        .first()
    )
    if record is None or (not record.code_hash and record.verified_at is None):
        return None, _("No letter with a code was sent to you.")
    if record.verified_at is not None:
        return record, ""
    if record.code_attempts >= MAX_ATTEMPTS:
        return None, _("Too many wrong codes: ask your organisers for a new letter.")
    if not hmac.compare_digest(
        record.code_hash, _code_hash(user.pk, organisation.pk, code)
    ):
        MemberVerification.objects.filter(pk=record.pk).update(
            code_attempts=record.code_attempts + 1
        )
        left = MAX_ATTEMPTS - record.code_attempts - 1
        return None, _("That is not the code in your letter (%(left)d tries left).") % {
            "left": left
        }
    record.verified_at = timezone.now()
    record.code_hash = ""
    record.save(update_fields=["verified_at", "code_hash"])
    audit_record(
        actor=user,
        action="member.verified",
        target=user,
        data={"organisation": organisation.pk, "method": Verification.POSTAL_CODE},
    )
    return record, ""


@transaction.atomic
def member_verify(*, actor: User, member: User, group: Group) -> MemberVerification:
    """An organiser checked the member against the register."""
    _require_manager_of(actor, group)
    organisation = group.organisation
    if not unverified_members(group).filter(pk=member.pk).exists():
        raise ValidationError(
            _("Only an unverified active member of this group can be verified here.")
        )
    record, _created = MemberVerification.objects.update_or_create(
        user=member,
        organisation=organisation,
        defaults={
            "method": Verification.ORGANISER_CHECK,
            "verified_at": timezone.now(),
            "verified_by": actor,
            "code_hash": "",
        },
    )
    audit_record(
        actor=actor,
        action="member.verified",
        target=member,
        group=group,
        data={"member": member.pk, "method": Verification.ORGANISER_CHECK},
    )
    return record


@transaction.atomic
def organisation_verification_set(
    *, actor: User, organisation: Organisation, method: str
) -> Organisation:
    """Choose how members are verified before they vote (the organisation's admins).

    Ballots already open keep their sealed rolls; the choice applies from the next.
    """
    from ..selectors import is_organisation_admin

    if not is_organisation_admin(actor, organisation):
        raise PermissionDenied(_("Only the organisation's admins can choose this."))
    if method not in Verification.values:
        raise ValidationError({"method": _("Choose one of the ways offered.")})
    if organisation.verification == method:
        return organisation
    before = organisation.verification
    Organisation.objects.filter(pk=organisation.pk).update(verification=method)
    organisation.verification = method
    audit_record(
        actor=actor,
        action="organisation.verification_changed",
        target=organisation,
        data={"from": before, "to": method},
    )
    return organisation
