"""The frozen result of a count and its JSON form (spec §7.2).

Every vote amount is held as an integer scaled by ``10**decimals`` and printed
as an exact decimal string with exactly ``decimals`` places.

>>> format_decimal(179900000, 5)
'1799.00000'
>>> format_decimal(-35300000, 5)
'-353.00000'
>>> parse_decimal("27.72107", 5)
2772107
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

RESULT_FORMAT = "commonground-tally/1"


def format_decimal(value: int, decimals: int) -> str:
    """Exact text of ``value / 10**decimals`` with exactly ``decimals`` places."""
    if decimals == 0:
        return str(value)
    sign = "-" if value < 0 else ""
    whole, fraction = divmod(abs(value), 10**decimals)
    return f"{sign}{whole}.{fraction:0{decimals}d}"


def parse_decimal(text: str, decimals: int) -> int:
    """Inverse of :func:`format_decimal`; fewer places are padded with zeros."""
    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    whole, _, fraction = text.partition(".")
    if len(fraction) > decimals:
        raise ValueError(f"{text!r} has more than {decimals} decimal places")
    fraction = fraction.ljust(decimals, "0")
    return sign * int((whole or "0") + fraction)


@dataclass(frozen=True)
class TieBreak:
    """A tie met during the count and how it was decided.

    ``purpose``: exclusion, surplus_order, election_order, election, finalist,
    runoff, pair_order.  ``resolved_by``: look_back, head_to_head,
    five_star_count, total_score, tie_line, seeded_lot, input_order.
    ``chosen`` is one name, or several in order (pair_order, election_order).
    """

    round: int
    purpose: str
    tied: tuple[str, ...]
    resolved_by: str
    chosen: str | tuple[str, ...]
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "purpose": self.purpose,
            "tied": list(self.tied),
            "resolved_by": self.resolved_by,
            "detail": dict(self.detail),
            "chosen": self.chosen
            if isinstance(self.chosen, str)
            else list(self.chosen),
        }


@dataclass(frozen=True)
class Round:
    """One round (stage) of a count, with vote amounts scaled by 10**decimals.

    ``tallies`` has every non-withdrawn candidate after the round;
    ``transfers`` the change since the previous round (zeros omitted);
    ``exhausted`` and ``rounding_loss_total`` are cumulative, ``rounding_loss``
    belongs to this round.  ``extra`` holds method-specific JSON-ready entries
    (``pairwise``, ``locked``, ``skipped``, ``path_strengths``, ``quota``,
    ``keep_factors``, ``iterations``, ``no_preference``) already formatted.
    """

    round: int
    action: str
    subject: tuple[str, ...]
    tallies: Mapping[str, int]
    transfers: Mapping[str, int]
    exhausted: int
    elected: tuple[str, ...]
    excluded: tuple[str, ...]
    status: Mapping[str, str]
    amount: int | None = None
    transfer_values: tuple[int, ...] | None = None
    rounding_loss: int = 0
    rounding_loss_total: int = 0
    threshold: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self, decimals: int) -> dict[str, Any]:
        def fmt(value: int) -> str:
            return format_decimal(value, decimals)

        data: dict[str, Any] = {
            "round": self.round,
            "action": self.action,
            "subject": list(self.subject),
        }
        if self.amount is not None:
            data["amount"] = fmt(self.amount)
        if self.transfer_values is not None:
            data["transfer_values"] = [fmt(v) for v in self.transfer_values]
        data["tallies"] = {name: fmt(v) for name, v in self.tallies.items()}
        data["transfers"] = {
            name: fmt(v) for name, v in self.transfers.items() if v != 0
        }
        data["exhausted"] = fmt(self.exhausted)
        data["rounding_loss"] = fmt(self.rounding_loss)
        data["rounding_loss_total"] = fmt(self.rounding_loss_total)
        data["threshold"] = None if self.threshold is None else fmt(self.threshold)
        data["elected"] = list(self.elected)
        data["excluded"] = list(self.excluded)
        data["status"] = dict(self.status)
        data.update(self.extra)
        return data


@dataclass(frozen=True)
class Decision:
    """A candidate elected or excluded, the round it happened and their votes."""

    candidate: str
    round: int
    votes: int

    def to_dict(self, decimals: int) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "round": self.round,
            "votes": format_decimal(self.votes, decimals),
        }


@dataclass(frozen=True)
class InputSummary:
    """The ``input`` section of a result: what was counted."""

    file: str | None
    format: str | None
    title: str
    candidates: tuple[str, ...]
    withdrawn: tuple[str, ...]
    ballots: int
    distinct_ballots: int
    invalid_count: int = 0
    invalid_reasons: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "title": self.title,
            "candidates": list(self.candidates),
            "withdrawn": list(self.withdrawn),
            "ballots": str(self.ballots),
            "distinct_ballots": self.distinct_ballots,
            "invalid": {
                "count": str(self.invalid_count),
                "reasons": {k: str(v) for k, v in self.invalid_reasons.items()},
            },
        }


@dataclass(frozen=True)
class Result:
    """The outcome of a count with its full trace (spec §7.2).

    ``winners`` are in order of election.  Vote amounts are integers scaled by
    ``10**decimals``; :meth:`to_dict` gives the exact JSON form.
    """

    method: str
    rules: str | None
    seats: int
    seed: int | None
    decimals: int
    quota: int | None
    input: InputSummary
    rounds: tuple[Round, ...]
    winners: tuple[str, ...]
    elected: tuple[Decision, ...]
    excluded: tuple[Decision, ...]
    tie_breaks: tuple[TieBreak, ...]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = self.decimals
        return {
            "format": RESULT_FORMAT,
            "method": self.method,
            "rules": self.rules,
            "seats": self.seats,
            "seed": self.seed,
            "decimals": d,
            "quota": None if self.quota is None else format_decimal(self.quota, d),
            "input": self.input.to_dict(),
            "rounds": [r.to_dict(d) for r in self.rounds],
            "winners": list(self.winners),
            "elected": [e.to_dict(d) for e in self.elected],
            "excluded": [e.to_dict(d) for e in self.excluded],
            "tie_breaks": [t.to_dict() for t in self.tie_breaks],
            "warnings": list(self.warnings),
        }
