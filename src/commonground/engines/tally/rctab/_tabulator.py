"""The RCTab v2.0.1 round loop (spec §5), on exact decimals.

Values are ``Decimal`` numbers whose exponents follow Java's ``BigDecimal``
(sums keep the larger number of places, products add them, truncations fix
them), so that their text is RCTab's.  Identical cast-vote records are grouped:
they always move together, and every sum is exact, so grouping changes nothing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, localcontext
from fractions import Fraction

from .._errors import TallyAbortedError
from .._javarandom import JavaRandom, java_shuffle
from ._config import UWI, RctabConfig
from ._records import OVERVOTE

ZERO = Decimal(0)
ONE = Decimal(1)
CATEGORIES = ("overvotes", "skippedRankings", "exhaustedChoices", "repeatedRankings")
FINAL_ROUND_SURPLUS = "finalRoundSurplus"
EXHAUSTED = "exhausted"
RESIDUAL = "residual surplus"


def java_hash(text: str) -> int:
    """``String.hashCode()`` as an unsigned 32-bit value."""
    value = 0
    data = text.encode("utf-16-be")
    for index in range(0, len(data), 2):
        value = (31 * value + (data[index] << 8 | data[index + 1])) & 0xFFFFFFFF
    return value


def hash_bucket(text: str, capacity: int) -> int:
    """Bucket of ``text`` in a Java ``HashMap`` of ``capacity`` buckets."""
    value = java_hash(text)
    return (value ^ (value >> 16)) & (capacity - 1)


def java_order_key(text: str) -> bytes:
    """Sort key reproducing ``String.compareTo`` (UTF-16 code units)."""
    return text.encode("utf-16-be")


def _exact(value: Decimal) -> Fraction:
    return Fraction(value)


def truncate(value: Fraction, places: int) -> Decimal:
    """Largest multiple of 10^-places not above ``value``, with exactly ``places``."""
    scaled = math.floor(value * 10**places)
    return Decimal(scaled).scaleb(-places)


def ceiling(value: Fraction, places: int) -> Decimal:
    scaled = math.ceil(value * 10**places)
    return Decimal(scaled).scaleb(-places)


@dataclass
class Group:
    """Identical cast-vote records moving together."""

    ranks: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...]
    count: int
    value: Decimal = ONE
    recipient: str | None = None
    inactive: str | None = None


@dataclass
class RoundRecord:
    number: int
    tally: dict[str, Decimal]
    threshold: Decimal
    inactive: dict[str, Decimal]
    final_round_surplus: Decimal | None
    residual_total: Decimal
    elected: list[str] = field(default_factory=list)
    eliminated: list[str] = field(default_factory=list)
    tie_broken: set[str] = field(default_factory=set)
    transfers: dict[str, dict[str, Decimal]] = field(default_factory=dict)

    @property
    def active(self) -> Decimal:
        total = sum(self.tally.values(), ZERO)
        if self.final_round_surplus is not None:
            total += self.final_round_surplus
        return total


@dataclass
class PassResult:
    rounds: list[RoundRecord]
    winners: list[str]
    winner_rounds: dict[str, int]
    total_ballots: int
    undervotes: int
    number_of_winners: int
    earlier_winners: tuple[str, ...]


class TieBreaker:
    """RCTab's tie-break modes; one generator per tabulation (or pass)."""

    def __init__(self, config: RctabConfig, order: list[str]) -> None:
        self.mode = config.tiebreak_mode
        self.order = order
        seed = config.random_seed if config.random_seed is not None else 0
        self.random = JavaRandom(seed)
        if self.mode == "generatePermutation":
            declared = sorted((c.name for c in config.candidates), key=java_order_key)
            self.order = java_shuffle(declared, JavaRandom(seed)) + [
                name for name in order if name not in declared
            ]

    def _random_pick(self, candidates: list[str]) -> str:
        index = math.floor(self.random.next_double() * len(candidates))
        return candidates[index]

    def select(
        self,
        tied: list[str],
        *,
        electing: bool,
        rounds: list[RoundRecord],
        round_number: int,
    ) -> str:
        tied = sorted(tied, key=java_order_key)
        if self.mode == "random":
            return self._random_pick(tied)
        if self.mode == "stopCountingAndAsk":
            raise TallyAbortedError(
                f"round {round_number}: tie between {', '.join(tied)} needs an "
                "interactive decision (stopCountingAndAsk is not supported)"
            )
        if self.mode in ("useCandidateOrder", "generatePermutation"):
            position = {name: index for index, name in enumerate(self.order)}
            ranked = sorted(tied, key=lambda name: position[name])
            return ranked[0] if electing else ranked[-1]
        # previousRoundCounts...
        remaining = list(tied)
        for number in range(round_number - 1, 0, -1):
            tally = rounds[number - 1].tally
            values = {name: tally.get(name, ZERO) for name in remaining}
            target = max(values.values()) if electing else min(values.values())
            remaining = [name for name in remaining if values[name] == target]
            if len(remaining) == 1:
                return remaining[0]
        if self.mode == "previousRoundCountsThenAsk":
            raise TallyAbortedError(
                f"round {round_number}: tie between {', '.join(remaining)} needs an "
                "interactive decision (previousRoundCountsThenAsk is not supported)"
            )
        if round_number == 1:
            # No earlier round to compare: the draw indexes the sorted tie.
            return self._random_pick(remaining)
        # After a comparison the survivors come out of a Java HashSet built
        # from the previous survivors: bucket order, sorted within a bucket.
        capacity = 16
        while capacity < len(remaining) // 0.75 + 1:
            capacity *= 2
        hashed = sorted(
            remaining,
            key=lambda name: (hash_bucket(name, capacity), java_order_key(name)),
        )
        return self._random_pick(hashed)


