"""Gunicorn settings for Common Ground in production (docs/deploy.md).

Every value can be set from the environment, so one file serves the container image,
a plain virtualenv deployment and the multi-process tests (tests/scale):

  GUNICORN_BIND      address to listen on (default 0.0.0.0:8000)
  WEB_CONCURRENCY    worker processes (default 2 x cores + 1, at most 8)
  GUNICORN_TIMEOUT   seconds before a silent worker is killed and replaced (30)
  FORWARDED_ALLOW_IPS  proxies whose X-Forwarded-* headers are trusted (127.0.0.1)

Workers share the Prometheus metrics through a per-server directory (multiprocess
mode); logs are JSON lines on stderr like the application's (core.observability).
The application's own middleware writes one line per request (with the request id and
route, never the query string), so gunicorn's access log is off.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(
    os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8))
)
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# Recycle workers now and then (memory growth), staggered so they never all restart.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The heartbeat file on a memory file system (never blocked by a slow disk).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Several servers on one host (and the tests) must not share a control socket.
control_socket_disable = True
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Gunicorn's own messages as JSON lines; its access log is silenced (see above).
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "WARNING", "handlers": ["console"]},
    "formatters": {"json": {"()": "commonground.core.observability.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "gunicorn.error": {
            "level": loglevel.upper(),
            "handlers": ["console"],
            "propagate": False,
        },
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
    },
}

# Prometheus multiprocess mode: one directory per server, emptied at start.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="commonground-metrics-"
    )


def on_starting(server):  # noqa: ANN001 - gunicorn's hook signature
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):  # noqa: ANN001 - gunicorn's hook signature
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
