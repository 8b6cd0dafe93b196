"""Celery tasks of the newsletters app; each is idempotent (see services.sending).

``newsletters.sweep`` runs every minute from Celery beat: it starts the scheduled
newsletters that are due, marks finished ones sent and re-queues chunks the broker
lost. The start and chunk tasks live with the sending code they run (services queue
them after commit); importing them here registers them with every worker.
"""

from __future__ import annotations

from celery import shared_task

from . import services
from .services import send_chunk, start_sending

__all__ = ["newsletters_sweep", "send_chunk", "start_sending"]


@shared_task(name="newsletters.sweep")
def newsletters_sweep() -> dict[str, int]:
    return services.newsletters_sweep()
