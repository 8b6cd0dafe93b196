"""Periodic work of publishing (on top of services). Nothing waits for it: a
scheduled article appears on time whether or not the sweep has run."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="publishing.sweep")
def sweep() -> int:
    """Mark due scheduled articles as published; purge expired unconfirmed
    visitor comments. Idempotent."""
    return services.articles_sweep()
