"""Celery tasks: ids in, emails out. Each is idempotent (see services)."""

from __future__ import annotations

from celery import shared_task

from . import delivery
from .delivery import send_emails

__all__ = ["send_emails", "send_daily_digests", "send_weekly_digests"]


@shared_task(name="notifications.send_daily_digests")
def send_daily_digests() -> int:
    return delivery.digests_send(channel="daily")


@shared_task(name="notifications.send_weekly_digests")
def send_weekly_digests() -> int:
    return delivery.digests_send(channel="weekly")
