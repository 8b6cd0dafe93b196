"""Groups: creating them and changing their settings.

Each function is atomic: it checks permission, writes, and appends the audit
entry in the same transaction, so an action is never half-done or unlogged.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from commonground.audit.services import audit_record

from ..models import (
    Group,
    Organisation,
    User,
)
from ._shared import _require_manager


@transaction.atomic
def group_settings_update(
    *, actor: User, group: Group, description: str, join_policy: str, is_public: bool
) -> Group:
    _require_manager(actor, group)
    if join_policy not in Group.JoinPolicy.values:
        raise ValidationError({"join_policy": "Choose open joining or approval."})
    before = {
        "description": group.description,
        "join_policy": group.join_policy,
        "is_public": group.is_public,
    }
    after = {
        "description": description,
        "join_policy": join_policy,
        "is_public": is_public,
    }
    changed = {
        key: [before[key], after[key]] for key in after if before[key] != after[key]
    }
    if not changed:
        return group
    Group.objects.filter(pk=group.pk).update(**after)
    for key, value in after.items():
        setattr(group, key, value)
    audit_record(
        actor=actor,
        action="group.settings_changed",
        target=group,
        group=group,
        data={"changed": changed},
    )
    return group


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
) -> Group:
    if parent is not None:
        if actor is not None:
            _require_manager(actor, parent)
        if parent.organisation_id != organisation.pk:
            raise ValidationError(
                {"parent": "A sub-group belongs to its parent's organisation."}
            )
    group = Group.objects.create(
        organisation=organisation,
        parent=parent,
        name=name,
        slug=slug,
        kind=kind,
        description=description,
        join_policy=join_policy,
        path="",
    )
    group.path = f"{parent.path if parent else '/'}{group.pk}/"
    Group.objects.filter(pk=group.pk).update(path=group.path)
    audit_record(
        actor=actor,
        action="group.created",
        target=group,
        group=group,
        data={"name": name},
    )
    return group
