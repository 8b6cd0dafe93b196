"""Every state change of proposals, amendments, nominations and elections.

Each service is typed, keyword-only and atomic: permission check, write, audit entry
and notification (queued after commit). Ballot contents never reach the audit log,
the logs or an email; casts are recorded as a Participation (who) and a Ballot
(what) that share nothing but a keyed hash (docs/ballot-integrity.md).

One module per workflow, re-exported here; callers use ``services.<name>``:

- ``proposals``, ``amendments``: from a draft to a ballot, and settling its result;
- ``elections`` (definition, editing, opening, reminders), ``nominations``,
  ``sealing`` (the frozen definition), ``casting``, ``counting`` and ``results``
  (count, then settle what it decided; the sweep's counting);
- below them, imported by them and never the reverse: ``errors``, ``checks``,
  ``options`` (label cleaning) and ``locks`` (the row locks and their order).
"""

from __future__ import annotations

from .amendments import amendment_decide, amendment_propose
from .casting import CastReceipt, ballot_cast
from .counting import elections_due_for_count
from .elections import (
    ElectionSpec,
    election_create,
    election_edit,
    election_open_now,
    election_open_with_roll,
    elections_send_reminders,
)
from .errors import DecisionRefused, IntegrityMismatch
from .nominations import (
    nomination_reject,
    nomination_second,
    nomination_submit,
    nomination_withdraw,
)
from .proposals import (
    proposal_create,
    proposal_publish,
    proposal_send_to_ballot,
    proposal_settle_outcome,
    proposal_support,
    proposal_update,
    proposal_withdraw_support,
    proposals_check_support,
)
from .results import election_count, elections_count_due
from .sealing import elections_seal_due

__all__ = [
    "CastReceipt",
    "DecisionRefused",
    "ElectionSpec",
    "IntegrityMismatch",
    "amendment_decide",
    "amendment_propose",
    "ballot_cast",
    "election_count",
    "election_create",
    "election_edit",
    "election_open_now",
    "election_open_with_roll",
    "elections_count_due",
    "elections_due_for_count",
    "elections_seal_due",
    "elections_send_reminders",
    "nomination_reject",
    "nomination_second",
    "nomination_submit",
    "nomination_withdraw",
    "proposal_create",
    "proposal_publish",
    "proposal_send_to_ballot",
    "proposal_settle_outcome",
    "proposal_support",
    "proposal_update",
    "proposal_withdraw_support",
    "proposals_check_support",
]
