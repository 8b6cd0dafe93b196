"""Opinion maps: where the factions of a conversation agree and disagree.

Two modes share one API and one result type (spec ``opinion.md``):
``polis`` reproduces Pol.is math (with replay of a timestamped vote log),
``improved`` (default) is deterministic and stateless.

>>> from commonground.engines.opinion import OpinionMap, VoteTable
>>> votes = VoteTable.from_records(
...     [(p, s, 1 if (p < 4) == (s < 3) else -1, None)
...      for p in range(8) for s in range(6)])
>>> OpinionMap(mode="polis").fit(votes).k_
2

``read_polis_export`` reads every Pol.is openData layout (columns matched by
name); ``write_polis_export`` writes the current one.
"""

from ._data import (
    OpinionInputError,
    OpinionInputWarning,
    StatementTable,
    VoteTable,
)
from ._estimator import OpinionMap
from ._polis import PolisState
from ._readers import (
    read_polis_api_json,
    read_polis_export,
    read_polis_summary,
    read_statements_csv,
    read_votes_csv,
)
from ._result import (
    Consensus,
    Diagnostics,
    Group,
    GroupAwareScore,
    InputSummary,
    MajorityStatement,
    OpinionResult,
    ParticipantPoint,
    RepresentativeStatement,
    StatementPoint,
    TraceTick,
)
from ._writers import write_polis_export

__all__ = [
    "Consensus",
    "Diagnostics",
    "Group",
    "GroupAwareScore",
    "InputSummary",
    "MajorityStatement",
    "OpinionInputError",
    "OpinionInputWarning",
    "OpinionMap",
    "OpinionResult",
    "ParticipantPoint",
    "PolisState",
    "RepresentativeStatement",
    "StatementPoint",
    "StatementTable",
    "TraceTick",
    "VoteTable",
    "read_polis_api_json",
    "read_polis_export",
    "read_polis_summary",
    "read_statements_csv",
    "read_votes_csv",
    "write_polis_export",
]
