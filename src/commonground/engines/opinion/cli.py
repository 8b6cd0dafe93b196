"""``commonground opinion``: votes in, opinion map out (spec §7).

Reads a Pol.is openData export folder or a votes CSV (ours, a Pol.is
``votes.csv`` or ``participants-votes.csv``), prints the JSON result (or a
readable summary with ``--format text``).  Exit 0 on success, 2 on a usage or
input error (``PATH:LINE: FIELD: MESSAGE`` on stderr), 1 on an internal error.
Input remarks (an unknown column ignored) go to stderr as
``warning: PATH:LINE: FIELD: MESSAGE``.

Hostile input is refused before the work it would cost (docs/reliability.md,
"Opinion limits"): a file above ``MAX_INPUT_BYTES`` is not read; a conversation
above the vote, participant or statement limits, or a Pol.is-mode map (dense,
participants x statements) or replay above its budget, is not fitted. Each is
one line on stderr and exit 2, as is a value the readers cannot hold (a
timestamp past 64 bits, a 5,000-digit id).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from ._data import (
    OpinionInputError,
    OpinionInputWarning,
    StatementTable,
    VoteTable,
)
from ._estimator import OpinionMap
from ._readers import read_polis_export, read_statements_csv, read_votes_csv
from ._result import OpinionResult

__all__ = ["LIMITS", "OpinionLimits", "main"]


@dataclass(frozen=True)
class OpinionLimits:
    """The most the command reads and maps (checked before any fitting).

    ``input_bytes``: each file read. ``votes``: vote rows. ``participants`` and
    ``statements``: distinct ids. ``polis_cells``: participants x statements in
    Pol.is mode, which works on the dense matrix. ``replay_work``: replay ticks
    x participants x statements (each tick refits the Pol.is map).
    ``id_length``: characters in a participant or statement id (numeric ids are
    ordered as numbers, and Python converts at most 4,300 digits).
    """

    input_bytes: int = 256 * 1024 * 1024
    votes: int = 5_000_000
    participants: int = 1_000_000
    statements: int = 100_000
    polis_cells: int = 20_000_000
    replay_work: int = 400_000_000
    id_length: int = 1_000


LIMITS = OpinionLimits()
MESSAGE_WIDTH = 300  # an error is one line, cut to this many characters


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="commonground opinion",
        description=(
            "Map the opinion groups of a conversation: who agrees with whom, what "
            "sets each group apart and what everyone agrees on."
        ),
    )
    parser.add_argument(
        "input",
        metavar="DIR_OR_VOTES_CSV",
        help="a Pol.is openData export folder, or a votes CSV "
        "(participant,statement,vote,timestamp; or Pol.is votes.csv / "
        "participants-votes.csv)",
    )
    parser.add_argument(
        "--comments",
        metavar="COMMENTS.csv",
        help="statements with moderation (Pol.is comments.csv or "
        "statement,moderated,is_meta,text)",
    )
    parser.add_argument("--mode", choices=("polis", "improved"), default="improved")
    parser.add_argument(
        "--replay",
        action="store_true",
        help="polis mode: replay the timestamped vote log tick by tick",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=("json", "text"), default="json")
    parser.add_argument(
        "--replay-window-ms",
        type=int,
        default=1000,
        metavar="W",
        help="replay batch window in milliseconds (default 1000)",
    )
    return parser


def _load(source: str, comments: str | None) -> tuple[VoteTable, StatementTable | None]:
    """Read the input; input warnings are printed to stderr, not raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OpinionInputWarning)
        loaded = _read(source, comments)
    for remark in caught:
        if issubclass(remark.category, OpinionInputWarning):
            print(f"warning: {remark.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(
                remark.message, remark.category, remark.filename, remark.lineno
            )
    return loaded


