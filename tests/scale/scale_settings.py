"""Settings for the processes tests/scale starts (gunicorn, Celery worker and beat).

The development settings, read from the environment like production, plus what lets
several test runs share one Redis without meeting: a queue and a cache key prefix of
their own (``COMMONGROUND_TEST_QUEUE``). Beat sweeps every 2 seconds instead of every
minute, and a task a killed worker held comes back after 5 seconds instead of an hour
(Redis's visibility timeout), so the fault tests stay short.
"""

import os

from commonground.site.settings import *  # noqa: F403
from commonground.site.settings import CACHES, CELERY_BEAT_SCHEDULE

QUEUE = os.environ["COMMONGROUND_TEST_QUEUE"]
CELERY_TASK_DEFAULT_QUEUE = QUEUE
CACHES["default"]["KEY_PREFIX"] = QUEUE
CELERY_BEAT_SCHEDULE = {
    "decisions-sweep": {**CELERY_BEAT_SCHEDULE["decisions-sweep"], "schedule": 2.0}
}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 5,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
