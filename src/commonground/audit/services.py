"""Writing the audit log. Call ``audit_record`` inside the transaction of the action."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from .hashing import canonical_content, chain_hash
from .models import GENESIS_HASH, AuditChainHead, AuditEntry


def _target(target: models.Model | None) -> tuple[str, str]:
    if target is None:
        return "", ""
    return target._meta.label_lower, str(target.pk)


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    group: Any = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain. Must run inside the action's transaction.

    The chain head row is locked (PostgreSQL) or the write transaction is exclusive
    (SQLite, IMMEDIATE mode), so concurrent actions append one after another.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must be called inside transaction.atomic()")
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(
        singleton=True, defaults={"last_hash": GENESIS_HASH}
    )
    target_type, target_id = _target(target)
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    group_id = group.pk if group is not None else None
    created_at = timezone.now()
    payload = data or {}
    fields: dict[str, Any] = {
        "created_at": created_at,
        "actor_id": actor_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "group_id": group_id,
        "reason": reason,
        "data": payload,
    }
    entry_hash = chain_hash(head.last_hash, canonical_content(**fields))
    entry = AuditEntry(**fields, previous_hash=head.last_hash, entry_hash=entry_hash)
    entry.save()
    AuditChainHead.objects.filter(pk=head.pk).update(
        last_hash=entry_hash, length=models.F("length") + 1
    )
    return entry


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_id: int | None
    problem: str

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def audit_verify_chain() -> ChainReport:
    """Recompute every hash in order; name the first entry that does not match."""
    previous = GENESIS_HASH
    checked = 0
    last_id = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.previous_hash != previous:
            return ChainReport(
                checked, entry.pk, "previous hash does not match the entry before it"
            )
        content = canonical_content(
            created_at=entry.created_at,
            actor_id=entry.actor_id,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            group_id=entry.group_id,
            reason=entry.reason,
            data=entry.data,
        )
        if chain_hash(previous, content) != entry.entry_hash:
            return ChainReport(checked, entry.pk, "content does not match its hash")
        previous = entry.entry_hash
        last_id = entry.pk
        checked += 1
    head = AuditChainHead.objects.filter(singleton=True).first()
    if head is not None and (head.last_hash != previous or head.length != checked):
        return ChainReport(
            checked,
            last_id,
            "the chain head does not match the last entry: entries after it were removed",
        )
    return ChainReport(checked, None, "")
