"""Background work for conversations; every task is idempotent and safe to re-run.

``conversations.refresh_map`` is queued (debounced) by votes and moderation;
``conversations.finish`` by an organiser's close; ``conversations.sweep`` runs every
minute from Celery beat and finishes conversations whose closing time passed.
Tasks sit on top of services, which queue them by name and never import this module.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from . import services


@shared_task(name="conversations.refresh_map")
def refresh_map(conversation_id: int) -> dict[str, Any] | None:
    report = services.map_refresh(conversation_id=conversation_id)
    if report is None:
        return None
    return {
        "through_event": report.through_event,
        "votes": report.votes,
        "k": report.k,
        "seconds": round(report.seconds, 3),
        "warm": report.warm,
        "skipped": report.skipped,
    }


@shared_task(name="conversations.finish", acks_late=True)
def finish(conversation_id: int) -> bool:
    return services.conversation_finish(conversation_id=conversation_id)


@shared_task(name="conversations.sweep")
def sweep() -> dict[str, int]:
    return {"finished": services.conversations_finish_due()}
