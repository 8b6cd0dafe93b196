"""Groups: creating, renaming, moving and archiving them, and their settings.

Each function is atomic: it checks permission, writes, and appends the audit
entry in the same transaction, so an action is never half-done or unlogged.
Organisers and admins act within the subtree where they hold the role; a group
without a parent (an organisation's top) is created by the organisation's admins.
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.core.capabilities import archive_blockers

from ..models import Group, Organisation, User
from ..selectors import is_organisation_admin
from ._shared import _require_manager

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PATH_MAX_LENGTH = Group._meta.get_field("path").max_length or 255


@transaction.atomic
def group_settings_update(
    *, actor: User, group: Group, description: str, join_policy: str, is_public: bool
) -> Group:
    _require_manager(actor, group)
    if join_policy not in Group.JoinPolicy.values:
        raise ValidationError({"join_policy": _("Choose open joining or approval.")})
    return _change(
        actor,
        group,
        "group.settings_changed",
        {
            "description": description,
            "join_policy": join_policy,
            "is_public": is_public,
        },
    )


def _change(actor: User, group: Group, action: str, after: dict) -> Group:
    """Write the changed fields and one audit entry naming them (none if unchanged)."""
    changed = {
        key: [getattr(group, key), value]
        for key, value in after.items()
        if getattr(group, key) != value
    }
    if not changed:
        return group
    Group.objects.filter(pk=group.pk).update(**after)
    for key, value in after.items():
        setattr(group, key, value)
    audit_record(
        actor=actor, action=action, target=group, group=group, data={"changed": changed}
    )
    return group


def clean_group_fields(
    *, organisation: Organisation, name: str, slug: str, kind: str
) -> tuple[str, str]:
    """The name and slug, checked; ValidationError naming the field otherwise."""
    name = " ".join(name.split())
    slug = slug.strip().lower()
    errors: dict[str, str] = {}
    if not name or len(name) > Group._meta.get_field("name").max_length:  # type: ignore[operator]
        errors["name"] = _("Give the group a name of 1 to 120 characters.")
    if not SLUG_PATTERN.match(slug) or len(slug) > 60:
        errors["slug"] = _(
            "Use lower-case letters, digits and single hyphens (at most 60), "
            "as in “leeds-north”."
        )
    elif Group.objects.filter(slug=slug).exists():
        errors["slug"] = _("The web address “%(slug)s” is taken.") % {"slug": slug}
    if kind not in Group.Kind.values:
        errors["kind"] = _("Choose one of the kinds of group.")
    elif (kind == Group.Kind.COALITION) != (
        organisation.kind == Organisation.Kind.COALITION
    ):
        errors["kind"] = _(
            "Coalition-wide groups belong to coalitions, and coalitions hold only "
            "coalition-wide groups."
        )
    if errors:
        raise ValidationError(errors)
    return name, slug


@transaction.atomic
def group_create(
    *,
    actor: User | None,
    organisation: Organisation,
    name: str,
    slug: str,
    kind: str,
    parent: Group | None = None,
    description: str = "",
    join_policy: str = Group.JoinPolicy.APPROVAL,
    is_public: bool = True,
) -> Group:
    """A new group under ``parent`` (which the actor manages), or a new top-level
    group of the organisation (its admins only). ``actor`` None is a set-up script."""
    if actor is not None:
        if parent is not None:
            _require_manager(actor, parent)
        elif not is_organisation_admin(actor, organisation):
            raise PermissionDenied(
                _("Only the organisation's admins can add a top-level group.")
            )
    if parent is not None:
        if parent.organisation_id != organisation.pk:
            raise ValidationError(
                {"parent": _("A sub-group belongs to its parent's organisation.")}
            )
        if parent.archived_at is not None:
            raise ValidationError({"parent": _("That group is archived.")})
    name, slug = clean_group_fields(
        organisation=organisation, name=name, slug=slug, kind=kind
    )
    if join_policy not in Group.JoinPolicy.values:
        raise ValidationError({"join_policy": _("Choose open joining or approval.")})
    group = Group.objects.create(
        organisation=organisation,
        parent=parent,
        name=name,
        slug=slug,
        kind=kind,
        description=description,
        join_policy=join_policy,
        is_public=is_public,
        path="",
    )
    group.path = f"{parent.path if parent else '/'}{group.pk}/"
    if len(group.path) > PATH_MAX_LENGTH:
        raise ValidationError({"parent": _("The group tree cannot be that deep.")})
    Group.objects.filter(pk=group.pk).update(path=group.path)
    audit_record(
        actor=actor,
        action="group.created",
        target=group,
        group=group,
        data={"name": name, "kind": kind, "parent": parent.pk if parent else None},
    )
    return group


@transaction.atomic
def group_rename(*, actor: User, group: Group, name: str) -> Group:
    _require_manager(actor, group)
    name = " ".join(name.split())
    if not name or len(name) > 120:
        raise ValidationError(
            {"name": _("Give the group a name of 1 to 120 characters.")}
        )
    return _change(actor, group, "group.renamed", {"name": name})


@transaction.atomic
def group_move(*, actor: User, group: Group, new_parent: Group) -> Group:
    """Put ``group`` (and its subtree) under ``new_parent`` in the same organisation.

    Members, roles and history stay with the group; the rolls of the groups above
    follow because membership of a subtree is read from the paths, rewritten here
    for the whole subtree in one statement.
    """
    group = Group.objects.select_for_update().get(pk=group.pk)
    _require_manager(actor, group)
    _require_manager(actor, new_parent)
    if group.parent_id is None:
        raise ValidationError(
            {"parent": _("An organisation's top-level group cannot be moved.")}
        )
    if new_parent.organisation_id != group.organisation_id:
        raise ValidationError(
            {"parent": _("A group can only move within its organisation.")}
        )
    if new_parent.path.startswith(group.path):
        raise ValidationError(
            {"parent": _("A group cannot move under itself or one of its sub-groups.")}
        )
    if new_parent.archived_at is not None:
        raise ValidationError({"parent": _("That group is archived.")})
    if new_parent.pk == group.parent_id:
        return group
    old_path, old_parent = group.path, group.parent_id
    new_path = f"{new_parent.path}{group.pk}/"
    deepest = (
        Group.objects.filter(path__startswith=old_path)
        .order_by("-path")
        .values_list("path", flat=True)
    )
    if any(len(new_path) + len(p) - len(old_path) > PATH_MAX_LENGTH for p in deepest):
        raise ValidationError({"parent": _("The group tree cannot be that deep.")})
    Group.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1))
    )
    Group.objects.filter(pk=group.pk).update(parent=new_parent)
    group.refresh_from_db()
    audit_record(
        actor=actor,
        action="group.moved",
        target=group,
        group=group,
        data={"from": old_parent, "to": new_parent.pk},
    )
    return group


@transaction.atomic
def group_archive(*, actor: User, group: Group, reason: str) -> Group:
    """Archive a group: it keeps its members and records but takes no new members
    and opens nothing new. Refused while it has live sub-groups or while an app has
    something open in it (an open ballot, say)."""
    group = Group.objects.select_for_update().get(pk=group.pk)
    _require_manager(actor, group)
    if group.archived_at is not None:
        raise ValidationError(_("This group is already archived."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the group is archived.")})
    if Group.objects.filter(parent=group, archived_at__isnull=True).exists():
        raise ValidationError(_("Archive or move this group's sub-groups first."))
    blockers = archive_blockers(group)
    if blockers:
        raise ValidationError([str(reason) for reason in blockers])
    group.archived_at = timezone.now()
    Group.objects.filter(pk=group.pk).update(archived_at=group.archived_at)
    audit_record(
        actor=actor, action="group.archived", target=group, group=group, reason=reason
    )
    return group


@transaction.atomic
def group_unarchive(*, actor: User, group: Group) -> Group:
    group = Group.objects.select_for_update().get(pk=group.pk)
    _require_manager(actor, group)
    if group.archived_at is None:
        raise ValidationError(_("This group is not archived."))
    if group.parent is not None and group.parent.archived_at is not None:
        raise ValidationError(_("Its parent group is archived: restore that first."))
    group.archived_at = None
    Group.objects.filter(pk=group.pk).update(archived_at=None)
    audit_record(actor=actor, action="group.unarchived", target=group, group=group)
    return group
