"""Building a result's trace: rounds with transfers and status (spec §7.2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._election import Election
from ._result import Decision, InputSummary, Result, Round
from ._ties import Lot

CONTINUING = "continuing"
ELECTED = "elected"
EXCLUDED = "excluded"


@dataclass
class Trace:
    """Collects rounds, decisions and tie-breaks while a count runs.

    Vote amounts are integers scaled by ``10**decimals``; candidates are
    indices into ``election.candidates`` until the result is built.
    """

    election: Election
    lot: Lot
    rounds: list[Round] = field(default_factory=list)
    history: list[list[int]] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    elected: list[Decision] = field(default_factory=list)
    excluded: list[Decision] = field(default_factory=list)
    winners: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.status = [CONTINUING] * len(self.election.candidates)
        self.active = [
            c
            for c in range(len(self.election.candidates))
            if c not in self.election.withdrawn
        ]

    @property
    def names(self) -> tuple[str, ...]:
        return self.election.candidates

    def continuing(self) -> list[int]:
        return [c for c in self.active if self.status[c] == CONTINUING]

    def elect(self, candidate: int, round_number: int, votes: int) -> None:
        self.status[candidate] = ELECTED
        self.winners.append(candidate)
        self.elected.append(Decision(self.names[candidate], round_number, votes))

    def exclude(self, candidate: int, round_number: int, votes: int) -> None:
        self.status[candidate] = EXCLUDED
        self.excluded.append(Decision(self.names[candidate], round_number, votes))

    def add_round(
        self,
        action: str,
        subject: Sequence[int],
        tallies: Sequence[int],
        exhausted: int,
        *,
        elected: Sequence[int] = (),
        excluded: Sequence[int] = (),
        amount: int | None = None,
        transfer_values: Sequence[int] | None = None,
        rounding_loss: int = 0,
        rounding_loss_total: int = 0,
        threshold: int | None = None,
        extra: dict[str, Any] | None = None,
        transfers: dict[int, int] | None = None,
    ) -> None:
        """Record a round; ``transfers`` default to the change in tallies."""
        names = self.names
        previous = self.history[-1] if self.history else None
        if transfers is None:
            transfers = {}
            if previous is not None:
                for c in self.active:
                    change = tallies[c] - previous[c]
                    if change:
                        transfers[c] = change
        self.rounds.append(
            Round(
                round=len(self.rounds) + 1,
                action=action,
                subject=tuple(names[c] for c in subject),
                tallies={names[c]: tallies[c] for c in self.active},
                transfers={names[c]: v for c, v in transfers.items() if v},
                exhausted=exhausted,
                elected=tuple(names[c] for c in elected),
                excluded=tuple(names[c] for c in excluded),
                status={names[c]: self.status[c] for c in self.active},
                amount=amount,
                transfer_values=(
                    None if transfer_values is None else tuple(transfer_values)
                ),
                rounding_loss=rounding_loss,
                rounding_loss_total=rounding_loss_total,
                threshold=threshold,
                extra=extra or {},
            )
        )
        self.history.append(list(tallies))

    def amend_last_round(self, **changes: Any) -> None:
        """Replace fields of the last round (decisions taken at its end)."""
        last = self.rounds[-1]
        names = self.names
        values = dict(changes)
        if "elected" in values:
            values["elected"] = tuple(names[c] for c in values["elected"])
        if "excluded" in values:
            values["excluded"] = tuple(names[c] for c in values["excluded"])
        values["status"] = {names[c]: self.status[c] for c in self.active}
        self.rounds[-1] = Round(**{**last.__dict__, **values})

    def result(
        self,
        *,
        method: str,
        rules: str | None,
        seats: int,
        seed: int | None,
        decimals: int,
        quota: int | None,
        ballots: int,
        distinct: int,
        invalid: int,
        invalid_reason: str = "no usable preference",
        warnings: Sequence[str] = (),
    ) -> Result:
        election = self.election
        reader_invalid = election.invalid
        reasons = dict(reader_invalid.reasons)
        if invalid:
            reasons[invalid_reason] = reasons.get(invalid_reason, 0) + invalid
        summary = InputSummary(
            file=election.source_file,
            format=election.source_format,
            title=election.title,
            candidates=election.candidates,
            withdrawn=tuple(election.candidates[c] for c in sorted(election.withdrawn)),
            ballots=ballots,
            distinct_ballots=distinct,
            invalid_count=reader_invalid.count + invalid,
            invalid_reasons=reasons,
        )
        return Result(
            method=method,
            rules=rules,
            seats=seats,
            seed=seed,
            decimals=decimals,
            quota=quota,
            input=summary,
            rounds=tuple(self.rounds),
            winners=tuple(self.names[c] for c in self.winners),
            elected=tuple(self.elected),
            excluded=tuple(self.excluded),
            tie_breaks=tuple(self.lot.tie_breaks),
            warnings=(*self.lot.warnings, *warnings),
        )
