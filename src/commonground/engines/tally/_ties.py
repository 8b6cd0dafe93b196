"""Lot order and tie-breaking shared by the counting methods (spec §2).

The *lot order* is one order of all candidates fixed at the start of a count:
the BLT ``[tie]`` line, else the input order shuffled once with
``java.util.Random(seed)``, else the input order (with a warning).  A lot picks
the tied candidate earliest in that order for the action being decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._election import Election
from ._javarandom import java_shuffle
from ._result import TieBreak

NO_SEED_WARNING = (
    "no --seed given: ties that need a lot are decided by input order "
    "(earliest candidate first)"
)


@dataclass
class Lot:
    """The lot order of a count, how it was fixed, and the tie-breaks so far."""

    order: tuple[int, ...]
    resolved_by: str
    names: tuple[str, ...]
    tie_breaks: list[TieBreak] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _rank: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rank = {c: i for i, c in enumerate(self.order)}

    @classmethod
    def for_election(cls, election: Election, seed: int | None) -> Lot:
        n = len(election.candidates)
        if election.tie_order is not None:
            listed = list(election.tie_order)
            order = listed + [c for c in range(n) if c not in set(listed)]
            return cls(tuple(order), "tie_line", election.candidates)
        if seed is not None:
            return cls(
                tuple(java_shuffle(list(range(n)), seed)),
                "seeded_lot",
                election.candidates,
            )
        return cls(tuple(range(n)), "input_order", election.candidates)

    def position(self, candidate: int) -> int:
        """Place of ``candidate`` in the lot order (0 = drawn first)."""
        return self._rank[candidate]

    def sort(self, candidates: Sequence[int]) -> list[int]:
        """``candidates`` in lot order."""
        return sorted(candidates, key=self._rank.__getitem__)

    def draw(self, candidates: Sequence[int]) -> int:
        """The candidate a lot picks: the earliest in the lot order."""
        return min(candidates, key=self._rank.__getitem__)

    def note_lot_used(self) -> None:
        if self.resolved_by == "input_order" and NO_SEED_WARNING not in self.warnings:
            self.warnings.append(NO_SEED_WARNING)

    def record(
        self,
        round_number: int,
        purpose: str,
        tied: Sequence[int],
        resolved_by: str,
        chosen: int | Sequence[int],
        detail: dict[str, Any] | None = None,
    ) -> None:
        if resolved_by in ("tie_line", "seeded_lot", "input_order"):
            self.note_lot_used()
            detail = dict(detail or {})
            detail.setdefault(
                "lot_order", [self.names[c] for c in self.sort(list(tied))]
            )
        chosen_names: str | tuple[str, ...]
        if isinstance(chosen, int):
            chosen_names = self.names[chosen]
        else:
            chosen_names = tuple(self.names[c] for c in chosen)
        self.tie_breaks.append(
            TieBreak(
                round=round_number,
                purpose=purpose,
                tied=tuple(self.names[c] for c in self.sort(list(tied))),
                resolved_by=resolved_by,
                chosen=chosen_names,
                detail=detail or {},
            )
        )

    def break_tie(
        self,
        tied: Sequence[int],
        history: Sequence[Sequence[int]],
        *,
        fewest: bool,
        round_number: int,
        purpose: str,
        look_back: bool = True,
    ) -> int:
        """Pick one of ``tied``: look back through earlier tallies, then the lot.

        ``history`` holds the tallies of the stages before the current one, the
        most recent last; each is indexed by candidate.  With ``fewest`` the
        member with the fewest votes at the latest stage that separates them is
        chosen (exclusion), else the one with the most.  The set narrows stage
        by stage (spec §2 "Look-back").
        """
        tied = list(tied)
        if len(tied) == 1:
            return tied[0]
        remaining = tied
        if look_back:
            for back in range(len(history) - 1, -1, -1):
                tally = history[back]
                values = [tally[c] for c in remaining]
                target = min(values) if fewest else max(values)
                narrowed = [c for c in remaining if tally[c] == target]
                if len(narrowed) < len(remaining):
                    remaining = narrowed
                    if len(remaining) == 1:
                        self.record(
                            round_number,
                            purpose,
                            tied,
                            "look_back",
                            remaining[0],
                            {"round_compared": back + 1},
                        )
                        return remaining[0]
        chosen = self.draw(remaining)
        detail: dict[str, Any] = {}
        if len(remaining) < len(tied):
            detail["after_look_back"] = [self.names[c] for c in self.sort(remaining)]
        self.record(round_number, purpose, tied, self.resolved_by, chosen, detail)
        return chosen

    def order_group(
        self,
        group: Sequence[int],
        history: Sequence[Sequence[int]],
        *,
        round_number: int,
        purpose: str,
        look_back: bool = True,
    ) -> list[int]:
        """Order equal candidates "most votes first" by repeated tie-breaks."""
        remaining = list(group)
        ordered: list[int] = []
        while len(remaining) > 1:
            first = self.break_tie(
                remaining,
                history,
                fewest=False,
                round_number=round_number,
                purpose=purpose,
                look_back=look_back,
            )
            ordered.append(first)
            remaining.remove(first)
        return ordered + remaining
