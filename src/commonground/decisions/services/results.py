"""Publishing a closed election's result: count it once, then settle what it decided.

The one module above both counting (which knows nothing of proposals) and proposals
(which knows nothing of the engine); the sweep counts every due election through it.
"""

from __future__ import annotations

import logging

from django.db import transaction

from ..models import TallyResult
from . import clock, counting
from .errors import IntegrityMismatch
from .proposals import proposal_settle_outcome

logger = logging.getLogger(__name__)


def election_count(*, election_id: int) -> TallyResult:
    """Count a closed election once; re-running returns the same stored result.

    The seal is verified first: a definition changed after opening is refused
    (IntegrityMismatch). A proposal or amendment ballot's result settles the
    proposal in the transaction that stores the result.
    """
    now = clock.now()
    election, seal = counting.verified_for_count(election_id, now)
    with transaction.atomic():
        tally, stored = counting.store_count(election, seal, now)
        if stored:
            proposal_settle_outcome(election=election, outcome=tally.outcome)
    return tally


def elections_count_due() -> dict[str, int]:
    """Periodic and idempotent: count every closed, uncounted election, here and now.

    Reports what really happened: ``counted`` (a result is stored), ``refused`` (an
    integrity mismatch, recorded once in the audit log) and ``failed`` (an
    unexpected error, logged with its traceback). One election's trouble never
    stops the others; refused and failed elections stay due and are tried again.
    """
    report = {"counted": 0, "refused": 0, "failed": 0}
    for election_id in counting.elections_due_for_count():
        try:
            election_count(election_id=election_id)
        except IntegrityMismatch:
            report["refused"] += 1
        except Exception:
            logger.exception("Counting election %s failed", election_id)
            report["failed"] += 1
        else:
            report["counted"] += 1
    return report
