"""Reading and validating an RCTab v2.0.1 contest configuration (``*_config.json``).

Every problem in the file is collected first and reported together (exit code 4),
as RCTab's own validation does; missing cast-vote-record files are named with
their resolved path (exit code 3 when nothing else is wrong).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from .._errors import TallyConfigurationError, TallyInputError
from ._config_rules import Rules, validate_rules
from ._config_sources import (
    UWI,
    CandidateEntry,
    CvrSource,
    SourceProblems,
    validate_candidates,
    validate_sources,
)
from ._config_values import Collector, boolean_value, text_value

__all__ = ["UWI", "CandidateEntry", "CvrSource", "RctabConfig", "load_config"]


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
    except (ValueError, RecursionError):  # a 5,000-digit number; deep nesting
        raise TallyConfigurationError(
            path, "file", "config", "a number too long or nesting too deep"
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


def _validate(path: Path, data: dict[str, Any]) -> RctabConfig:
    """Check every section in order; raise with all the problems found."""
    errors = Collector()
    output = _section(data, "outputSettings", errors)
    rules = validate_rules(_section(data, "rules", errors), errors)
    candidates = validate_candidates(data.get("candidates"), errors)
    files = SourceProblems()
    sources = validate_sources(
        data.get("cvrFileSources"),
        path.resolve().parent,
        rules.overvote_rule,
        errors,
        files,
    )
    _raise_problems(path, errors, files)
    notes = _output_notes(output, errors)
    return _config(path, output, rules, candidates, sources, notes)


def _section(data: dict[str, Any], key: str, errors: Collector) -> dict[str, Any]:
    """A top-level object (``outputSettings``, ``rules``); {} if absent or invalid."""
    section = data.get(key) or {}
    if not isinstance(section, dict):
        errors.add(key, section, "an object")
        section = {}
    return section


# -- outcome -----------------------------------------------------------------------


def _raise_problems(path: Path, errors: Collector, files: SourceProblems) -> None:
    """Unsupported sources first, then every invalid setting or missing file."""
    if files.unsupported:
        raise TallyInputError(
            path, "cvrFileSources", "provider", "; ".join(files.unsupported)
        )
    if errors.problems or files.missing_files:
        problems = errors.problems + files.missing_files
        count = len(problems)
        message = f"{count} invalid setting{'s' if count != 1 else ''}:\n  " + (
            "\n  ".join(problems)
        )
        if errors.problems:
            raise TallyConfigurationError(path, "config", "validation", message)
        raise TallyInputError(path, "cvrFileSources", "filePath", message)


def _output_notes(output: dict[str, Any], errors: Collector) -> list[str]:
    """Warnings for ``outputSettings`` switches this tabulator does not honour."""
    notes = []
    for key, what in (
        ("tabulateByPrecinct", "precinct slice reports"),
        ("tabulateByBatch", "batch slice reports"),
        ("generateCdfJson", "the CDF JSON export of the cast-vote records"),
    ):
        if boolean_value(output, key, "outputSettings", errors):
            notes.append(f"outputSettings.{key} is set but ignored: no {what}")
    return notes


def _config(
    path: Path,
    output: dict[str, Any],
    rules: Rules,
    candidates: list[CandidateEntry],
    sources: list[CvrSource],
    notes: list[str],
) -> RctabConfig:
    booleans = rules.booleans
    max_rankings = rules.max_rankings
    return RctabConfig(
        path=path,
        contest_name=text_value(output.get("contestName")),
        contest_date=text_value(output.get("contestDate")),
        contest_jurisdiction=text_value(output.get("contestJurisdiction")),
        contest_office=text_value(output.get("contestOffice")),
        sources=tuple(sources),
        candidates=tuple(candidates),
        winner_mode=rules.winner_mode,
        tiebreak_mode=rules.tiebreak_mode,
        overvote_rule=rules.overvote_rule,
        random_seed=rules.random_seed,
        number_of_winners=rules.winners,
        percentage_threshold=rules.percentage,
        decimal_places=rules.decimals,
        max_skipped_ranks=rules.max_skipped,
        max_rankings=max_rankings if max_rankings is not None else len(candidates),
        non_integer_threshold=booleans["nonIntegerWinningThreshold"],
        first_round_determines_threshold=booleans["doesFirstRoundDetermineThreshold"],
        hare_quota=booleans["hareQuota"],
        batch_elimination=booleans["batchElimination"],
        continue_until_two=booleans["continueUntilTwoCandidatesRemain"],
        stop_after_round=rules.stop_after,
        exhaust_on_duplicate=booleans["exhaustOnDuplicateCandidate"],
        cutoff_elimination=booleans["cutoffElimination"],
        minimum_vote_threshold=rules.minimum,
        warnings=tuple(notes),
    )