class Tabulation:
    """One RCTab tabulation (or one pass of multi-pass IRV)."""

    def __init__(
        self,
        config: RctabConfig,
        groups: list[Group],
        total_ballots: int,
        *,
        number_of_winners: int,
        earlier_winners: tuple[str, ...] = (),
    ) -> None:
        self.config = config
        self.groups = groups
        self.total_ballots = total_ballots
        self.seats = number_of_winners
        self.earlier_winners = earlier_winners
        self.places = config.decimal_places
        names = [c.name for c in config.candidates]
        if config.has_undeclared_write_ins:
            names.append(UWI)
        self.all_names = names
        self.excluded = {c.name for c in config.candidates if c.excluded} | set(
            earlier_winners
        )
        self.surplus_mode = config.surplus_mode and number_of_winners > 1
        self.ties = TieBreaker(config, names)
        self.winners: dict[str, int] = {}
        self.eliminated: dict[str, int] = {}
        self.kept: dict[str, Decimal] = {}
        self.rounds: list[RoundRecord] = []
        self.threshold = ZERO
        self.residual_total = ZERO
        self.undervotes = sum(g.count for g in groups if not g.ranks)

    # ------------------------------------------------------------------ helpers
    def receives_votes(self, name: str) -> bool:
        if name == OVERVOTE or name in self.excluded or name in self.eliminated:
            return False
        return not (self.surplus_mode and name in self.winners)

    def walk(self, group: Group, seats_filled: bool) -> tuple[str, str]:
        """Where a record goes this round: ("candidate", name) or ("inactive", why)."""
        config = self.config
        last = 0
        seen: set[str] = set()
        final_rank = group.ranks[-1][0]
        for rank, marks, raw in group.ranks:
            if seats_filled:
                return "inactive", FINAL_ROUND_SURPLUS
            if (
                config.max_skipped_ranks is not None
                and rank - last > config.max_skipped_ranks + 1
            ):
                return "inactive", "skippedRankings"
            last = rank
            if config.exhaust_on_duplicate:
                # Marks are compared as written (aliases differ), one by one, so a
                # name repeated within one rank is a duplicate too.
                for text in raw:
                    if text in seen:
                        return "inactive", "repeatedRankings"
                    seen.add(text)
            is_last = rank == final_rank
            if OVERVOTE in marks or len(marks) >= 2:
                rule = config.overvote_rule
                if rule == "exhaustImmediately":
                    return "inactive", "overvotes"
                if rule == "alwaysSkipToNextRank":
                    if is_last:
                        return "inactive", "exhaustedChoices"
                    continue
                # Counted mark by mark, as RCTab does ("A|A" is two marks).
                continuing = [m for m in marks if self.receives_votes(m)]
                if len(continuing) >= 2:
                    return "inactive", "overvotes"
            for mark in marks:
                if self.receives_votes(mark):
                    return "candidate", mark
            if is_last:
                return "inactive", "exhaustedChoices"
        return "inactive", "exhaustedChoices"

    def _break(self, tied: list[str], *, electing: bool, record: RoundRecord) -> str:
        chosen = self.ties.select(
            tied, electing=electing, rounds=self.rounds, round_number=record.number
        )
        record.tie_broken.add(chosen)
        return chosen

    # ------------------------------------------------------------------ rounds
    def should_continue(self) -> bool:
        config = self.config
        if not self.rounds:
            return True
        last = self.rounds[-1]
        if (
            config.stop_after_round is not None
            and last.number >= config.stop_after_round
        ):
            return False
        continuing = [
            n
            for n in self.all_names
            if n not in self.excluded
            and n not in self.eliminated
            and (n not in self.winners or not self.surplus_mode)
        ]
        if config.percentage_mode:
            return not self.winners and bool(continuing)
        if config.continue_until_two:
            active = [n for n in self.all_names if n not in self.excluded]
            if len(self.eliminated) + len(self.winners) + 1 >= len(active) and not (
                last.eliminated
            ):
                return False
            return bool(continuing)
        if len(self.winners) >= self.seats:
            # Surplus modes count one more round: the last winners' surplus.
            return self.surplus_mode and last.final_round_surplus is None
        return bool([n for n in continuing if n not in self.winners])

    def run(self) -> PassResult:
        while self.should_continue():
            self.tabulate_round()
            if len(self.rounds) > 10_000:  # pragma: no cover - defensive
                raise TallyAbortedError("the count did not finish")
        winners = sorted(
            self.winners, key=lambda n: (self.winners[n], java_order_key(n))
        )
        return PassResult(
            rounds=self.rounds,
            winners=winners,
            winner_rounds=dict(self.winners),
            total_ballots=self.total_ballots,
            undervotes=self.undervotes,
            number_of_winners=self.seats,
            earlier_winners=self.earlier_winners,
        )

    def tabulate_round(self) -> None:  # noqa: C901, PLR0912, PLR0915
        config = self.config
        number = len(self.rounds) + 1
        previous = self.rounds[-1] if self.rounds else None
        seats_filled = self.surplus_mode and len(self.winners) >= self.seats
        tally: dict[str, Decimal] = {}
        for name in self.all_names:
            if name in self.excluded or name in self.eliminated:
                continue
            if self.surplus_mode and name in self.winners and previous is not None:
                tally[name] = previous.tally[name]
            else:
                tally[name] = ZERO
        inactive = dict.fromkeys(CATEGORIES, ZERO)
        final_surplus = ZERO
        moved: dict[str, dict[str, Decimal]] = defaultdict(dict)
        for group in self.groups:
            amount = group.value * group.count
            if group.inactive is not None:
                if group.inactive != FINAL_ROUND_SURPLUS:
                    inactive[group.inactive] += amount
                continue
            if group.recipient is not None and self.receives_votes(group.recipient):
                tally[group.recipient] += amount
                continue
            if not group.ranks:
                continue
            kind, where = self.walk(group, seats_filled)
            if group.recipient is not None and group.value > 0:
                target = where if kind == "candidate" else EXHAUSTED
                row = moved[group.recipient]
                row[target] = row.get(target, ZERO) + amount
            if kind == "candidate":
                group.recipient = where
                tally[where] += amount
            else:
                group.recipient = None
                group.inactive = where
                if where == FINAL_ROUND_SURPLUS:
                    final_surplus += amount
                else:
                    inactive[where] += amount
        if self.surplus_mode and previous is not None:
            for name in previous.elected:
                kept = self.kept.pop(name, ZERO)
                tally[name] = kept
                if kept > self.threshold:
                    residual = kept - self.threshold
                    self.residual_total += residual
                    moved[name][RESIDUAL] = residual
                    tally[name] = self.threshold
        if previous is not None:
            previous.transfers = {k: dict(v) for k, v in moved.items()}

        if self.should_recompute_threshold(number):
            self.threshold = self.compute_threshold(sum(tally.values(), ZERO))
        record = RoundRecord(
            number=number,
            tally=tally,
            threshold=self.threshold,
            inactive=inactive,
            final_round_surplus=final_surplus if seats_filled else None,
            residual_total=self.residual_total,
        )
        self.rounds.append(record)
        if seats_filled:
            return

        new_winners = self.identify_winners(record)
        for name in new_winners:
            self.winners[name] = number
        record.elected = sorted(new_winners, key=java_order_key)
        if self.surplus_mode:
            for name in new_winners:
                self.distribute_surplus(name, tally[name])

        continuing = [n for n in tally if n not in self.winners]
        if config.percentage_mode:
            eliminate = not new_winners
        else:
            eliminate = not new_winners and (
                len(self.winners) < self.seats
                or (config.continue_until_two and len(tally) > 2)
            )
        if eliminate and continuing:
            chosen = self.eliminations(record, continuing)
            for name in chosen:
                self.eliminated[name] = number
            record.eliminated = sorted(chosen, key=java_order_key)

    def should_recompute_threshold(self, number: int) -> bool:
        if number == 1:
            return True
        if self.seats > 1:
            return False
        if self.config.first_round_determines_threshold:
            return False
        return not (self.config.continue_until_two and self.winners)

    def compute_threshold(self, votes: Decimal) -> Decimal:
        config = self.config
        exact = _exact(votes)
        if config.percentage_mode:
            assert config.percentage_threshold is not None
            pct = config.percentage_threshold
            places = max(0, -int(pct.as_tuple().exponent)) + 2
            share = truncate(_exact(pct) / 100, places)
            with localcontext() as context:
                context.prec = 400
                return votes * share
        places = config.decimal_places if config.non_integer_threshold else 0
        if config.hare_quota:
            threshold = ceiling(exact / max(self.seats, 1), places)
        else:
            base = truncate(exact / (self.seats + 1), places)
            threshold = base + Decimal(1).scaleb(-places)
        # RCTab never lets the threshold fall below minimumVoteThreshold.
        minimum = config.minimum_vote_threshold
        if minimum > 0 and minimum > threshold:
            return minimum
        return threshold

    def identify_winners(self, record: RoundRecord) -> list[str]:
        config = self.config
        tally = record.tally
        threshold = record.threshold
        continuing = [n for n in tally if n not in self.winners]
        if UWI in continuing and tally[UWI] > 0:
            return []
        if config.percentage_mode:
            if continuing and all(tally[n] > threshold for n in continuing):
                return continuing
            return []
        unfilled = self.seats - len(self.winners)
        if unfilled <= 0:
            return []
        found: list[str] = []
        if len(continuing) <= unfilled:
            found = list(continuing)
        elif (
            config.first_round_determines_threshold
            and len(continuing) - 1 == self.seats
        ):
            found = [self.highest(continuing, record)]
        elif config.winner_mode != "bottomsUp":
            found = [n for n in continuing if n != UWI and tally[n] >= threshold]
        if len(found) > 1 and (
            config.winner_mode == "multiWinnerAllowOnlyOneWinnerPerRound"
            or config.first_round_determines_threshold
        ):
            found = [self.highest(found, record)]
        if (
            self.seats == 1
            and not found
            and len(continuing) == 2
            and unfilled == 1
            and all(tally[n] >= config.minimum_vote_threshold for n in continuing)
        ):
            found = [self.highest(continuing, record)]
        return found

    def highest(self, names: list[str], record: RoundRecord) -> str:
        top = max(record.tally[n] for n in names)
        tied = [n for n in names if record.tally[n] == top]
        if len(tied) == 1:
            return tied[0]
        return self._break(tied, electing=True, record=record)

    def distribute_surplus(self, name: str, total: Decimal) -> None:
        places = self.places
        if total > self.threshold:
            fraction = truncate(
                (_exact(total) - _exact(self.threshold)) / _exact(total), places
            )
        else:
            fraction = ZERO
        kept = ZERO
        with localcontext() as context:
            context.prec = 400
            for group in self.groups:
                if group.inactive is None and group.recipient == name:
                    moving = (group.value * fraction).quantize(
                        Decimal(1).scaleb(-places), rounding=ROUND_DOWN
                    )
                    kept += (group.value - moving) * group.count
                    group.value = moving
        self.kept[name] = kept

    def eliminations(self, record: RoundRecord, continuing: list[str]) -> list[str]:
        config = self.config
        tally = record.tally
        if UWI in continuing and tally[UWI] > 0:
            return [UWI]
        minimum = config.minimum_vote_threshold
        if minimum > 0:
            below = [n for n in continuing if tally[n] < minimum]
            declared = [n for n in self.all_names if n != UWI]
            if below and len(below) >= len(declared):
                raise TallyAbortedError(
                    f"round {record.number}: every declared candidate is below the "
                    f"minimum vote threshold ({minimum}); the count cannot go on"
                )
            if below:
                return below
        if config.cutoff_elimination:
            below = [n for n in continuing if tally[n] < record.threshold]
            if below:
                return below
        if config.batch_elimination:
            batch = self.batch(record, continuing)
            if batch:
                return batch
        low = min(tally[n] for n in continuing)
        tied = [n for n in continuing if tally[n] == low]
        if len(tied) == 1:
            return tied
        return [self._break(tied, electing=False, record=record)]

    def batch(self, record: RoundRecord, continuing: list[str]) -> list[str]:
        tally = record.tally
        pool = list(tally) if self.config.continue_until_two else continuing
        by_value: dict[Decimal, list[str]] = defaultdict(list)
        for name in pool:
            by_value[tally[name]].append(name)
        running = ZERO
        seen: list[str] = []
        sets: list[list[str]] = []
        for value in sorted(by_value):
            if running < value and seen:
                sets.append(list(seen))
            names = by_value[value]
            running += value * len(names)
            seen.extend(names)
        if not sets:
            return []
        chosen = sets[-1]
        if self.config.continue_until_two and len(pool) - len(chosen) < 2:
            chosen = sets[-2] if len(sets) >= 2 else []
        chosen = [n for n in chosen if n in continuing]
        return chosen if len(chosen) >= 2 else []
