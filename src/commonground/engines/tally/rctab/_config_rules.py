"""Validating the ``rules`` section of an RCTab configuration, field by field.

Each field is checked (invalid values are reported and replaced by a default),
then the combinations RCTab forbids (winner mode against number of winners, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ._config_values import Collector, boolean_value, integer_value, text_value

WINNER_MODES = (
    "singleWinnerMajority",
    "multiWinnerAllowMultipleWinnersPerRound",
    "multiWinnerAllowOnlyOneWinnerPerRound",
    "bottomsUp",
    "bottomsUpUsingPercentageThreshold",
    "multiPassIrv",
)
TIEBREAK_MODES = (
    "random",
    "stopCountingAndAsk",
    "previousRoundCountsThenRandom",
    "previousRoundCountsThenAsk",
    "useCandidateOrder",
    "generatePermutation",
)
OVERVOTE_RULES = (
    "alwaysSkipToNextRank",
    "exhaustImmediately",
    "exhaustIfMultipleContinuing",
)
RANDOM_MODES = ("random", "previousRoundCountsThenRandom", "generatePermutation")
SEED_LIMIT = 2**47
RULE_BOOLEANS = (
    "nonIntegerWinningThreshold",
    "doesFirstRoundDetermineThreshold",
    "hareQuota",
    "batchElimination",
    "continueUntilTwoCandidatesRemain",
    "exhaustOnDuplicateCandidate",
    "cutoffElimination",
)
ALLOW_MODES = (
    "multiWinnerAllowMultipleWinnersPerRound",
    "multiWinnerAllowOnlyOneWinnerPerRound",
)


@dataclass(frozen=True)
class Rules:
    """The validated ``rules`` section (invalid values replaced by defaults)."""

    winner_mode: str
    tiebreak_mode: str
    overvote_rule: str
    decimals: int
    max_rankings: int | None  # None = "max"
    max_skipped: int | None  # None = "unlimited"
    random_seed: int | None
    winners: int
    booleans: dict[str, bool]
    percentage: Decimal | None
    stop_after: int | None
    minimum: Decimal


def validate_rules(rules: dict[str, Any], errors: Collector) -> Rules:
    """The ``rules`` section, checked field by field, then in combination."""
    winner_mode = _choice(rules, "winnerElectionMode", WINNER_MODES, errors)
    tiebreak_mode = _choice(rules, "tiebreakMode", TIEBREAK_MODES, errors)
    overvote_rule = _choice(rules, "overvoteRule", OVERVOTE_RULES, errors)
    decimals = _decimal_places(rules, errors)
    max_rankings = _max_rankings(rules, errors)
    max_skipped = _max_skipped(rules, errors)
    random_seed = _random_seed(rules, tiebreak_mode, errors)
    winners = _number_of_winners(rules, errors)
    booleans = {
        key: boolean_value(rules, key, "rules", errors) for key in RULE_BOOLEANS
    }
    percentage: Decimal | None = None
    if winner_mode == "bottomsUpUsingPercentageThreshold":
        percentage = _percentage_mode(rules, winners, booleans, errors)
    elif winner_mode:
        _winner_count_rules(rules, winner_mode, winners, booleans, errors)
    _boolean_combinations(winner_mode, booleans, errors)
    stop_after = _stop_after(rules, errors)
    minimum = _minimum_vote_threshold(rules, errors)
    return Rules(
        winner_mode=winner_mode,
        tiebreak_mode=tiebreak_mode,
        overvote_rule=overvote_rule,
        decimals=decimals,
        max_rankings=max_rankings,
        max_skipped=max_skipped,
        random_seed=random_seed,
        winners=winners,
        booleans=booleans,
        percentage=percentage,
        stop_after=stop_after,
        minimum=minimum,
    )


def _choice(
    rules: dict[str, Any], key: str, allowed: tuple[str, ...], errors: Collector
) -> str:
    value = text_value(rules.get(key))
    if value not in allowed:
        errors.add(f"rules.{key}", rules.get(key), "one of " + ", ".join(allowed))
    return value


def _decimal_places(rules: dict[str, Any], errors: Collector) -> int:
    decimals = integer_value(rules.get("decimalPlacesForVoteArithmetic"))
    if decimals is None or not 1 <= decimals <= 20:
        errors.add(
            "rules.decimalPlacesForVoteArithmetic",
            rules.get("decimalPlacesForVoteArithmetic"),
            "an integer from 1 to 20",
        )
        decimals = 4
    return decimals


def _max_rankings(rules: dict[str, Any], errors: Collector) -> int | None:
    if text_value(rules.get("maxRankingsAllowed")) == "max":
        return None
    max_rankings = integer_value(rules.get("maxRankingsAllowed"))
    if max_rankings is None or max_rankings < 1:
        errors.add(
            "rules.maxRankingsAllowed",
            rules.get("maxRankingsAllowed"),
            '"max" or an integer of at least 1',
        )
        max_rankings = 1
    return max_rankings


def _max_skipped(rules: dict[str, Any], errors: Collector) -> int | None:
    if text_value(rules.get("maxSkippedRanksAllowed")) == "unlimited":
        return None
    max_skipped = integer_value(rules.get("maxSkippedRanksAllowed"))
    if max_skipped is None or max_skipped < 0:
        errors.add(
            "rules.maxSkippedRanksAllowed",
            rules.get("maxSkippedRanksAllowed"),
            '"unlimited" or an integer of at least 0',
        )
        max_skipped = 0
    return max_skipped


def _random_seed(
    rules: dict[str, Any], tiebreak_mode: str, errors: Collector
) -> int | None:
    if tiebreak_mode not in RANDOM_MODES:
        return None
    random_seed = integer_value(rules.get("randomSeed"))
    if random_seed is None or not -SEED_LIMIT <= random_seed < SEED_LIMIT:
        errors.add(
            "rules.randomSeed",
            rules.get("randomSeed"),
            f"an integer from {-SEED_LIMIT} to {SEED_LIMIT - 1} "
            f"(needed by tiebreakMode {tiebreak_mode})",
        )
        random_seed = 0
    return random_seed


def _number_of_winners(rules: dict[str, Any], errors: Collector) -> int:
    winners = integer_value(rules.get("numberOfWinners"))
    if winners is None or winners < 0:
        errors.add(
            "rules.numberOfWinners",
            rules.get("numberOfWinners"),
            "an integer of at least 0",
        )
        winners = 1
    return winners


def _percentage_mode(
    rules: dict[str, Any], winners: int, booleans: dict[str, bool], errors: Collector
) -> Decimal | None:
    """The threshold of bottomsUpUsingPercentageThreshold, and what that mode needs."""
    percentage: Decimal | None
    try:
        percentage = Decimal(
            text_value(rules.get("multiSeatBottomsUpPercentageThreshold"))
        )
    except InvalidOperation:
        percentage = None
    if percentage is None or not percentage.is_finite() or not 1 <= percentage <= 100:
        errors.add(
            "rules.multiSeatBottomsUpPercentageThreshold",
            rules.get("multiSeatBottomsUpPercentageThreshold"),
            "a number from 1 to 100",
        )
        percentage = None
    if winners != 0:
        errors.add(
            "rules.numberOfWinners",
            rules.get("numberOfWinners"),
            "0 with bottomsUpUsingPercentageThreshold",
        )
    if booleans["batchElimination"]:
        errors.add(
            "rules.batchElimination",
            rules.get("batchElimination"),
            "false with bottomsUpUsingPercentageThreshold",
        )
    return percentage


def _winner_count_rules(
    rules: dict[str, Any],
    winner_mode: str,
    winners: int,
    booleans: dict[str, bool],
    errors: Collector,
) -> None:
    """numberOfWinners against the winner mode (other than the percentage mode)."""
    if winners == 0:
        errors.add(
            "rules.numberOfWinners",
            rules.get("numberOfWinners"),
            "at least 1 (0 only with bottomsUpUsingPercentageThreshold)",
        )
    if (
        winners == 1
        and winner_mode in WINNER_MODES
        and (winner_mode != "singleWinnerMajority")
    ):
        errors.add(
            "rules.winnerElectionMode",
            winner_mode,
            "singleWinnerMajority when numberOfWinners is 1",
        )
    if winners > 1 and winner_mode == "singleWinnerMajority":
        errors.add(
            "rules.winnerElectionMode",
            winner_mode,
            "a multi-winner mode when numberOfWinners is more than 1",
        )
    if winners > 1:
        if booleans["doesFirstRoundDetermineThreshold"]:
            errors.add(
                "rules.doesFirstRoundDetermineThreshold",
                True,
                "false when numberOfWinners is more than 1",
            )
        if winner_mode != "multiPassIrv":
            for key in ("continueUntilTwoCandidatesRemain", "batchElimination"):
                if booleans[key]:
                    errors.add(
                        f"rules.{key}",
                        True,
                        "false when numberOfWinners is more than 1 "
                        "(except with multiPassIrv)",
                    )


def _boolean_combinations(
    winner_mode: str, booleans: dict[str, bool], errors: Collector
) -> None:
    """Switches that only some winner modes (or no other switch) allow."""
    if booleans["cutoffElimination"] and winner_mode != (
        "bottomsUpUsingPercentageThreshold"
    ):
        errors.add(
            "rules.cutoffElimination",
            True,
            "false except with bottomsUpUsingPercentageThreshold",
        )
    for key in ("nonIntegerWinningThreshold", "hareQuota"):
        if booleans[key] and winner_mode not in ALLOW_MODES:
            errors.add(f"rules.{key}", True, "false except in multiWinnerAllow* modes")
    if booleans["nonIntegerWinningThreshold"] and booleans["hareQuota"]:
        errors.add(
            "rules.hareQuota", True, "false when nonIntegerWinningThreshold is set"
        )


def _stop_after(rules: dict[str, Any], errors: Collector) -> int | None:
    stop_text = text_value(rules.get("stopTabulationEarlyAfterRound"))
    if not stop_text:
        return None
    stop_after = integer_value(stop_text)
    if stop_after is None or stop_after < 1:
        errors.add(
            "rules.stopTabulationEarlyAfterRound",
            rules.get("stopTabulationEarlyAfterRound"),
            "blank or an integer of at least 1",
        )
        stop_after = None
    return stop_after


def _minimum_vote_threshold(rules: dict[str, Any], errors: Collector) -> Decimal:
    minimum_text = text_value(rules.get("minimumVoteThreshold"))
    if not minimum_text:
        return Decimal(0)
    try:
        minimum = Decimal(minimum_text)
    except InvalidOperation:
        minimum = Decimal(-1)
    if not minimum.is_finite() or minimum < 0:
        errors.add(
            "rules.minimumVoteThreshold",
            rules.get("minimumVoteThreshold"),
            "blank or a number of at least 0",
        )
        minimum = Decimal(0)
    return minimum
