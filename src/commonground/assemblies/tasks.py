"""Background work for assemblies; every task is idempotent and safe to re-run.

``assemblies.run_draw`` is queued when the public random number of a draw is
typed in; it runs the selection and publishes the panel. Tasks sit on top of
services, which queue them by name and never import this module.
"""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="assemblies.run_draw", acks_late=True)
def run_draw(draw_id: int) -> str:
    return services.draw_run(draw_id=draw_id)
