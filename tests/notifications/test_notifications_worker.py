"""Exactly once on a real Celery worker with a Redis broker (skips without Redis,
fails instead when CI=true), like tests/decisions/test_decisions_sweep.py."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from celery import Celery, _state
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core import mail
from django.db import connections

from commonground.notifications import services, tasks
from commonground.notifications.models import Delivery


def redis_url() -> str:
    url = os.environ.get("COMMONGROUND_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2) as client:
            client.ping()
    except redis.RedisError as error:
        message = f"Redis not reachable at {url} ({error}): the worker test needs it"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: it must run, not skip)")
        pytest.skip(message)
    return url


@contextmanager
def worker_on_redis(url: str) -> Iterator[Celery]:
    queue = f"commonground-test-{uuid.uuid4().hex}"
    app = Celery("commonground-test-worker", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=url,
        result_backend=url,
        task_always_eager=False,
        task_default_queue=queue,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        result_expires=300,
    )

    def close_worker_connections(**kwargs) -> None:
        connections.close_all()

    previous_default, previous_current = _state.default_app, _state._tls.current_app
    task_postrun.connect(close_worker_connections, weak=False)
    try:
        with start_worker(app, perform_ping_check=False, shutdown_timeout=30):
            yield app
    finally:
        task_postrun.disconnect(close_worker_connections)
        _state.set_default_app(previous_default)
        _state._set_current_app(previous_current)
        with redis.Redis.from_url(url) as client:
            for key in client.scan_iter(match=f"*{queue}*"):
                client.delete(key)
        app.close()


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
