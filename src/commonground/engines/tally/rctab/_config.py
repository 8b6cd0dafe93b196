"""Reading and validating an RCTab v2.0.1 contest configuration (``*_config.json``).

Every problem in the file is collected first and reported together (exit code 4),
as RCTab's own validation does; missing cast-vote-record files are named with
their resolved path (exit code 3 when nothing else is wrong).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .._errors import TallyConfigurationError, TallyInputError

UWI = "Undeclared Write-ins"

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
SUPPORTED_PROVIDERS = ("ess", "cdf", "genericCsv")
UNSUPPORTED_PROVIDERS = ("dominion", "hart", "clearBallot")
RANDOM_MODES = ("random", "previousRoundCountsThenRandom", "generatePermutation")
SEED_LIMIT = 2**47


@dataclass(frozen=True)
class CvrSource:
    """One ``cvrFileSources[]`` entry, with ``path`` resolved against the config."""

    index: int
    path: Path
    provider: str
    contest_id: str
    first_vote_column: int
    first_vote_row: int
    overvote_delimiter: str
    overvote_label: str
    skipped_rank_label: str
    undeclared_write_in_label: str
    treat_blank_as_undeclared_write_in: bool


@dataclass(frozen=True)
class CandidateEntry:
    """One declared candidate: canonical name, aliases and the ``excluded`` flag."""

    name: str
    aliases: tuple[str, ...]
    excluded: bool


@dataclass(frozen=True)
class RctabConfig:
    """The options of an RCTab contest that change its results or reports."""

    path: Path
    contest_name: str
    contest_date: str
    contest_jurisdiction: str
    contest_office: str
    sources: tuple[CvrSource, ...]
    candidates: tuple[CandidateEntry, ...]
    winner_mode: str
    tiebreak_mode: str
    overvote_rule: str
    random_seed: int | None
    number_of_winners: int
    percentage_threshold: Decimal | None
    decimal_places: int
    max_skipped_ranks: int | None
    max_rankings: int
    non_integer_threshold: bool
    first_round_determines_threshold: bool
    hare_quota: bool
    batch_elimination: bool
    continue_until_two: bool
    stop_after_round: int | None
    exhaust_on_duplicate: bool
    cutoff_elimination: bool
    minimum_vote_threshold: Decimal = Decimal(0)
    warnings: tuple[str, ...] = ()

    @property
    def has_undeclared_write_ins(self) -> bool:
        """True when some source can produce undeclared write-in marks."""
        return any(
            s.undeclared_write_in_label.strip() or s.treat_blank_as_undeclared_write_in
            for s in self.sources
        )

    @property
    def surplus_mode(self) -> bool:
        """Multi-seat modes that transfer winners' surpluses."""
        return self.number_of_winners > 1 and self.winner_mode in (
            "multiWinnerAllowMultipleWinnersPerRound",
            "multiWinnerAllowOnlyOneWinnerPerRound",
        )

    @property
    def percentage_mode(self) -> bool:
        return self.winner_mode == "bottomsUpUsingPercentageThreshold"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


class _Collector:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, key: str, value: Any, expected: str) -> None:
        shown = (
            json.dumps(value, ensure_ascii=False) if value is not None else "missing"
        )
        self.problems.append(f"{key} = {shown}: expected {expected}")


def _boolean(section: dict[str, Any], key: str, where: str, errors: _Collector) -> bool:
    value = section.get(key, False)
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    errors.add(f"{where}.{key}", value, 'true or false (or "true"/"false")')
    return False


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = _text(value)
    if not text:
        return None
    try:
        return int(text, 10)
    except ValueError:
        return None


