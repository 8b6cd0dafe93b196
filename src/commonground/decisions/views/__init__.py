"""Thin views for proposals and ballots, one module per workflow, re-exported for urls.py.

Anything a viewer may not see answers 404, whether it exists or not (no guessing).
"""

from .casting import election_vote
from .elections import election_detail, election_edit, election_new, election_open
from .groups import group_decisions
from .nominations import (
    nomination_new,
    nomination_reject,
    nomination_second,
    nomination_withdraw,
)
from .proposals import (
    amendment_decide,
    amendment_new,
    proposal_detail,
    proposal_edit,
    proposal_new,
    proposal_publish,
    proposal_send,
    proposal_support,
)
from .results import election_download, election_results

__all__ = [
    "amendment_decide",
    "amendment_new",
    "election_detail",
    "election_download",
    "election_edit",
    "election_new",
    "election_open",
    "election_results",
    "election_vote",
    "group_decisions",
    "nomination_new",
    "nomination_reject",
    "nomination_second",
    "nomination_withdraw",
    "proposal_detail",
    "proposal_edit",
    "proposal_new",
    "proposal_publish",
    "proposal_send",
    "proposal_support",
]
