"""Exactly once on a real Celery worker with a Redis broker (skips without Redis,
fails instead when CI=true), like tests/decisions/test_decisions_sweep.py."""

from __future__ import annotations

import pytest
from django.core import mail

from celery_worker import redis_url, worker_on_redis
from commonground.notifications import services, tasks
from commonground.notifications.models import Delivery


@pytest.mark.django_db(transaction=True)  # the worker thread reads committed rows
def test_on_a_real_worker_a_repeated_send_emails_once(
    kinds, group, members, monkeypatch
):
    url = redis_url()
    with monkeypatch.context() as patch:  # no eager send on commit: the worker's
        patch.setattr(tasks.send_emails, "delay", lambda ids: None)
        services.notify(
            "tests.news", recipients=members[:2], group=group, context={"title": "Hi"}
        )
    ids = list(Delivery.objects.values_list("pk", flat=True))
    mail.outbox.clear()
    with worker_on_redis(url) as app:
        assert app.conf.task_always_eager is False
        first = tasks.send_emails.delay(ids)
        second = tasks.send_emails.delay(ids)  # a redelivery after a crash
        results = sorted([first.get(timeout=60), second.get(timeout=60)])
    assert first.backend.__class__.__name__ == "RedisBackend"
    assert sum(results) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in members[:2])
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