def load_config(config_path: str | Path) -> RctabConfig:
    """Read and validate ``config_path``; raise on any invalid or missing field.

    >>> load_config("missing.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    commonground.engines.tally._errors.TallyInputError: ...missing.json:file: config: cannot read: ...
    """
    path = Path(config_path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise TallyInputError(path, "file", "config", f"cannot read: {error}") from None
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        where = getattr(error, "lineno", None)
        location = f"line {where}" if where else "file"
        raise TallyConfigurationError(
            path, location, "config", f"not valid JSON: {error}"
        ) from None
    if not isinstance(data, dict):
        raise TallyConfigurationError(path, "/", "config", "expected a JSON object")
    bad = _first_unencodable(data, "")
    if bad is not None:
        raise TallyConfigurationError(
            path, bad or "/", "text", "not valid Unicode (a lone surrogate escape)"
        )
    return _validate(path, data)


def _first_unencodable(value: Any, pointer: str) -> str | None:
    """JSON pointer of the first string that cannot be written as UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return pointer
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if _first_unencodable(key, pointer) is not None:
                return pointer
            found = _first_unencodable(item, f"{pointer}/{key}")
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_unencodable(item, f"{pointer}/{index}")
            if found is not None:
                return found
    return None


def _validate(path: Path, data: dict[str, Any]) -> RctabConfig:  # noqa: C901, PLR0912, PLR0915
    errors = _Collector()
    missing_files: list[str] = []
    unsupported: list[str] = []
    base = path.resolve().parent

    output = data.get("outputSettings") or {}
    if not isinstance(output, dict):
        errors.add("outputSettings", output, "an object")
        output = {}
    rules = data.get("rules") or {}
    if not isinstance(rules, dict):
        errors.add("rules", rules, "an object")
        rules = {}

    winner_mode = _text(rules.get("winnerElectionMode"))
    if winner_mode not in WINNER_MODES:
        errors.add(
            "rules.winnerElectionMode",
            rules.get("winnerElectionMode"),
            "one of " + ", ".join(WINNER_MODES),
        )
    tiebreak_mode = _text(rules.get("tiebreakMode"))
    if tiebreak_mode not in TIEBREAK_MODES:
        errors.add(
            "rules.tiebreakMode",
            rules.get("tiebreakMode"),
            "one of " + ", ".join(TIEBREAK_MODES),
        )
    overvote_rule = _text(rules.get("overvoteRule"))
    if overvote_rule not in OVERVOTE_RULES:
        errors.add(
            "rules.overvoteRule",
            rules.get("overvoteRule"),
            "one of " + ", ".join(OVERVOTE_RULES),
        )

    decimals = _integer(rules.get("decimalPlacesForVoteArithmetic"))
    if decimals is None or not 1 <= decimals <= 20:
        errors.add(
            "rules.decimalPlacesForVoteArithmetic",
            rules.get("decimalPlacesForVoteArithmetic"),
            "an integer from 1 to 20",
        )
        decimals = 4

    max_rankings_text = _text(rules.get("maxRankingsAllowed"))
    max_rankings: int | None = None
    if max_rankings_text != "max":
        max_rankings = _integer(rules.get("maxRankingsAllowed"))
        if max_rankings is None or max_rankings < 1:
            errors.add(
                "rules.maxRankingsAllowed",
                rules.get("maxRankingsAllowed"),
                '"max" or an integer of at least 1',
            )
            max_rankings = 1

    max_skipped: int | None = None
    if _text(rules.get("maxSkippedRanksAllowed")) != "unlimited":
        max_skipped = _integer(rules.get("maxSkippedRanksAllowed"))
        if max_skipped is None or max_skipped < 0:
            errors.add(
                "rules.maxSkippedRanksAllowed",
                rules.get("maxSkippedRanksAllowed"),
                '"unlimited" or an integer of at least 0',
            )
            max_skipped = 0

    random_seed: int | None = None
    if tiebreak_mode in RANDOM_MODES:
        random_seed = _integer(rules.get("randomSeed"))
        if random_seed is None or not -SEED_LIMIT <= random_seed < SEED_LIMIT:
            errors.add(
                "rules.randomSeed",
                rules.get("randomSeed"),
                f"an integer from {-SEED_LIMIT} to {SEED_LIMIT - 1} "
                f"(needed by tiebreakMode {tiebreak_mode})",
            )
            random_seed = 0

    winners = _integer(rules.get("numberOfWinners"))
    if winners is None or winners < 0:
        errors.add(
            "rules.numberOfWinners",
            rules.get("numberOfWinners"),
            "an integer of at least 0",
        )
        winners = 1

    booleans = {
        key: _boolean(rules, key, "rules", errors)
        for key in (
            "nonIntegerWinningThreshold",
            "doesFirstRoundDetermineThreshold",
            "hareQuota",
            "batchElimination",
            "continueUntilTwoCandidatesRemain",
            "exhaustOnDuplicateCandidate",
            "cutoffElimination",
        )
    }

    percentage: Decimal | None = None
    percentage_text = _text(rules.get("multiSeatBottomsUpPercentageThreshold"))
    if winner_mode == "bottomsUpUsingPercentageThreshold":
        try:
            percentage = Decimal(percentage_text)
        except InvalidOperation:
            percentage = None
        if (
            percentage is None
            or not percentage.is_finite()
            or not 1 <= percentage <= 100
        ):
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
    elif winner_mode:
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
    if booleans["cutoffElimination"] and winner_mode != (
        "bottomsUpUsingPercentageThreshold"
    ):
        errors.add(
            "rules.cutoffElimination",
            True,
            "false except with bottomsUpUsingPercentageThreshold",
        )
    allow_modes = (
        "multiWinnerAllowMultipleWinnersPerRound",
        "multiWinnerAllowOnlyOneWinnerPerRound",
    )
    for key in ("nonIntegerWinningThreshold", "hareQuota"):
        if booleans[key] and winner_mode not in allow_modes:
            errors.add(f"rules.{key}", True, "false except in multiWinnerAllow* modes")
    if booleans["nonIntegerWinningThreshold"] and booleans["hareQuota"]:
        errors.add(
            "rules.hareQuota", True, "false when nonIntegerWinningThreshold is set"
        )

    stop_after: int | None = None
    stop_text = _text(rules.get("stopTabulationEarlyAfterRound"))
    if stop_text:
        stop_after = _integer(stop_text)
        if stop_after is None or stop_after < 1:
            errors.add(
                "rules.stopTabulationEarlyAfterRound",
                rules.get("stopTabulationEarlyAfterRound"),
                "blank or an integer of at least 1",
            )
            stop_after = None

    minimum = Decimal(0)
    minimum_text = _text(rules.get("minimumVoteThreshold"))
    if minimum_text:
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

    # Candidates: names and aliases must all be distinct.
    candidates: list[CandidateEntry] = []
    raw_candidates = data.get("candidates")
    if not isinstance(raw_candidates, list) or not raw_candidates:
        errors.add("candidates", raw_candidates, "at least one candidate")
        raw_candidates = []
    seen_names: set[str] = set()
    for number, entry in enumerate(raw_candidates):
        key = f"candidates[{number}]"
        if not isinstance(entry, dict):
            errors.add(key, entry, "an object with a name")
            continue
        name = _text(entry.get("name"))
        if not name:
            errors.add(f"{key}.name", entry.get("name"), "a non-blank name")
            continue
        aliases_raw = entry.get("aliases") or []
        if not isinstance(aliases_raw, list):
            errors.add(f"{key}.aliases", aliases_raw, "a list of names")
            aliases_raw = []
        aliases = tuple(_text(a) for a in aliases_raw if _text(a))
        for label in (name, *aliases):
            if label in seen_names or label == UWI:
                errors.add(f"{key}", label, "names and aliases used only once")
            seen_names.add(label)
        excluded = _boolean(entry, "excluded", key, errors)
        candidates.append(CandidateEntry(name, aliases, excluded))

    # Sources.
    sources: list[CvrSource] = []
    raw_sources = data.get("cvrFileSources")
    if not isinstance(raw_sources, list) or not raw_sources:
        errors.add("cvrFileSources", raw_sources, "at least one source")
        raw_sources = []
    for number, entry in enumerate(raw_sources):
        key = f"cvrFileSources[{number}]"
        if not isinstance(entry, dict):
            errors.add(key, entry, "an object")
            continue
        provider = _text(entry.get("provider"))
        file_text = _text(entry.get("filePath"))
        if provider in UNSUPPORTED_PROVIDERS:
            unsupported.append(f"{key}.provider = {provider}: provider not supported")
        elif provider not in SUPPORTED_PROVIDERS:
            errors.add(
                f"{key}.provider", entry.get("provider"), "one of ess, cdf, genericCsv"
            )
        if not file_text:
            errors.add(f"{key}.filePath", entry.get("filePath"), "a file path")
        file_path = base / file_text if file_text else base
        if file_text and not file_path.is_file():
            missing_files.append(f"{key}.filePath: file not found: {file_path}")
        if provider == "cdf" and file_text.lower().endswith(".xml"):
            unsupported.append(
                f"{key}.filePath = {file_text}: provider not supported (CDF XML)"
            )
        first_column = _integer(entry.get("firstVoteColumnIndex"))
        first_row = _integer(entry.get("firstVoteRowIndex"))
        if provider in ("ess", "genericCsv"):
            if first_column is None or first_column < 1:
                errors.add(
                    f"{key}.firstVoteColumnIndex",
                    entry.get("firstVoteColumnIndex"),
                    "an integer of at least 1",
                )
            if first_row is None or first_row < 1:
                errors.add(
                    f"{key}.firstVoteRowIndex",
                    entry.get("firstVoteRowIndex"),
                    "an integer of at least 1",
                )
        contest_id = _text(entry.get("contestId"))
        if provider == "cdf" and not contest_id:
            errors.add(f"{key}.contestId", entry.get("contestId"), "the contest's Name")
        overvote_label = _text(entry.get("overvoteLabel"))
        delimiter = entry.get("overvoteDelimiter") or ""
        if not isinstance(delimiter, str):
            delimiter = str(delimiter)
        if overvote_label and overvote_rule == "exhaustIfMultipleContinuing":
            errors.add(
                f"{key}.overvoteLabel",
                overvote_label,
                "blank with overvoteRule exhaustIfMultipleContinuing",
            )
        if overvote_label and delimiter:
            errors.add(
                f"{key}.overvoteDelimiter", delimiter, "blank when overvoteLabel is set"
            )
        treat_blank = _boolean(entry, "treatBlankAsUndeclaredWriteIn", key, errors)
        sources.append(
            CvrSource(
                index=number,
                path=file_path,
                provider=provider,
                contest_id=contest_id,
                first_vote_column=first_column or 1,
                first_vote_row=first_row or 1,
                overvote_delimiter=delimiter,
                overvote_label=overvote_label,
                skipped_rank_label=_text(entry.get("skippedRankLabel")),
                undeclared_write_in_label=_text(entry.get("undeclaredWriteInLabel")),
                treat_blank_as_undeclared_write_in=treat_blank,
            )
        )

    if unsupported:
        raise TallyInputError(
            path, "cvrFileSources", "provider", "; ".join(unsupported)
        )
    if errors.problems or missing_files:
        problems = errors.problems + missing_files
        count = len(problems)
        message = f"{count} invalid setting{'s' if count != 1 else ''}:\n  " + (
            "\n  ".join(problems)
        )
        if errors.problems:
            raise TallyConfigurationError(path, "config", "validation", message)
        raise TallyInputError(path, "cvrFileSources", "filePath", message)

    notes = []
    for key, what in (
        ("tabulateByPrecinct", "precinct slice reports"),
        ("tabulateByBatch", "batch slice reports"),
        ("generateCdfJson", "the CDF JSON export of the cast-vote records"),
    ):
        if _boolean(output, key, "outputSettings", errors):
            notes.append(f"outputSettings.{key} is set but ignored: no {what}")
    resolved_max = max_rankings if max_rankings is not None else len(candidates)
    return RctabConfig(
        path=path,
        contest_name=_text(output.get("contestName")),
        contest_date=_text(output.get("contestDate")),
        contest_jurisdiction=_text(output.get("contestJurisdiction")),
        contest_office=_text(output.get("contestOffice")),
        sources=tuple(sources),
        candidates=tuple(candidates),
        winner_mode=winner_mode,
        tiebreak_mode=tiebreak_mode,
        overvote_rule=overvote_rule,
        random_seed=random_seed,
        number_of_winners=winners,
        percentage_threshold=percentage,
        decimal_places=decimals,
        max_skipped_ranks=max_skipped,
        max_rankings=resolved_max,
        non_integer_threshold=booleans["nonIntegerWinningThreshold"],
        first_round_determines_threshold=booleans["doesFirstRoundDetermineThreshold"],
        hare_quota=booleans["hareQuota"],
        batch_elimination=booleans["batchElimination"],
        continue_until_two=booleans["continueUntilTwoCandidatesRemain"],
        stop_after_round=stop_after,
        exhaust_on_duplicate=booleans["exhaustOnDuplicateCandidate"],
        cutoff_elimination=booleans["cutoffElimination"],
        minimum_vote_threshold=minimum,
        warnings=tuple(notes),
    )
