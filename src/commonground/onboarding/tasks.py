"""Celery tasks of the register import: ids in, the job's row updated. Each is
idempotent and resumable (see ``services.running``); Celery's autodiscovery imports
this module, which registers them with every worker."""

from __future__ import annotations

from .services.running import apply_import_task, check_import_task

__all__ = ["apply_import_task", "check_import_task"]
