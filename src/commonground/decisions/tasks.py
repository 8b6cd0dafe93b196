"""Background work for decisions; every task is idempotent and safe to re-run.

``decisions_sweep`` is meant to run every minute from Celery beat; correctness never
depends on it (casting seals a due election itself, and the results page counts a
closed election on first view). The email tasks live with the emails, in
``notifications``; tasks sit on top of services and nothing in the app imports them.
"""

from __future__ import annotations

from typing import Any

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
def decisions_sweep() -> dict[str, Any]:
    """Seal due elections, remind non-voters, count closed elections, check support."""
    sealed = services.elections_seal_due()
    reminded = services.elections_send_reminders()
    counted = 0
    for election_id in services.elections_due_for_count():
        try:
            count_election.delay(election_id)
        except services.IntegrityMismatch:
            continue  # refused and recorded in the audit log; the others still count
        counted += 1
    proposals = services.proposals_check_support()
    return {"sealed": sealed, "reminded": reminded, "counted": counted, **proposals}
