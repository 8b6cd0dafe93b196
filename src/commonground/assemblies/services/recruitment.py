"""Recruiting the pool: the open call (anyone registers, confirms their address by a
signed link) and the invitation of a random sample of members drawn from a
published seed.

What is published about a registrant is their pseudonym only: random letters and
digits, unique within the assembly, from ``secrets`` (never derived from the
person). Registration closes when the organisers freeze the pool or at the
recruitment closing time, whichever comes first.

The invitation sample is reproducible from its seed: every active member of the
convening group's subtree gets the key SHA-256("<seed>:<member id>") (UTF-8, hex)
and the members with the smallest keys are invited (as many as the assembly
invites, all of them when there are fewer).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.members.selectors import subtree_active_members, viewer_for
from commonground.notifications.delivery import site_url

from .. import notifications, rules
from ..models import Assembly, Category, Recruitment, Registrant, Status
from . import clock, locks
from .errors import AssemblyRefused, HoneypotFilled, RegistrationRateLimited

CONFIRM_SALT = "commonground.assemblies.registrant-confirm"
PAGE_SALT = "commonground.assemblies.registrant-page"
CONFIRM_DAYS = 3
# Registrations one client address may make per hour (the open call has no account).
RATE_LIMIT = 10
RATE_WINDOW_SECONDS = 3600
PSEUDONYM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PSEUDONYM_LENGTH = 8


def new_pseudonym() -> str:
    return "".join(secrets.choice(PSEUDONYM_ALPHABET) for _i in range(PSEUDONYM_LENGTH))


def household_key(address: str) -> str:
    """An address or postcode compared ignoring case, spaces and punctuation."""
    return re.sub(r"[\W_]+", "", address.casefold())[:200]


def confirm_token(registrant: Registrant) -> str:
    return signing.dumps(
        {"r": registrant.pk, "p": registrant.pseudonym}, salt=CONFIRM_SALT
    )


def page_token(registrant: Registrant) -> str:
    """The registrant's own page (no expiry: their probability is there for good)."""
    return signing.dumps(
        {"r": registrant.pk, "p": registrant.pseudonym}, salt=PAGE_SALT
    )


class BadLink(Exception):
    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _read(token: str, salt: str, max_age: int | None) -> Registrant:
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise BadLink(expired=True) from None
    except signing.BadSignature:
        raise BadLink() from None
    if not isinstance(data, dict):
        raise BadLink()
    registrant = (
        Registrant.objects.select_related("assembly", "assembly__group")
        .filter(pk=int(data.get("r") or 0), pseudonym=str(data.get("p")))
        .first()
    )
    if registrant is None:
        raise BadLink()
    return registrant


def registrant_from_page_token(token: str) -> Registrant:
    return _read(token, PAGE_SALT, None)


def _check_features(assembly: Assembly, features: dict[str, str]) -> dict[str, str]:
    allowed: dict[str, set[str]] = {}
    for feature_key, value in Category.objects.filter(
        feature__assembly=assembly
    ).values_list("feature__key", "value"):
        allowed.setdefault(feature_key, set()).add(value)
    clean: dict[str, str] = {}
    for key, values in allowed.items():
        value = features.get(key, "")
        if value not in values:
            raise ValidationError({key: _("Choose one of the offered answers.")})
        clean[key] = value
    return clean


def _throttle(address: str) -> None:
    key = "assemblies:register:" + hashlib.sha256(address.encode()).hexdigest()[:24]
    if cache.add(key, 1, RATE_WINDOW_SECONDS):
        return
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, RATE_WINDOW_SECONDS)
        return
    if count > RATE_LIMIT:
        raise RegistrationRateLimited(
            _(
                "Too many registrations from your network just now: try again in an hour."
            )
        )


