"""From an opinion map to the results page, in two halves.

``build_page`` runs in the background task right after the engine: it takes the
engine's ``OpinionResult`` and the final votes, counts agree / disagree / pass per
group and statement (one ``bincount``) and keeps what the page needs as plain JSON:
the groups with their sizes and representative statements (shares in and out of the
group), the consensus statements ("what we all agree on") and the statements that
divide the groups, a sample of points for the scatter plot, and every participant's
position as compact arrays (``positions``).

``page_data`` runs when the page is viewed: it adds the statement texts and the
plain-English sentences (in the viewer's language) to that JSON. Nothing here
touches the database.
"""

from __future__ import annotations

import io
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.utils.translation import gettext as _
from numpy.typing import NDArray

from commonground.engines.opinion import OpinionResult

# At most this many points go to the scatter plot (a deterministic sample); the
# viewer's own point is always drawn.
CHART_POINTS = 2_000
# A statement divides the groups when every group has this many answers and the
# shares agreeing differ by at least DIVISIVE_SPREAD between two groups.
DIVISIVE_MIN_ANSWERS = 3
DIVISIVE_SPREAD = 0.3
DIVISIVE_LIMIT = 5
MAJORITY_LIMIT = 5
POSITION_DTYPE = np.dtype(
    [("number", "<i8"), ("x", "<f4"), ("y", "<f4"), ("group", "i1")]
)


def group_label(group_id: int) -> str:
    """Pol.is names groups by letter: A, B, C ..."""
    letters = string.ascii_uppercase
    return letters[group_id] if group_id < len(letters) else str(group_id + 1)


# Building (background task) -------------------------------------------------------


@dataclass(frozen=True)
class FinalVotes:
    """Every participant's current answers: codes into ``participant_numbers`` and
    ``statement_numbers``, values +1 / -1 / 0."""

    participant: NDArray[np.int64]
    statement: NDArray[np.int64]
    value: NDArray[np.int8]
    participant_numbers: NDArray[np.int64]
    statement_numbers: NDArray[np.int64]


_CATEGORY = np.array([1, 2, 0], dtype=np.int32)


def _counts(votes: FinalVotes, labels: NDArray[np.int64], k: int) -> NDArray[np.int64]:
    """counts[g, s, c]: answers of group g (k = no group) to statement code s, with
    c = 0 agree, 1 disagree, 2 pass. One bincount; 32-bit arithmetic (millions of
    answers: the passes over memory are the cost)."""
    n_statements = len(votes.statement_numbers)
    group = np.where(labels < 0, k, labels).astype(np.int32)
    # By value + 1: disagree (-1) -> 1, pass (0) -> 2, agree (1) -> 0.
    category = _CATEGORY[votes.value.astype(np.int32) + 1]
    index = group[votes.participant] * np.int32(n_statements * 3)
    index += votes.statement.astype(np.int32) * np.int32(3)
    index += category
    flat = np.bincount(index, minlength=(k + 1) * n_statements * 3)
    return flat.reshape(k + 1, n_statements, 3).astype(np.int64)