def _check_sizes(source: str, comments: str | None) -> None:
    """Refuse input files above the size limit before reading them."""
    path = Path(source)
    files = [path] if not path.is_dir() else sorted(path.glob("*.csv"))
    if comments is not None:
        files.append(Path(comments))
    for file in files:
        try:
            size = file.stat().st_size
        except OSError:
            continue  # the reader says what is wrong with it
        if size > LIMITS.input_bytes:
            raise OpinionInputError(
                str(file),
                0,
                "file",
                f"{size:,} bytes; input files are read up to "
                f"{LIMITS.input_bytes:,} bytes (docs/reliability.md)",
            )


def _check_limits(votes: VoteTable, args: argparse.Namespace) -> None:
    """Refuse a conversation whose map would cost more than the limits allow."""
    participants = len(votes.participant_ids)
    statements = len(votes.statement_ids)
    polis = args.mode == "polis"
    checks = [
        ("votes", len(votes), LIMITS.votes, "vote rows"),
        ("participants", participants, LIMITS.participants, "participants"),
        ("statements", statements, LIMITS.statements, "statements"),
    ]
    if polis:
        checks.append(
            (
                "participants",
                participants * statements,
                LIMITS.polis_cells,
                "participants x statements in polis mode",
            )
        )
    if polis and args.replay:
        ticks = _replay_ticks(votes, args.replay_window_ms)
        checks.append(
            (
                "timestamp",
                ticks * participants * statements,
                LIMITS.replay_work,
                f"replay ticks x participants x statements ({ticks:,} ticks)",
            )
        )
    for field, ids in (
        ("participant", votes.participant_ids),
        ("statement", votes.statement_ids),
    ):
        longest = max((len(i) for i in ids), default=0)
        checks.append((field, longest, LIMITS.id_length, f"characters in a {field} id"))
    for field, value, limit, what in checks:
        if value > limit:
            raise OpinionInputError(
                votes.path or "input",
                0,
                field,
                f"{value:,} {what}; the command maps at most {limit:,} "
                "(docs/reliability.md)",
            )


def _replay_ticks(votes: VoteTable, window_ms: int) -> int:
    """How many windows a replay feeds (as the Pol.is replay batches them)."""
    if votes.timestamp is None or not len(votes):
        return 0
    times = np.sort(votes.timestamp)
    ticks, start = 0, 0
    while start < len(times):
        stop = int(np.searchsorted(times, times[start] + window_ms, side="left"))
        start = max(stop, start + 1)
        ticks += 1
    return ticks


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MESSAGE_WIDTH else line[: MESSAGE_WIDTH - 3] + "..."