def _send_confirmation(registrant_id: int) -> None:
    registrant = Registrant.objects.select_related("assembly").get(pk=registrant_id)
    assembly = registrant.assembly
    context = {
        "assembly": assembly,
        "name": registrant.name,
        "confirm_url": site_url(
            reverse("assemblies:confirm", args=[confirm_token(registrant)])
        ),
        "page_url": site_url(
            reverse("assemblies:my_page_token", args=[page_token(registrant)])
        ),
        "days": CONFIRM_DAYS,
    }
    EmailMessage(
        subject=render_to_string(
            "assemblies/email/confirm_subject.txt", context
        ).strip(),
        body=render_to_string("assemblies/email/confirm.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[registrant.email],
        headers={"Auto-Submitted": "auto-generated"},
    ).send(fail_silently=True)


@transaction.atomic
def registrant_register(
    *,
    assembly: Assembly,
    actor: Any,
    name: str,
    email: str,
    features: dict[str, str],
    consent_to_draw: bool,
    consent_publish_name: bool = False,
    address: str = "",
    honeypot: str = "",
    client: str = "",
) -> Registrant | None:
    """Join the pool. Signed-in members register under their account (their
    address is already confirmed); anyone else confirms by a link sent by email.

    Returns None when the address already registered (the same answer, so nobody
    learns who registered).
    """
    if honeypot:
        raise HoneypotFilled()
    signed_in = bool(actor is not None and actor.is_authenticated)
    if not signed_in and client:
        _throttle(client)
    assembly = locks.assembly_for_update(assembly.pk)
    viewer = viewer_for(actor, assembly.group)
    if not rules.can_register(viewer, assembly, clock.now()):
        if not rules.recruitment_is_open(assembly, clock.now()):
            raise AssemblyRefused(_("Registration for this assembly has closed."))
        raise PermissionDenied(_("This assembly's pool is not open to you."))
    if not consent_to_draw:
        raise ValidationError(
            {"consent_to_draw": _("You must agree to be part of the draw to register.")}
        )
    clean_features = _check_features(assembly, features)
    name = " ".join(name.replace("\x00", "").split())[:200]
    if not name:
        raise ValidationError({"name": _("Give your name.")})
    household = household_key(address)
    if assembly.one_per_household and not household:
        raise ValidationError(
            {
                "address": _(
                    "Give your postcode and street address (one person per household)."
                )
            }
        )
    if signed_in:
        email = actor.email
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Give a valid email address.")}) from None
    now = clock.now()
    if assembly.recruitment == Recruitment.INVITATION:
        invited = Registrant.objects.filter(
            assembly=assembly, user=actor, invited=True, consent_to_draw=False
        ).first()
        if invited is None:
            raise PermissionDenied(_("This assembly's pool is by invitation only."))
        invited.name = name
        invited.features = clean_features
        invited.household_key = household
        invited.consent_to_draw = True
        invited.consent_publish_name = consent_publish_name
        invited.email_confirmed_at = now
        invited.save()
        return invited
    existing = Registrant.objects.filter(assembly=assembly, email__iexact=email).first()
    if existing is not None:
        return None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                registrant = Registrant.objects.create(
                    assembly=assembly,
                    user=actor if signed_in else None,
                    name=name,
                    email=email,
                    household_key=household,
                    features=clean_features,
                    consent_to_draw=True,
                    consent_publish_name=consent_publish_name,
                    email_confirmed_at=now if signed_in else None,
                    pseudonym=new_pseudonym(),
                )
            break
        except IntegrityError:
            if Registrant.objects.filter(
                assembly=assembly, email__iexact=email
            ).exists():
                return None
    else:  # pragma: no cover - five pseudonym collisions in a row
        raise AssemblyRefused(_("Please try again."))
    if not signed_in:
        registrant_id = registrant.pk
        transaction.on_commit(lambda: _send_confirmation(registrant_id))
    return registrant


@transaction.atomic
def registrant_confirm(*, token: str) -> Registrant:
    """Confirm an address from the emailed link (``CONFIRM_DAYS`` valid). Refused
    once the pool is frozen."""
    registrant = _read(token, CONFIRM_SALT, CONFIRM_DAYS * 24 * 3600)
    assembly = locks.assembly_for_update(registrant.assembly_id)
    registrant = Registrant.objects.select_for_update().get(pk=registrant.pk)
    if registrant.email_confirmed_at is not None:
        return registrant
    if not rules.recruitment_is_open(assembly, clock.now()):
        raise AssemblyRefused(_("Registration for this assembly has closed."))
    registrant.email_confirmed_at = clock.now()
    registrant.save(update_fields=["email_confirmed_at"])
    return registrant


@transaction.atomic
def registrant_withdraw(*, registrant: Registrant) -> Registrant:
    """The person leaves the pool (before the pool is frozen)."""
    assembly = locks.assembly_for_update(registrant.assembly_id)
    if assembly.status != Status.RECRUITING:
        raise AssemblyRefused(
            _("The pool is frozen: ask the organisers if you can no longer take part.")
        )
    registrant = Registrant.objects.select_for_update().get(pk=registrant.pk)
    if registrant.withdrawn_at is None:
        registrant.withdrawn_at = clock.now()
        registrant.save(update_fields=["withdrawn_at"])
    return registrant


@transaction.atomic
def registrant_remove(*, actor: Any, registrant: Registrant, reason: str) -> Registrant:
    """An organiser takes someone out of the pool (excluded, duplicate), logged."""
    assembly = locks.assembly_for_update(registrant.assembly_id)
    if not rules.can_manage(viewer_for(actor, assembly.group)):
        raise PermissionDenied(_("Only the group's organisers can run its assemblies."))
    if assembly.status != Status.RECRUITING:
        raise AssemblyRefused(_("The pool is frozen."))
    reason = " ".join(reason.split())[:500]
    if not reason:
        raise ValidationError({"reason": _("Say why (the group's log keeps it).")})
    registrant = Registrant.objects.select_for_update().get(pk=registrant.pk)
    if registrant.withdrawn_at is None:
        registrant.withdrawn_at = clock.now()
        registrant.save(update_fields=["withdrawn_at"])
        audit_record(
            actor=actor,
            action="assembly.registrant_removed",
            target=assembly,
            group=assembly.group,
            reason=reason,
            data={"registrant": registrant.pk},
        )
    return registrant


def invitation_sample(member_ids: list[int], seed: str, size: int) -> list[int]:
    """The members invited: the ``size`` smallest SHA-256("<seed>:<id>") keys."""
    keyed = sorted(
        member_ids,
        key=lambda pk: (hashlib.sha256(f"{seed}:{pk}".encode()).hexdigest(), pk),
    )
    return sorted(keyed[:size])


@transaction.atomic
def members_invite(*, actor: Any, assembly: Assembly, seed: str) -> list[int]:
    """Invite a random sample of the convening group's active members, drawn from
    the published ``seed`` (see the module's docstring); each invited member gets a
    notification and registers while signed in. Once per assembly."""
    assembly = locks.assembly_for_update(assembly.pk)
    if not rules.can_manage(viewer_for(actor, assembly.group)):
        raise PermissionDenied(_("Only the group's organisers can run its assemblies."))
    if assembly.recruitment != Recruitment.INVITATION:
        raise AssemblyRefused(_("This assembly recruits by open call."))
    if assembly.status != Status.RECRUITING:
        raise AssemblyRefused(_("Open recruitment first."))
    if assembly.invited_at is not None:
        raise AssemblyRefused(_("The members were already invited."))
    seed = " ".join(seed.split())[:200]
    if not seed:
        raise ValidationError({"seed": _("Give the published seed.")})
    members = list(subtree_active_members(assembly.group))
    by_id = {member.pk: member for member in members}
    chosen = invitation_sample(list(by_id), seed, assembly.invitation_size)
    for pk in chosen:
        member = by_id[pk]
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    Registrant.objects.create(
                        assembly=assembly,
                        user=member,
                        name=member.display_name or "",
                        email=member.email,
                        pseudonym=new_pseudonym(),
                        invited=True,
                    )
                break
            except IntegrityError:
                if Registrant.objects.filter(
                    assembly=assembly, email__iexact=member.email
                ).exists():
                    break
    assembly.invitation_seed = seed
    assembly.invited_at = clock.now()
    assembly.save(update_fields=["invitation_seed", "invited_at", "updated_at"])
    audit_record(
        actor=actor,
        action="assembly.members_invited",
        target=assembly,
        group=assembly.group,
        data={"seed": seed, "members": len(by_id), "invited": len(chosen)},
    )
    notifications.members_invited(assembly, [by_id[pk] for pk in chosen])
    return chosen
