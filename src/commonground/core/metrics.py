"""Prometheus metrics: django-prometheus for requests, plus the platform's own.

- requests: django-prometheus's middleware (``django_http_*``: counts by view, method
  and status, latency histograms by view);
- casts: ``commonground_ballot_casts_total{outcome}`` (``recorded`` when the ballot box
  answered 201, ``not_recorded`` for a refusal or a paper to fix, ``failed`` for 5xx),
  counted by ``CastMetricsMiddleware`` on the views named in ``METRICS_CAST_VIEWS``;
- task queue depth: ``commonground_task_queue_depth{queue}``, read from the Redis broker
  when the metrics are scraped;
- counting and task durations: ``commonground_task_duration_seconds{task,outcome}`` for
  every Celery task and ``commonground_count_duration_seconds`` for counting tasks
  (``METRICS_COUNT_TASKS``), observed in the worker (``CELERY_IMPORTS`` loads this
  module there).

Several processes (gunicorn workers, Celery's pool) share one set of numbers through
prometheus_client's multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set
(deploy/gunicorn.conf.py sets it). The endpoint is not public: ``metrics`` answers 404
unless ``METRICS_TOKEN`` (sent as ``Authorization: Bearer ...``) or
``METRICS_ALLOWED_NETWORKS`` is configured, and the request satisfies each one set.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from celery import signals as celery_signals
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .observability import bind_request_id, current_request_id, unbind_request_id

logger = logging.getLogger(__name__)

casts = Counter(
    "commonground_ballot_casts",
    "Ballots sent to the ballot box, by outcome (recorded, not_recorded, failed).",
    ["outcome"],
)
task_duration = Histogram(
    "commonground_task_duration_seconds",
    "Time Celery tasks took, by task name and outcome.",
    ["task", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
count_duration = Histogram(
    "commonground_count_duration_seconds",
    "Time counting a closed election took (counting tasks, in the worker).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)


def _multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


# --- The cast counter --------------------------------------------------------------


def cast_outcome(status_code: int) -> str:
    if status_code == 201:
        return "recorded"
    return "failed" if status_code >= 500 else "not_recorded"


class CastMetricsMiddleware:
    """Counts what the ballot box answered, by outcome (never by ballot or member)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.views = frozenset(getattr(settings, "METRICS_CAST_VIEWS", ()))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if (
            request.method == "POST"
            and match is not None
            and match.view_name in self.views
        ):
            casts.labels(outcome=cast_outcome(response.status_code)).inc()
        return response


# --- Task queue depth --------------------------------------------------------------


class QueueDepthCollector(Collector):
    """Messages waiting in each Celery queue on the Redis broker, read at scrape time."""

    def __init__(self, broker_url: str, queues: list[str]) -> None:
        self.broker_url = broker_url
        self.queues = queues

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if not self.broker_url.startswith(("redis://", "rediss://")):
            return
        import redis

        family = GaugeMetricFamily(
            "commonground_task_queue_depth",
            "Tasks waiting in a Celery queue (Redis list length; -1 if unreadable).",
            labels=["queue"],
        )
        try:
            with redis.Redis.from_url(
                self.broker_url, socket_connect_timeout=1, socket_timeout=1
            ) as client:
                for queue in self.queues:
                    family.add_metric([queue], float(client.llen(queue)))
        except redis.RedisError:
            logger.warning("task queue depth unreadable: the broker did not answer")
            for queue in self.queues:
                family.add_metric([queue], -1.0)
        yield family


def _queue_depth_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        QueueDepthCollector(
            str(getattr(settings, "CELERY_BROKER_URL", "")),
            list(getattr(settings, "METRICS_QUEUES", ["celery"])),
        )
    )
    return registry


def exposition() -> bytes:
    """Every metric of every process, in Prometheus's text format."""
    if _multiprocess():
        registry = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    return body + generate_latest(_queue_depth_registry())


# --- The protected endpoint --------------------------------------------------------


def scrape_allowed(request: HttpRequest) -> bool:
    """True when the endpoint is configured and the request meets each condition set."""
    token = getattr(settings, "METRICS_TOKEN", "")
    networks = getattr(settings, "METRICS_ALLOWED_NETWORKS", [])
    if not token and not networks:
        return False
    if token:
        sent = request.META.get("HTTP_AUTHORIZATION", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return False
    if networks:
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        if not any(
            address in ipaddress.ip_network(network, strict=False)
            for network in networks
        ):
            return False
    return True


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus's scrape target; 404 to anyone not allowed (it does not advertise)."""
    if not scrape_allowed(request):
        raise Http404
    response = HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


# --- Celery: task durations, request ids, the worker's own scrape target -------------

_task_started: dict[str, float] = {}


@celery_signals.before_task_publish.connect(weak=False)
def _send_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    request_id = current_request_id()
    if headers is not None and request_id:
        headers.setdefault("commonground_request_id", request_id)


@celery_signals.task_prerun.connect(weak=False)
def _task_started_at(task_id: str, task: Any, **kwargs: Any) -> None:
    _task_started[task_id] = time.perf_counter()
    request_id = getattr(task.request, "commonground_request_id", None)
    task.request.commonground_log_token = bind_request_id(request_id)


@celery_signals.task_postrun.connect(weak=False)
def _task_finished(
    task_id: str, task: Any, state: str | None = None, **kwargs: Any
) -> None:
    started = _task_started.pop(task_id, None)
    token = getattr(task.request, "commonground_log_token", None)
    if token is not None:
        unbind_request_id(token)
    if started is None:
        return
    elapsed = time.perf_counter() - started
    outcome = "success" if state == "SUCCESS" else "failure"
    task_duration.labels(task=task.name, outcome=outcome).observe(elapsed)
    if (
        task.name in getattr(settings, "METRICS_COUNT_TASKS", ())
        and outcome == "success"
    ):
        count_duration.observe(elapsed)


@celery_signals.worker_process_shutdown.connect(weak=False)
def _forget_pool_process(pid: int | None = None, **kwargs: Any) -> None:
    if _multiprocess():
        multiprocess.mark_process_dead(pid or os.getpid())


@celery_signals.worker_ready.connect(weak=False)
def _serve_worker_metrics(**kwargs: Any) -> None:
    """With ``COMMONGROUND_WORKER_METRICS_PORT``, the worker serves its own metrics.

    Bound to ``COMMONGROUND_WORKER_METRICS_ADDR`` (127.0.0.1 unless set): the port is
    for a scraper on the same host or private network, never the public internet.
    """
    port = os.environ.get("COMMONGROUND_WORKER_METRICS_PORT")
    if not port:
        return
    from prometheus_client import start_http_server

    address = os.environ.get("COMMONGROUND_WORKER_METRICS_ADDR", "127.0.0.1")
    if _multiprocess():
        registry = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(registry)
        start_http_server(int(port), addr=address, registry=registry)
    else:
        start_http_server(int(port), addr=address)