def _read(source: str, comments: str | None) -> tuple[VoteTable, StatementTable | None]:
    path = Path(source)
    statements: StatementTable | None = None
    if path.is_dir():
        if comments is None:
            return read_polis_export(path)
        votes_path = path / "votes.csv"
        if not votes_path.exists():
            votes_path = path / "participants-votes.csv"
        votes = read_votes_csv(votes_path)
    else:
        votes = read_votes_csv(path)
    if comments is not None:
        statements = read_statements_csv(comments)
    return votes, statements


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None) -> int:
    """Run the command; returns the exit status."""
    out = stdout if stdout is not None else sys.stdout
    try:
        args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except _UsageError as error:
        print(f"commonground opinion: error: {error}", file=sys.stderr)
        return 2
    except SystemExit as leave:  # --help
        return int(leave.code or 0)
    if args.seed < 0:
        print("commonground opinion: error: --seed must be >= 0", file=sys.stderr)
        return 2
    if args.replay_window_ms < 1:
        print(
            "commonground opinion: error: --replay-window-ms must be >= 1",
            file=sys.stderr,
        )
        return 2
    try:
        _check_sizes(args.input, args.comments)
        try:
            votes, statements = _load(args.input, args.comments)
        except OpinionInputError:
            raise
        except (ValueError, OverflowError, RecursionError) as error:
            # A value the readers cannot hold: a timestamp past 64 bits, a
            # number beyond Python's 4,300-digit conversion limit.
            raise OpinionInputError(
                args.input,
                0,
                "value",
                f"a value in the input is out of range ({type(error).__name__}: "
                f"{error})",
            ) from None
        _check_limits(votes, args)
        if (
            args.replay
            and args.mode == "polis"
            and votes.timestamp is None
            and len(votes)
        ):
            raise OpinionInputError(
                votes.path,
                1,
                "timestamp",
                "--replay needs timestamped votes (this input has no timestamps)",
            )
        model = OpinionMap(
            mode=args.mode,
            seed=args.seed,
            replay=args.replay,
            replay_window_ms=args.replay_window_ms,
        ).fit(votes, statements)
        result = model.result_
    except OpinionInputError as error:
        print(_one_line(str(error)), file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - last resort: no traceback for users
        print(
            _one_line(
                f"commonground opinion: internal error: {type(error).__name__}: {error}"
            ),
            file=sys.stderr,
        )
        return 1
    text = (
        result.to_json() if args.format == "json" else summary_text(result, statements)
    )
    _write(out, text)
    return 0


def _write(out: TextIO, text: str) -> None:
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        buffer.write(text.encode("utf-8"))
        buffer.flush()
    else:
        out.write(text)
        out.flush()


def _statement_text(statements: StatementTable | None) -> dict[str, str]:
    if statements is None:
        return {}
    return {
        sid: " ".join(text.split())
        for sid, text in zip(statements.ids, statements.text, strict=True)
        if text
    }


def _quote(sid: str, texts: dict[str, str], width: int = 90) -> str:
    text = texts.get(sid)
    if not text:
        return f"statement {sid}"
    if len(text) > width:
        text = text[: width - 1].rstrip() + "…"
    return f"[{sid}] {text}"


def summary_text(result: OpinionResult, statements: StatementTable | None) -> str:
    """A readable summary: groups, what each group thinks, what all agree on."""
    texts = _statement_text(statements)
    lines: list[str] = []
    info = result.input
    mode = result.mode + (
        " (replay)" if result.replay and result.mode == "polis" else ""
    )
    lines.append(f"Opinion map — {mode} mode")
    lines.append(
        f"{info.participants} participants, {info.statements} statements, "
        f"{info.votes} votes ({info.vote_rows} rows read)"
    )
    clustered = sum(1 for p in result.participants if p.group is not None)
    lines.append(f"{result.k} opinion group(s); {clustered} participants grouped")
    lines.append("")
    for group in result.groups:
        share = group.members / clustered * 100 if clustered else 0.0
        stability = (
            f", stability {group.stability:.2f}" if group.stability is not None else ""
        )
        lines.append(
            f"Group {chr(65 + group.id) if group.id < 26 else group.id}: "
            f"{group.members} members ({share:.0f}%){stability}"
        )
        if not group.representative:
            lines.append("  (no statement sets this group apart)")
        for rep in group.representative:
            verb = "agree" if rep.direction == "agree" else "disagree"
            percent = rep.n_success / rep.n_trials * 100 if rep.n_trials else 0.0
            lines.append(
                f"  {percent:3.0f}% {verb} ({rep.n_success}/{rep.n_trials}): "
                f"{_quote(rep.statement, texts)}"
            )
        lines.append("")
    consensus = result.consensus
    lines.append("What most participants agree on:")
    if not consensus.majority_agree:
        lines.append("  (nothing reaches a clear majority)")
    for item in consensus.majority_agree:
        lines.append(
            f"  {item.p_success * 100:3.0f}% agree: {_quote(item.statement, texts)}"
        )
    lines.append("What most participants disagree with:")
    if not consensus.majority_disagree:
        lines.append("  (nothing reaches a clear majority)")
    for item in consensus.majority_disagree:
        lines.append(
            f"  {item.p_success * 100:3.0f}% disagree: {_quote(item.statement, texts)}"
        )
    lines.append("Common ground (agreed across every group):")
    if not consensus.common_ground:
        lines.append("  (none)")
    for sid in consensus.common_ground:
        score = consensus.group_aware.get(sid)
        value = "" if score is None or score.agree is None else f" ({score.agree:.2f})"
        lines.append(f"  {_quote(sid, texts)}{value}")
    if result.diagnostics.warnings:
        lines.append("")
        lines.append("Warnings: " + ", ".join(result.diagnostics.warnings))
    return "\n".join(lines) + "\n"