@dataclass(frozen=True)
class Points:
    """Every participant on the map: number, coordinates and group (-1: none)."""

    numbers: NDArray[np.int64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    group: NDArray[np.int64]

    @classmethod
    def of(cls, result: OpinionResult) -> Points:
        points = result.participants
        n = len(points)
        return cls(
            numbers=np.fromiter((int(p.id) for p in points), dtype=np.int64, count=n),
            x=np.fromiter((p.x for p in points), dtype=np.float64, count=n),
            y=np.fromiter((p.y for p in points), dtype=np.float64, count=n),
            group=np.fromiter(
                (-1 if p.group is None else p.group for p in points),
                dtype=np.int64,
                count=n,
            ),
        )


def _labels_by_code(
    points: Points, participant_numbers: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """Each participant code's group (-1: none), and the positions array sorted by
    participant number."""
    positions = np.zeros(len(points.numbers), dtype=POSITION_DTYPE)
    positions["number"] = points.numbers
    positions["x"] = points.x
    positions["y"] = points.y
    positions["group"] = points.group
    positions = positions[np.argsort(points.numbers, kind="stable")]
    labels = np.full(len(participant_numbers), -1, dtype=np.int64)
    if len(positions):
        found = np.searchsorted(positions["number"], participant_numbers)
        found = np.clip(found, 0, len(positions) - 1)
        hit = positions["number"][found] == participant_numbers
        labels[hit] = positions["group"][found[hit]]
    return labels, positions


def _shares(counts: NDArray[np.int64]) -> list[int]:
    return [int(c) for c in counts]


def build_page(
    result: OpinionResult, votes: FinalVotes, points: Points | None = None
) -> tuple[dict[str, Any], bytes]:
    """The page's JSON and the packed positions of every participant on the map
    (``points``: the result's participants as arrays, when the caller has them)."""
    k = result.k
    points = points if points is not None else Points.of(result)
    labels, positions = _labels_by_code(points, votes.participant_numbers)
    counts = _counts(votes, labels, k)
    totals = counts.sum(axis=0)
    code_of = {int(n): i for i, n in enumerate(votes.statement_numbers.tolist())}

    def code(statement_id: str) -> int | None:
        return code_of.get(int(statement_id))

    groups = []
    for group in result.groups:
        representative = []
        for rep in group.representative:
            s = code(rep.statement)
            if s is None:
                continue
            inside = counts[group.id, s]
            representative.append(
                {
                    "statement": int(rep.statement),
                    "direction": rep.direction,
                    "in": _shares(inside),
                    "out": _shares(totals[s] - inside),
                }
            )
        groups.append(
            {
                "id": group.id,
                "members": group.members,
                "centre": [round(float(c), 4) for c in group.centre],
                "representative": representative,
            }
        )

    def per_group(s: int) -> list[list[int]]:
        return [_shares(counts[g, s]) for g in range(k)]

    consensus: list[dict[str, Any]] = []
    for statement_id in result.consensus.common_ground:
        s = code(statement_id)
        if s is None:
            continue
        consensus.append(
            {
                "statement": int(statement_id),
                "overall": _shares(totals[s]),
                "groups": per_group(s),
            }
        )
    common: set[int] = {int(item["statement"]) for item in consensus}
    majority = []
    for item in result.consensus.majority_agree[:MAJORITY_LIMIT]:
        s = code(item.statement)
        if s is None or int(item.statement) in common:
            continue
        majority.append(
            {"statement": int(item.statement), "overall": _shares(totals[s])}
        )
    divisive = _divisive(result, counts, votes, common) if k >= 2 else []
    page = {
        "k": k,
        "participants": len(result.participants),
        "votes": int(len(votes.value)),
        "warnings": list(result.diagnostics.warnings),
        "groups": groups,
        "consensus": consensus,
        "majority": majority,
        "divisive": divisive,
        "points": _sample_points(positions),
    }
    buffer = io.BytesIO()
    np.save(buffer, positions, allow_pickle=False)
    return page, buffer.getvalue()


def _divisive(
    result: OpinionResult,
    counts: NDArray[np.int64],
    votes: FinalVotes,
    common: set[int],
) -> list[dict[str, Any]]:
    k = result.k
    moderated_out = {
        int(point.id) for point in result.statements if point.moderated_out
    }
    answered = counts[:k].sum(axis=2)  # k × statements
    enough = (answered >= DIVISIVE_MIN_ANSWERS).all(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        agree_share = np.where(answered > 0, counts[:k, :, 0] / answered, 0.0)
    spread = agree_share.max(axis=0) - agree_share.min(axis=0)
    order = np.argsort(-spread, kind="stable")
    chosen = []
    for s in order.tolist():
        if not enough[s] or spread[s] < DIVISIVE_SPREAD:
            continue
        number = int(votes.statement_numbers[s])
        if number in common or number in moderated_out:
            continue
        chosen.append(
            {
                "statement": number,
                "overall": _shares(counts[:, s].sum(axis=0)),
                "groups": [_shares(counts[g, s]) for g in range(k)],
            }
        )
        if len(chosen) == DIVISIVE_LIMIT:
            break
    return chosen


def _sample_points(positions: NDArray[Any]) -> list[list[float]]:
    """At most CHART_POINTS points [x, y, group], evenly spread over participants."""
    n = len(positions)
    if n > CHART_POINTS:
        picks = np.linspace(0, n - 1, CHART_POINTS).round().astype(np.int64)
        sample = positions[np.unique(picks)]
    else:
        sample = positions
    return [
        [round(float(row["x"]), 4), round(float(row["y"]), 4), int(row["group"])]
        for row in sample
    ]


def position_of(blob: bytes, participant_number: int) -> dict[str, Any] | None:
    """One participant's point on the stored map, or None when they are not on it."""
    if not blob:
        return None
    positions = np.load(io.BytesIO(blob), allow_pickle=False)
    if not len(positions):
        return None
    index = int(np.searchsorted(positions["number"], participant_number))
    if index >= len(positions) or int(positions["number"][index]) != participant_number:
        return None
    group = int(positions["group"][index])
    return {
        "x": round(float(positions["x"][index]), 4),
        "y": round(float(positions["y"][index]), 4),
        "group": group,
        "label": group_label(group) if group >= 0 else None,
    }


# Reading (page view) ------------------------------------------------------------------


@dataclass(frozen=True)
class Shares:
    """Answers to one statement: counts and whole-number percentages."""

    agree: int
    disagree: int
    passed: int

    @property
    def total(self) -> int:
        return self.agree + self.disagree + self.passed

    def _percent(self, part: int) -> int:
        return round(100 * part / self.total) if self.total else 0

    @property
    def agree_percent(self) -> int:
        return self._percent(self.agree)

    @property
    def disagree_percent(self) -> int:
        return self._percent(self.disagree)

    @property
    def pass_start(self) -> int:
        return self.agree_percent + self.disagree_percent

    @property
    def pass_percent(self) -> int:
        return (
            max(100 - self.agree_percent - self.disagree_percent, 0)
            if self.total
            else 0
        )


def _shares_of(values: Sequence[int]) -> Shares:
    return Shares(agree=int(values[0]), disagree=int(values[1]), passed=int(values[2]))


@dataclass
class StatementView:
    number: int
    text: str
    sentence: str
    overall: Shares | None = None
    inside: Shares | None = None
    outside: Shares | None = None
    direction: str = ""
    groups: list[tuple[str, Shares]] = field(default_factory=list)
    proposal_id: int | None = None
    id: int | None = None


@dataclass
class GroupView:
    id: int
    label: str
    members: int
    representative: list[StatementView]


@dataclass
class PageData:
    k: int
    participants: int
    votes: int
    groups: list[GroupView]
    consensus: list[StatementView]
    majority: list[StatementView]
    divisive: list[StatementView]
    chart: dict[str, Any]
    warnings: list[str]


def _representative_sentence(
    label: str, direction: str, inside: Shares, outside: Shares
) -> str:
    if direction == "agree":
        return _(
            "%(share)d%% of group %(group)s agree, compared with %(rest)d%% of "
            "everyone else."
        ) % {
            "share": inside.agree_percent,
            "group": label,
            "rest": outside.agree_percent,
        }
    return _(
        "%(share)d%% of group %(group)s disagree, compared with %(rest)d%% of "
        "everyone else."
    ) % {
        "share": inside.disagree_percent,
        "group": label,
        "rest": outside.disagree_percent,
    }


def _consensus_sentence(overall: Shares, groups: list[tuple[str, Shares]]) -> str:
    if not groups:
        return _("%(share)d%% of participants agree.") % {
            "share": overall.agree_percent
        }
    lowest = min(shares.agree_percent for _label, shares in groups)
    return _(
        "%(share)d%% of participants agree, and at least %(lowest)d%% in every group."
    ) % {"share": overall.agree_percent, "lowest": lowest}


def _divisive_sentence(groups: list[tuple[str, Shares]]) -> str:
    most = max(groups, key=lambda item: item[1].agree_percent)
    least = min(groups, key=lambda item: item[1].agree_percent)
    return _(
        "This divides the groups: %(high)d%% of group %(high_group)s agree, but only "
        "%(low)d%% of group %(low_group)s (%(low_disagree)d%% of them disagree)."
    ) % {
        "high": most[1].agree_percent,
        "high_group": most[0],
        "low": least[1].agree_percent,
        "low_group": least[0],
        "low_disagree": least[1].disagree_percent,
    }


def page_data(
    data: Mapping[str, Any],
    texts: Mapping[int, str],
    proposals: Mapping[int, int] | None = None,
    ids: Mapping[int, int] | None = None,
) -> PageData:
    """The stored page JSON with texts and sentences (``texts``, ``ids``: by statement
    number); statements no longer visible (rejected since the map was computed) are
    left out."""
    proposals = proposals or {}
    ids = ids or {}
    labels = [group_label(g["id"]) for g in data["groups"]]
    groups = []
    for group, label in zip(data["groups"], labels, strict=True):
        representative = []
        for rep in group["representative"]:
            number = rep["statement"]
            if number not in texts:
                continue
            inside, outside = _shares_of(rep["in"]), _shares_of(rep["out"])
            representative.append(
                StatementView(
                    number=number,
                    text=texts[number],
                    sentence=_representative_sentence(
                        label, rep["direction"], inside, outside
                    ),
                    inside=inside,
                    outside=outside,
                    direction=rep["direction"],
                )
            )
        groups.append(
            GroupView(
                id=group["id"],
                label=label,
                members=group["members"],
                representative=representative,
            )
        )

    def with_groups(item: Mapping[str, Any]) -> list[tuple[str, Shares]]:
        return [
            (labels[g], _shares_of(values))
            for g, values in enumerate(item.get("groups", []))
            if g < len(labels)
        ]

    consensus = []
    for item in data["consensus"]:
        number = item["statement"]
        if number not in texts:
            continue
        overall, per_group = _shares_of(item["overall"]), with_groups(item)
        consensus.append(
            StatementView(
                number=number,
                text=texts[number],
                sentence=_consensus_sentence(overall, per_group),
                overall=overall,
                groups=per_group,
                proposal_id=proposals.get(number),
                id=ids.get(number),
            )
        )
    majority = []
    for item in data.get("majority", []):
        number = item["statement"]
        if number not in texts:
            continue
        overall = _shares_of(item["overall"])
        majority.append(
            StatementView(
                number=number,
                text=texts[number],
                sentence=_consensus_sentence(overall, []),
                overall=overall,
                proposal_id=proposals.get(number),
                id=ids.get(number),
            )
        )
    divisive = []
    for item in data["divisive"]:
        number = item["statement"]
        if number not in texts:
            continue
        per_group = with_groups(item)
        divisive.append(
            StatementView(
                number=number,
                text=texts[number],
                sentence=_divisive_sentence(per_group),
                overall=_shares_of(item["overall"]),
                groups=per_group,
            )
        )
    chart = {
        "points": data["points"],
        "groups": [
            {
                "label": label,
                "name": _("Group %(label)s") % {"label": label},
                "centre": group["centre"],
                "members": group["members"],
            }
            for group, label in zip(data["groups"], labels, strict=True)
        ],
    }
    return PageData(
        k=data["k"],
        participants=data["participants"],
        votes=data["votes"],
        groups=groups,
        consensus=consensus,
        majority=majority,
        divisive=divisive,
        chart=chart,
        warnings=list(data.get("warnings", [])),
    )
