"""``commonground opinion``: votes in, opinion map out (spec §7).

Reads a Pol.is openData export folder or a votes CSV (ours, a Pol.is
``votes.csv`` or ``participants-votes.csv``), prints the JSON result (or a
readable summary with ``--format text``).  Exit 0 on success, 2 on a usage or
input error (``PATH:LINE: FIELD: MESSAGE`` on stderr), 1 on an internal error.
Input remarks (an unknown column ignored) go to stderr as
``warning: PATH:LINE: FIELD: MESSAGE``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ._data import (
    OpinionInputError,
    OpinionInputWarning,
    StatementTable,
    VoteTable,
)
from ._estimator import OpinionMap
from ._readers import read_polis_export, read_statements_csv, read_votes_csv
from ._result import OpinionResult

__all__ = ["main"]


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
        votes, statements = _load(args.input, args.comments)
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
        print(str(error), file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - last resort: no traceback for users
        print(
            f"commonground opinion: internal error: {type(error).__name__}: {error}",
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
