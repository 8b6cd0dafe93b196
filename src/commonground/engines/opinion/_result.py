"""The result of an opinion map and its JSON form (spec §6, §7.2).

Every mode returns an :class:`OpinionResult`.  ``to_dict()`` gives exactly the
JSON object of spec §7.2 (keys in the documented order); ``to_json()`` adds
the number rules: finite numbers only (NaN and infinities become ``null``),
floats as the shortest round-trip ``repr``, ``-0.0`` written as ``0.0``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "FORMAT",
    "Consensus",
    "Diagnostics",
    "GroupAwareScore",
    "Group",
    "InputSummary",
    "MajorityStatement",
    "OpinionResult",
    "ParticipantPoint",
    "RepresentativeStatement",
    "StatementPoint",
    "TraceTick",
    "json_value",
    "orientation_signs",
]

FORMAT = "commonground-opinion/1"


def json_value(value: Any) -> Any:
    """A JSON-ready copy: numpy scalars to Python, non-finite floats to None.

    Tuples become lists, mapping keys become strings, ``-0.0`` becomes ``0.0``.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            return None
        return 0.0 if number == 0.0 else number
    if isinstance(value, Mapping):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(item) for item in value]
    if isinstance(value, np.ndarray):
        return [json_value(item) for item in value.tolist()]
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def orientation_signs(components: NDArray[np.float64]) -> NDArray[np.float64]:
    """Signs (+1/-1 per component) of the output orientation rule (spec §3).

    Component i is flipped so that the sum of its loadings is > 0; if that sum
    is 0, so that its largest-magnitude loading (first in column order on ties)
    is positive.  An all-zero component keeps sign +1.
    """
    comps = np.atleast_2d(np.asarray(components, dtype=np.float64))
    signs = np.ones(comps.shape[0], dtype=np.float64)
    for i, comp in enumerate(comps):
        total = float(comp.sum())
        if total < 0:
            signs[i] = -1.0
        elif total == 0 and comp.size:
            largest = comp[int(np.argmax(np.abs(comp)))]
            if largest < 0:
                signs[i] = -1.0
    return signs


@dataclass(frozen=True, slots=True)
class InputSummary:
    """What was read: ``input`` of the JSON (spec §7.2)."""

    path: str
    source: str
    vote_rows: int
    votes: int
    participants: int
    statements: int
    moderated_out: tuple[str, ...] = ()
    statements_without_votes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "source": self.source,
            "vote_rows": self.vote_rows,
            "votes": self.votes,
            "participants": self.participants,
            "statements": self.statements,
            "moderated_out": list(self.moderated_out),
            "statements_without_votes": list(self.statements_without_votes),
        }


@dataclass(frozen=True, slots=True)
class ParticipantPoint:
    """A participant on the map; ``group`` is None when not clustered."""

    id: str
    x: float
    y: float
    group: int | None
    in_conv: bool
    n_votes: int
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "x": self.x,
            "y": self.y,
            "group": self.group,
            "in_conv": self.in_conv,
            "n_votes": self.n_votes,
            "flags": list(self.flags),
        }


@dataclass(frozen=True, slots=True)
class RepresentativeStatement:
    """A statement that sets a group apart (spec §4.3 finalise, §5.7)."""

    statement: str
    direction: str  # "agree" | "disagree"
    n_success: int
    n_trials: int
    p_success: float
    p_test: float
    repness: float
    repness_test: float
    best_agree: bool = False
    q_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "statement": self.statement,
            "direction": self.direction,
            "n_success": self.n_success,
            "n_trials": self.n_trials,
            "p_success": self.p_success,
            "p_test": self.p_test,
            "repness": self.repness,
            "repness_test": self.repness_test,
            "best_agree": self.best_agree,
            "q_value": self.q_value,
        }


@dataclass(frozen=True, slots=True)
class Group:
    """An opinion group: ``members`` is its size, ``centre`` its (x, y)."""

    id: int
    members: int
    centre: tuple[float, float]
    stability: float | None
    representative: tuple[RepresentativeStatement, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "members": self.members,
            "centre": list(self.centre),
            "stability": self.stability,
            "representative": [r.to_dict() for r in self.representative],
        }


@dataclass(frozen=True, slots=True)
class MajorityStatement:
    """A majority-consensus statement (spec §4.3)."""

    statement: str
    n_success: int
    n_trials: int
    p_success: float
    p_test: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "statement": self.statement,
            "n_success": self.n_success,
            "n_trials": self.n_trials,
            "p_success": self.p_success,
            "p_test": self.p_test,
        }


@dataclass(frozen=True, slots=True)
class GroupAwareScore:
    """Group-aware consensus of one statement (polis: only ``agree``)."""

    agree: float | None
    disagree: float | None = None
    net_min: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"agree": self.agree, "disagree": self.disagree, "net_min": self.net_min}


