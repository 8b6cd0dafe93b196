"""``commonground tally``: count a ballot file, or run an RCTab configuration.

A thin layer over the public API (spec §7.1): read and validate the whole file,
count, print the result as text, JSON or CSV on stdout.  Errors go to stderr
as ``commonground tally: error: FILE:LOCATION: FIELD: message`` with exit
codes 0 ok, 1 internal, 2 usage, 3 input data, 4 configuration or unsupported
option, 5 tabulation aborted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from ._count import METHODS, STV_RULES, count
from ._errors import EXIT_INTERNAL, EXIT_USAGE, TallyError
from ._readers import FORMATS, load_ballots
from ._report import to_csv, to_text

PROG = "commonground tally"
PROGRESS_MIN_BYTES = 4 << 20

DESCRIPTION = """\
Count ballots and report every round.

  commonground tally BALLOTS --method METHOD [options]
  commonground tally --rctab-config CONFIG.json --output-dir DIR

BALLOTS is a BLT file, a simple CSV (ranked: "rank 1, rank 2, ..." columns;
grid: one column per candidate), NIST CDF JSON, an ES&S .xlsx export or
PrefLib .soi/.toc.  Results go to stdout; warnings and errors to stderr."""

EPILOG = """\
exit codes: 0 ok, 1 internal error, 2 usage, 3 input data error,
4 configuration error or unsupported option, 5 tabulation aborted.
The same input, options and seed always give byte-identical output."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{PROG}: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "ballots", nargs="?", metavar="BALLOTS", help="the ballot file to count"
    )
    parser.add_argument(
        "--method",
        choices=METHODS,
        help="counting method (required unless --rctab-config is given)",
    )
    parser.add_argument(
        "--seats",
        type=int,
        metavar="N",
        help="seats to fill (default: the BLT header for stv, else 1; "
        "irv, star, schulze and ranked-pairs elect one)",
    )
    parser.add_argument(
        "--rules",
        choices=STV_RULES,
        help="STV rule set: scottish (SSI 2007/42, default), meek, wigm",
    )
    parser.add_argument(
        "--seed",
        type=int,
        metavar="S",
        help="seed of the lot order (java.util.Random shuffle of the candidates) "
        "used when a tie survives every other rule and the file has no [tie] line",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "csv"),
        default="text",
        help="output: a readable report (default), the JSON result, or CSV",
    )
    parser.add_argument(
        "--input-format",
        choices=[f for f in FORMATS if f != "preflib"] + ["preflib"],
        default="auto",
        help="ballot file format (default: auto, by extension then content)",
    )
    parser.add_argument(
        "--max-score",
        type=int,
        default=5,
        metavar="K",
        help="highest score allowed on score ballots (default 5)",
    )
    parser.add_argument(
        "--contest",
        metavar="NAME",
        help="contest to count in a CDF JSON file holding several",
    )
    parser.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="progress bar on stderr while reading: auto (large files on a "
        "terminal), always or never",
    )
    parser.add_argument(
        "--rctab-config",
        metavar="CONFIG",
        help="run an RCTab v2.0.1 contest configuration instead of BALLOTS",
    )
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        help="folder for the RCTab reports (with --rctab-config)",
    )
    return parser


class ProgressBar:
    """A one-line progress bar on a terminal stream; never touches stdout."""

    def __init__(self, stream: IO[str], label: str) -> None:
        self.stream = stream
        self.label = label
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 if total <= 0 else min(100, done * 100 // total)
        if percent == self.last:
            return
        self.last = percent
        filled = percent * 30 // 100
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(f"\r{self.label} [{bar}] {percent:3d}%")
        if percent == 100:
            self.stream.write("\n")
        self.stream.flush()


def _progress_for(path: Path, mode: str) -> ProgressBar | None:
    if mode == "never":
        return None
    if mode == "auto":
        try:
            big = path.stat().st_size >= PROGRESS_MIN_BYTES
        except OSError:
            return None
        if not (big and sys.stderr.isatty()):
            return None
    return ProgressBar(sys.stderr, f"reading {path.name}")


def _write_stdout(text: str) -> None:
    try:
        # Names read from bytes keep undecodable bytes as surrogate escapes:
        # write those bytes back exactly.
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        # Lone surrogates from JSON escapes have no byte form: show them escaped.
        data = text.encode("utf-8", "backslashreplace")
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.rctab_config is not None:
        if args.ballots is not None or args.method is not None:
            parser.error("--rctab-config does not take BALLOTS or --method")
        if args.output_dir is None:
            parser.error("--rctab-config needs --output-dir DIR")
        from .rctab import tabulate_rctab

        def warn(message: str) -> None:
            sys.stderr.write(f"{PROG}: warning: {message}\n")

        written = tabulate_rctab(
            Path(args.rctab_config), Path(args.output_dir), on_warning=warn
        )
        _write_stdout("".join(f"{path}\n" for path in written))
        return 0
    if args.ballots is None:
        parser.error("the BALLOTS file is required (or --rctab-config)")
    if args.method is None:
        parser.error("--method is required")
    if args.output_dir is not None:
        parser.error("--output-dir goes with --rctab-config")
    path = Path(args.ballots)
    election = load_ballots(
        path,
        args.input_format,
        args.contest,
        progress=_progress_for(path, args.progress),
    )
    result = count(
        election,
        method=args.method,
        seats=args.seats,
        rules=args.rules,
        seed=args.seed,
        max_score=args.max_score,
    )
    for warning in result.warnings:
        sys.stderr.write(f"{PROG}: warning: {warning}\n")
    if args.format == "json":
        text = json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n"
    elif args.format == "csv":
        text = to_csv(result)
    else:
        text = to_text(result)
    _write_stdout(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``commonground tally`` with ``argv``; return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as stop:
        return int(stop.code or 0) if isinstance(stop.code, int) else EXIT_USAGE
    try:
        return _run(args, parser)
    except SystemExit as stop:
        return int(stop.code) if isinstance(stop.code, int) else EXIT_USAGE
    except TallyError as error:
        sys.stderr.write(f"{PROG}: error: {error}\n")
        return error.exit_code
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except Exception as error:  # noqa: BLE001 - last resort: no traceback
        if os.environ.get("COMMONGROUND_DEBUG"):
            raise
        sys.stderr.write(f"{PROG}: error: internal error: {error!r}\n")
        return EXIT_INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
