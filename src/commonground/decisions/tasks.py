"""Background work for decisions; every task is idempotent and safe to re-run.

``decisions_sweep`` is meant to run every minute from Celery beat; correctness never
depends on it (casting seals a due election itself, and the results page counts a
closed election on first view). The email tasks live with the emails, in
``notifications``; tasks sit on top of services, which never import them.
"""

from __future__ import annotations

from celery import shared_task

# Celery's autodiscovery imports each app's ``tasks`` module; importing
# notifications here is what registers the email tasks with every worker.
from . import (
    notifications,  # noqa: F401
    services,
)


@shared_task(
    name="decisions.count_election", acks_late=True, reject_on_worker_lost=True
)
def count_election(election_id: int) -> str:
    """Count a closed election; a killed run leaves nothing, a re-run gives the same result."""
    return services.election_count(election_id=election_id).result_sha256


@shared_task(name="decisions.sweep")
def decisions_sweep() -> dict[str, int]:
    """Seal due elections, remind non-voters, count closed elections, check support.

    The sweep runs in a worker, so it counts there and then: its report says how
    many elections were counted, refused or failed, eagerly or not.
    """
    return {
        "sealed": services.elections_seal_due(),
        "reminded": services.elections_send_reminders(),
        **services.elections_count_due(),
        **services.proposals_check_support(),
    }