@dataclass(frozen=True, slots=True)
class Consensus:
    """What a majority, and what every group, agrees on.

    ``group_aware`` is keyed by statement id in canonical order.
    """

    majority_agree: tuple[MajorityStatement, ...]
    majority_disagree: tuple[MajorityStatement, ...]
    group_aware: Mapping[str, GroupAwareScore]
    common_ground: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "majority": {
                "agree": [m.to_dict() for m in self.majority_agree],
                "disagree": [m.to_dict() for m in self.majority_disagree],
            },
            "group_aware": {sid: s.to_dict() for sid, s in self.group_aware.items()},
            "common_ground": list(self.common_ground),
        }


@dataclass(frozen=True, slots=True)
class StatementPoint:
    """A statement on the map; coordinates None when removed (improved mode)."""

    id: str
    x: float | None
    y: float | None
    extremity: float | None
    priority: float | None
    n_votes: int
    moderated_out: bool
    is_meta: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "x": self.x,
            "y": self.y,
            "extremity": self.extremity,
            "priority": self.priority,
            "n_votes": self.n_votes,
            "moderated_out": self.moderated_out,
            "is_meta": self.is_meta,
        }


@dataclass(frozen=True, slots=True)
class TraceTick:
    """One replay tick: end time, votes so far, silhouettes by k, chosen k."""

    t_end_ms: int | None
    n_votes: int
    silhouettes: Mapping[int, float]
    best_k: int | None
    smoothed_k: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "t_end_ms": self.t_end_ms,
            "n_votes": self.n_votes,
            "silhouettes": {str(k): v for k, v in self.silhouettes.items()},
            "best_k": self.best_k,
            "smoothed_k": self.smoothed_k,
        }


@dataclass(frozen=True, slots=True)
class Diagnostics:
    """``diagnostics`` of the JSON (spec §7.2); no timings, so output is stable.

    ``silhouette`` maps k to the mean silhouette; ``smoother`` is
    ``{"last_k", "count", "smoothed_k"}`` (polis) or None; ``base_clusters`` is
    a list of ``{"id", "members", "x", "y", "count"}`` (polis) or None;
    ``stability`` is mode-specific JSON (improved) or None; ``uniform_voters``
    counts participants flagged ``uniform``.
    """

    n_in_conv: int = 0
    explained_variance: tuple[float | None, float | None] = (None, None)
    silhouette: Mapping[int, float] = field(default_factory=dict)
    chosen_k_reason: str = ""
    smoother: Mapping[str, int | None] | None = None
    ticks: int | None = None
    replay_window_ms: int | None = None
    reboot_before_final: bool | None = None
    base_clusters: tuple[Mapping[str, Any], ...] | None = None
    group_cluster_ids: tuple[int, ...] | None = None
    stability: Any = None
    uniform_voters: int = 0
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_in_conv": self.n_in_conv,
            "explained_variance": list(self.explained_variance),
            "silhouette": {str(k): v for k, v in self.silhouette.items()},
            "chosen_k_reason": self.chosen_k_reason,
            "smoother": None if self.smoother is None else dict(self.smoother),
            "ticks": self.ticks,
            "replay_window_ms": self.replay_window_ms,
            "reboot_before_final": self.reboot_before_final,
            "base_clusters": None
            if self.base_clusters is None
            else [dict(b) for b in self.base_clusters],
            "group_cluster_ids": None
            if self.group_cluster_ids is None
            else list(self.group_cluster_ids),
            "stability": self.stability,
            "uniform_voters": self.uniform_voters,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class OpinionResult:
    """The opinion map of a conversation (spec §6).

    ``participants`` and ``statements`` are in canonical id order (spec §3);
    ``groups`` are sorted by id; ``params`` holds every parameter of the
    :class:`OpinionMap` that produced it.
    """

    mode: str
    replay: bool
    seed: int
    params: Mapping[str, Any]
    input: InputSummary
    k: int
    participants: tuple[ParticipantPoint, ...]
    groups: tuple[Group, ...]
    consensus: Consensus
    statements: tuple[StatementPoint, ...]
    diagnostics: Diagnostics
    trace: tuple[TraceTick, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of spec §7.2 (JSON-ready values, keys in order)."""
        data: dict[str, Any] = {
            "format": FORMAT,
            "mode": self.mode,
            "replay": self.replay,
            "seed": self.seed,
            "input": self.input.to_dict(),
            "k": self.k,
            "participants": {p.id: p.to_dict() for p in self.participants},
            "groups": [g.to_dict() for g in self.groups],
            "consensus": self.consensus.to_dict(),
            "statements": {s.id: s.to_dict() for s in self.statements},
            "diagnostics": self.diagnostics.to_dict(),
        }
        result: dict[str, Any] = json_value(data)
        return result

    def to_json(self) -> str:
        """UTF-8-ready JSON text with one trailing newline (spec §7.1)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False) + "\n"
