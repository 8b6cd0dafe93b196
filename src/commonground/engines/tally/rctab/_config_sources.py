"""Validating the ``candidates`` and ``cvrFileSources`` of an RCTab configuration.

Candidate names and aliases must be distinct; sources are checked entry by
entry, with file paths resolved against the configuration's folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._config_values import Collector, boolean_value, integer_value, text_value

UWI = "Undeclared Write-ins"
SUPPORTED_PROVIDERS = ("ess", "cdf", "genericCsv")
UNSUPPORTED_PROVIDERS = ("dominion", "hart", "clearBallot")


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


def validate_candidates(raw: Any, errors: Collector) -> list[CandidateEntry]:
    """The ``candidates`` list: names and aliases must all be distinct."""
    if not isinstance(raw, list) or not raw:
        errors.add("candidates", raw, "at least one candidate")
        raw = []
    candidates: list[CandidateEntry] = []
    seen_names: set[str] = set()
    for number, entry in enumerate(raw):
        candidate = _candidate(f"candidates[{number}]", entry, seen_names, errors)
        if candidate is not None:
            candidates.append(candidate)
    return candidates


def _candidate(
    key: str, entry: Any, seen_names: set[str], errors: Collector
) -> CandidateEntry | None:
    if not isinstance(entry, dict):
        errors.add(key, entry, "an object with a name")
        return None
    name = text_value(entry.get("name"))
    if not name:
        errors.add(f"{key}.name", entry.get("name"), "a non-blank name")
        return None
    aliases_raw = entry.get("aliases") or []
    if not isinstance(aliases_raw, list):
        errors.add(f"{key}.aliases", aliases_raw, "a list of names")
        aliases_raw = []
    aliases = tuple(text_value(a) for a in aliases_raw if text_value(a))
    for label in (name, *aliases):
        if label in seen_names or label == UWI:
            errors.add(f"{key}", label, "names and aliases used only once")
        seen_names.add(label)
    excluded = boolean_value(entry, "excluded", key, errors)
    return CandidateEntry(name, aliases, excluded)


@dataclass
class SourceProblems:
    """Source problems reported apart from the setting errors."""

    missing_files: list[str] = field(default_factory=list)  # exit code 3
    unsupported: list[str] = field(default_factory=list)


def validate_sources(
    raw: Any,
    base: Path,
    overvote_rule: str,
    errors: Collector,
    files: SourceProblems,
) -> list[CvrSource]:
    """The ``cvrFileSources`` list, file paths resolved against ``base``."""
    if not isinstance(raw, list) or not raw:
        errors.add("cvrFileSources", raw, "at least one source")
        raw = []
    sources: list[CvrSource] = []
    for number, entry in enumerate(raw):
        key = f"cvrFileSources[{number}]"
        if not isinstance(entry, dict):
            errors.add(key, entry, "an object")
            continue
        sources.append(_cvr_source(number, entry, base, overvote_rule, errors, files))
    return sources


def _cvr_source(
    number: int,
    entry: dict[str, Any],
    base: Path,
    overvote_rule: str,
    errors: Collector,
    files: SourceProblems,
) -> CvrSource:
    key = f"cvrFileSources[{number}]"
    provider = text_value(entry.get("provider"))
    file_path = _source_file(key, entry, provider, base, errors, files)
    first_column = integer_value(entry.get("firstVoteColumnIndex"))
    first_row = integer_value(entry.get("firstVoteRowIndex"))
    if provider in ("ess", "genericCsv"):
        for name, value in (
            ("firstVoteColumnIndex", first_column),
            ("firstVoteRowIndex", first_row),
        ):
            if value is None or value < 1:
                errors.add(f"{key}.{name}", entry.get(name), "an integer of at least 1")
    contest_id = text_value(entry.get("contestId"))
    if provider == "cdf" and not contest_id:
        errors.add(f"{key}.contestId", entry.get("contestId"), "the contest's Name")
    overvote_label, delimiter = _overvote_marks(key, entry, overvote_rule, errors)
    treat_blank = boolean_value(entry, "treatBlankAsUndeclaredWriteIn", key, errors)
    return CvrSource(
        index=number,
        path=file_path,
        provider=provider,
        contest_id=contest_id,
        first_vote_column=first_column or 1,
        first_vote_row=first_row or 1,
        overvote_delimiter=delimiter,
        overvote_label=overvote_label,
        skipped_rank_label=text_value(entry.get("skippedRankLabel")),
        undeclared_write_in_label=text_value(entry.get("undeclaredWriteInLabel")),
        treat_blank_as_undeclared_write_in=treat_blank,
    )


def _source_file(
    key: str,
    entry: dict[str, Any],
    provider: str,
    base: Path,
    errors: Collector,
    files: SourceProblems,
) -> Path:
    """Check the provider and ``filePath`` of a source; the resolved path."""
    file_text = text_value(entry.get("filePath"))
    if provider in UNSUPPORTED_PROVIDERS:
        files.unsupported.append(f"{key}.provider = {provider}: provider not supported")
    elif provider not in SUPPORTED_PROVIDERS:
        errors.add(
            f"{key}.provider", entry.get("provider"), "one of ess, cdf, genericCsv"
        )
    if not file_text:
        errors.add(f"{key}.filePath", entry.get("filePath"), "a file path")
    file_path = base / file_text if file_text else base
    if file_text and not file_path.is_file():
        files.missing_files.append(f"{key}.filePath: file not found: {file_path}")
    if provider == "cdf" and file_text.lower().endswith(".xml"):
        files.unsupported.append(
            f"{key}.filePath = {file_text}: provider not supported (CDF XML)"
        )
    return file_path


def _overvote_marks(
    key: str, entry: dict[str, Any], overvote_rule: str, errors: Collector
) -> tuple[str, str]:
    """A source's ``overvoteLabel`` and ``overvoteDelimiter`` (at most one set)."""
    overvote_label = text_value(entry.get("overvoteLabel"))
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
    return overvote_label, delimiter
