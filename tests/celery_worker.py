"""A real Celery worker on Redis for tests (``from celery_worker import ...``).

Tests that must show what happens outside eager mode (a task retried, run twice,
run in another thread) start a worker thread on the local Redis. Without Redis they
skip; in CI (``CI=true``) they fail instead.
"""

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
from django.db import connections


def redis_url() -> str:
    """The Redis to run a worker against; skip without it, but never in CI."""
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
    """A Celery worker thread consuming a queue of its own on Redis, not eager.

    The app is configured like production (Django's CELERY_* settings) apart from
    the broker, the result backend and a fresh queue name, so parallel test
    processes never take each other's tasks. The tasks are the shared tasks of
    the apps, registered by name as on a deployed worker. Afterwards the process's
    current and default Celery app are the eager one again.
    """
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
        connections.close_all()  # the worker thread's own database connections

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
