"""Canonical content and hashing of audit entries (shared by writing and verifying)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from commonground.core.canonical import canonical_json


def canonical_content(
    *,
    created_at: datetime,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: str,
    group_id: int | None,
    reason: str,
    data: dict[str, Any],
) -> bytes:
    content = {
        "action": action,
        "actor": actor_id,
        "created_at": created_at.isoformat(timespec="microseconds"),
        "data": data,
        "group": group_id,
        "reason": reason,
        "target": [target_type, target_id],
    }
    return canonical_json(content).encode("utf-8")


def chain_hash(previous_hash: str, content: bytes) -> str:
    return hashlib.sha256(previous_hash.encode("ascii") + content).hexdigest()
