"""``tabulate_rctab``: read an RCTab config and its CVRs, count, write the reports."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from .._errors import TallyConfigurationError, TallyInputError
from .._limits import LIMITS, MAX_INPUT_BYTES
from ._config import UWI, CvrSource, RctabConfig, load_config
from ._records import (
    OVERVOTE,
    UNDECLARED,
    RawRecord,
    read_cdf_json_records,
    read_ess_xlsx_records,
    read_generic_csv_records,
)
from ._reports import detailed_csv, detailed_json
from ._tabulator import Group, PassResult, Tabulation

logger = logging.getLogger(__name__)

ResolvedRanks = tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...]


def _read_source(config: RctabConfig, source: CvrSource) -> list[RawRecord]:
    try:
        size = Path(source.path).stat().st_size
    except OSError:
        size = 0  # the reader reports the missing file
    if size > MAX_INPUT_BYTES:
        raise TallyInputError(
            source.path,
            "file",
            "size",
            f"{size:,} bytes; ballot files are read up to {MAX_INPUT_BYTES:,} "
            "bytes (docs/reliability.md)",
        )
    if source.provider == "cdf":
        _, records = read_cdf_json_records(source.path, source.contest_id)
        return records
    if source.provider == "genericCsv":
        _, records = read_generic_csv_records(
            source.path, first_vote_column=source.first_vote_column
        )
        return records
    return read_ess_xlsx_records(
        source.path,
        first_vote_row=source.first_vote_row,
        first_vote_column=source.first_vote_column,
        max_rankings=config.max_rankings,
        overvote_delimiter=source.overvote_delimiter,
        overvote_label=source.overvote_label,
        skipped_rank_label=source.skipped_rank_label,
        undeclared_write_in_label=source.undeclared_write_in_label,
        treat_blank_as_undeclared_write_in=source.treat_blank_as_undeclared_write_in,
    )


def _resolve(
    config: RctabConfig, source: CvrSource, records: list[RawRecord]
) -> list[ResolvedRanks]:
    names: dict[str, str] = {}
    for candidate in config.candidates:
        names[candidate.name] = candidate.name
        for alias in candidate.aliases:
            names[alias] = candidate.name
    names[UNDECLARED] = UWI
    if source.undeclared_write_in_label:
        names[source.undeclared_write_in_label] = UWI
    names[OVERVOTE] = OVERVOTE
    if source.overvote_label:
        names[source.overvote_label] = OVERVOTE
    unknown: Counter[str] = Counter()
    resolved: list[ResolvedRanks] = []
    for record in records:
        ranks = []
        for rank, marks in record.ranks:
            if rank > config.max_rankings:
                raise TallyInputError(
                    source.path,
                    record.location,
                    f"rank {rank}",
                    f"ranking above maxRankingsAllowed ({config.max_rankings})",
                )
            mapped = []
            for mark in marks:
                if mark in names:
                    mapped.append(names[mark])
                else:
                    unknown[mark] += 1
            ranks.append((rank, tuple(mapped), tuple(marks)))
        resolved.append(tuple(ranks))
    if unknown:
        listed = ", ".join(f"{name!r} ({count})" for name, count in unknown.items())
        raise TallyInputError(
            source.path, "file", "candidate", f"unrecognized candidate: {listed}"
        )
    return resolved


def read_all(config: RctabConfig) -> list[ResolvedRanks]:
    """Every cast-vote record of every source, in source order."""
    everything: list[ResolvedRanks] = []
    for source in config.sources:
        everything.extend(_resolve(config, source, _read_source(config, source)))
    return everything


def _groups(records: list[ResolvedRanks]) -> list[Group]:
    counts: dict[ResolvedRanks, int] = {}
    for ranks in records:
        counts[ranks] = counts.get(ranks, 0) + 1
    return [Group(ranks=ranks, count=count) for ranks, count in counts.items()]


def run_tabulation(config: RctabConfig) -> list[PassResult]:
    """Count the contest: one result, or one per pass of multi-pass IRV."""
    records = read_all(config)
    _check_limits(config, records)
    if config.winner_mode != "multiPassIrv":
        tabulation = Tabulation(
            config,
            _groups(records),
            len(records),
            number_of_winners=config.number_of_winners,
        )
        return [tabulation.run()]
    results: list[PassResult] = []
    earlier: tuple[str, ...] = ()
    for _ in range(config.number_of_winners):
        tabulation = Tabulation(
            config,
            _groups(records),
            len(records),
            number_of_winners=1,
            earlier_winners=earlier,
        )
        result = tabulation.run()
        results.append(result)
        if not result.winners:
            break
        earlier = earlier + tuple(result.winners)
    return results


def _check_limits(config: RctabConfig, records: list[ResolvedRanks]) -> None:
    """The IRV/STV limits of ``count`` (``_limits``), before tabulating."""
    limits = LIMITS["stv"] if config.number_of_winners > 1 else LIMITS["irv"]
    candidates = len(config.candidates)
    if candidates > limits.candidates:
        raise TallyConfigurationError(
            config.path,
            "candidates",
            "candidates",
            f"{candidates:,} candidates; RCTab tabulation counts at most "
            f"{limits.candidates:,} (docs/reliability.md)",
        )
    distinct = len(set(records))
    longest = max((len(ranks) for ranks in records), default=0)
    if distinct > limits.distinct_ballots or distinct * longest > limits.ballot_cells:
        raise TallyInputError(
            config.path,
            "ballots",
            "ballots",
            f"{distinct:,} distinct ballots of up to {longest:,} ranks; RCTab "
            f"tabulation counts at most {limits.distinct_ballots:,} distinct "
            f"ballots and {limits.ballot_cells:,} cells (docs/reliability.md)",
        )


def report_prefix(config_path: Path) -> str:
    name = config_path.name
    if name.lower().endswith(".json"):
        name = name[: -len(".json")]
    if name.endswith("_config"):
        name = name[: -len("_config")]
    return name


def tabulate_rctab(
    config_path: str | Path,
    output_dir: str | Path,
    *,
    on_warning: Callable[[str], None] | None = None,
) -> list[Path]:
    """Count an RCTab contest and write RCTab's reports into ``output_dir``.

    Returns the written paths: ``<prefix>[_<pass>]_detailed_report.json``,
    ``..._detailed_report.csv``, ``..._summary_report.csv`` and the short-name
    copies ``..._summary.json`` / ``..._summary.csv``.  Nothing is written when
    the configuration, the cast-vote records or the count fail.  Options that
    are accepted but not acted on (slice reports, CDF export) are reported to
    ``on_warning`` (default: the ``logging`` module).
    """
    path = Path(config_path)
    config = load_config(path)
    for note in config.warnings:
        if on_warning is None:
            logger.warning("%s: %s", path, note)
        else:
            on_warning(f"{path}: {note}")
    results = run_tabulation(config)
    prefix = report_prefix(path)
    documents: dict[str, str] = {}
    multi = len(results) > 1 or config.winner_mode == "multiPassIrv"
    for number, result in enumerate(results, start=1):
        stem = f"{prefix}_{number}" if multi else prefix
        json_text = detailed_json(config, result)
        summary_csv = detailed_csv(config, result, summary=True)
        documents[f"{stem}_detailed_report.json"] = json_text
        documents[f"{stem}_detailed_report.csv"] = detailed_csv(config, result)
        documents[f"{stem}_summary_report.csv"] = summary_csv
        documents[f"{stem}_summary.json"] = json_text
        documents[f"{stem}_summary.csv"] = summary_csv
    directory = Path(output_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".rctab-", dir=directory))
    except OSError as error:
        raise TallyConfigurationError(
            directory, "folder", "output-dir", f"cannot write the reports: {error}"
        ) from None
    written: list[Path] = []
    try:
        for name, text in documents.items():
            (staging / name).write_bytes(text.encode("utf-8"))
        for name in documents:
            target = directory / name
            os.replace(staging / name, target)
            written.append(target)
    except OSError as error:
        for target in written:
            target.unlink(missing_ok=True)
        raise TallyConfigurationError(
            directory, "folder", "output-dir", f"cannot write the reports: {error}"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written
