"""Background work for decisions; every task is idempotent and safe to re-run.

``decisions_sweep`` is meant to run every minute from Celery beat; correctness never
depends on it (casting seals a due election itself, and the results page counts a
closed election on first view).
"""

from __future__ import annotations

from typing import Any

from commonground.site.celery import app

from . import notifications, services


@app.task(name="decisions.count_election", acks_late=True, reject_on_worker_lost=True)
def count_election(election_id: int) -> str:
    """Count a closed election; a killed run leaves nothing, a re-run gives the same result."""
    return services.election_count(election_id=election_id).result_sha256


@app.task(name="decisions.sweep")
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


# Emails: queued after the transaction that caused them commits.


@app.task(name="decisions.email_election_opened")
def email_election_opened(election_id: int) -> int:
    return notifications.send_election_opened(election_id)


@app.task(name="decisions.email_closing_soon")
def email_closing_soon(election_id: int, member_ids: list[int]) -> int:
    return notifications.send_closing_soon(election_id, member_ids)


@app.task(name="decisions.email_results")
def email_results(election_id: int) -> int:
    return notifications.send_results(election_id)


@app.task(name="decisions.email_cast_receipt")
def email_cast_receipt(election_id: int, member_id: int, tracker: str) -> int:
    return notifications.send_cast_receipt(election_id, member_id, tracker)
