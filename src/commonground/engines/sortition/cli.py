"""``commonground sortition``: select a fair panel from files, or re-run a draw.

    commonground sortition --people PEOPLE.csv --quotas QUOTAS.csv --panel-size K
        [--algorithm leximin|maximin|legacy] [--lottery-size M] [--seed S]
        [--draw R] [--id-column NAME] [--household-columns A,B]
        [--time-limit SECONDS] [--quiet]
        [--format json|text] [--lottery-only] [--output FILE]
    commonground sortition draw LOTTERY.json --draw R [--format json|text]

Everything is computed before anything is written, so a failure leaves no
half-written output. Progress goes to standard error (``--quiet`` silences it).
A selection that reaches ``--time-limit`` (default 600 s) returns the best
distribution found with its proven gap, says so on standard error and records
the gap in the lottery file. Exit status: 0 success, 1 infeasible quotas, a
solver failure or the time limit passed with nothing to show, 2 bad input.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ._files import read_people, read_quotas
from ._input_limits import check_file, check_selection
from ._model import InfeasibleQuotasError, SortitionError, SortitionInputError
from ._progress import Progress
from ._selection import ALGORITHMS, Lottery, SelectionResult, select_panel

PROG = "commonground sortition"
DEFAULT_TIME_LIMIT = 600.0


def _random_number(text: str) -> int:
    try:
        value = int(text.strip().replace("_", ""), 10)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number (write it in decimal)"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _select_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Select a citizens' panel fairly: selection probabilities as equal as "
            "the quotas allow (LEXIMIN), a uniform lottery of panels anyone can "
            f"re-run, and the draw. Re-run a published draw with '{PROG} draw'."
        ),
    )
    parser.add_argument(
        "--people", required=True, help="people CSV (one column per feature)"
    )
    parser.add_argument(
        "--quotas", required=True, help="quotas CSV (feature,value,min,max)"
    )
    parser.add_argument(
        "--panel-size", required=True, type=_positive, help="seats on the panel"
    )
    parser.add_argument("--algorithm", choices=ALGORITHMS, default="leximin")
    parser.add_argument(
        "--lottery-size",
        type=_positive,
        default=1000,
        help="panels in the lottery (default 1000)",
    )
    parser.add_argument(
        "--seed", type=_seed, default=0, help="seed for every random choice (default 0)"
    )
    parser.add_argument(
        "--draw",
        type=_random_number,
        help="public random number R: draws panel R mod M",
    )
    parser.add_argument(
        "--id-column",
        help="column holding the person id (default: 'id', else the row number)",
    )
    parser.add_argument(
        "--household-columns",
        help="comma-separated address columns: at most one person per household",
    )
    parser.add_argument(
        "--legacy-draws",
        type=_positive,
        default=10_000,
        help="simulated draws for --algorithm legacy",
    )
    parser.add_argument(
        "--time-limit",
        type=_seconds,
        default=DEFAULT_TIME_LIMIT,
        help=(
            "stop after this many seconds with the best distribution found and its "
            f"proven gap (default {DEFAULT_TIME_LIMIT:g})"
        ),
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress on standard error"
    )
    parser.add_argument("--format", choices=("json", "text"), default="json")
    parser.add_argument(
        "--lottery-only",
        action="store_true",
        help="write only the lottery file (canonical JSON)",
    )
    parser.add_argument(
        "--output", help="write to this file instead of standard output"
    )
    return parser


def _draw_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} draw",
        description="Re-run a published draw: panel number R mod M of the lottery file.",
    )
    parser.add_argument("lottery", help="the published lottery file (JSON)")
    parser.add_argument(
        "--draw", required=True, type=_random_number, help="the public random number R"
    )
    parser.add_argument("--format", choices=("json", "text"), default="json")
    return parser


def _percent(value: float) -> str:
    return f"{100 * value:.2f}%"


def _text_report(result: SelectionResult) -> str:
    probabilities = result.probabilities
    n = len(probabilities)
    k = result.panel_size
    ordered = sorted(probabilities.items(), key=lambda item: (item[1], item[0]))
    lines = [
        f"Sortition: {result.algorithm.upper()} selection of {k} from a pool of {n}",
        "",
        "What the numbers mean",
        "  Each person's probability is their chance of being on the panel. They add",
        f"  up to {k}, the number of seats; if everyone had the same chance it would be",
        f"  {_percent(k / n)} ({k} of {n}). Quotas make some people harder to place, so",
        "  chances differ. LEXIMIN makes the smallest chance as large as possible, then",
        "  the next smallest, and so on: no one's chance can rise without lowering the",
        "  chance of someone who already has less.",
        "",
        f"  smallest chance  {_percent(result.stats.minimum)}",
        f"  largest chance   {_percent(result.stats.maximum)}",
        f"  Gini coefficient {_percent(result.stats.gini)} (0% = everyone equal)",
        *(
            [
                f"  STOPPED AT THE TIME LIMIT: the smallest chance may be up to "
                f"{_percent(result.gap)} below the best possible (proven bound).",
            ]
            if result.status != "optimal"
            else []
        ),
        "",
        "Lowest chances",
    ]
    for pid, probability in ordered[:5]:
        lines.append(f"  {pid:>12}  {_percent(probability)}")
    lines += ["Highest chances"]
    for pid, probability in ordered[-5:]:
        lines.append(f"  {pid:>12}  {_percent(probability)}")
    deviation = max(
        abs(result.lottery_probabilities[pid] - probabilities[pid])
        for pid in probabilities
    )
    lines += [
        "",
        "The lottery",
        f"  {result.lottery.size} panels, each drawn with probability 1/{result.lottery.size}.",
        f"  No one's chance in the lottery differs from the above by more than {_percent(deviation)}.",
        f"  SHA-256 of the lottery file: {result.lottery.sha256}",
        "  Publish the lottery file before the public random number R is known; the",
        f"  panel drawn is number R mod {result.lottery.size} (counting from 0). Anyone can check",
        f"  it with: {PROG} draw LOTTERY.json --draw R",
    ]
    if result.drawn is not None:
        lines += _drawn_lines(
            result.drawn.random_number,
            result.drawn.index,
            result.drawn.panel,
            result.lottery.size,
        )
    return "\n".join(lines) + "\n"


def _drawn_lines(
    random_number: int, index: int, panel: Sequence[str], size: int
) -> list[str]:
    return [
        "",
        f"Draw: R = {random_number}, {random_number} mod {size} = {index}",
        f"  panel {index}: {', '.join(panel)}",
    ]


def _write(data: bytes, output: str | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = Path(output)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent or Path("."), prefix=".sortition-"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def _show_progress(progress: Progress) -> None:
    print(
        f"{PROG}: [{progress.elapsed:6.1f} s] {progress.message}",
        file=sys.stderr,
        flush=True,
    )


def _run_draw(argv: Sequence[str]) -> int:
    args = _draw_parser().parse_args(list(argv))
    path = Path(args.lottery)
    try:
        check_file(path)
        data = path.read_bytes()
    except OSError as error:
        _error(f"{path}: cannot read file ({error.strerror})")
        return 2
    except SortitionInputError as error:
        _error(str(error))
        return 2
    try:
        lottery = Lottery.from_bytes(data, source=str(path))
        drawn = lottery.draw(args.draw)
    except SortitionInputError as error:
        _error(str(error))
        return 2
    except (ValueError, RecursionError):  # a 5,000-digit number; deep nesting
        _error(f"{path}: not a lottery file (a number too long or nesting too deep)")
        return 2
    file_sha = hashlib.sha256(data).hexdigest()
    canonical = file_sha == lottery.sha256
    if args.format == "json":
        payload = {
            "lottery": {
                "size": lottery.size,
                "sha256": file_sha,
                "canonical": canonical,
                "gap": lottery.gap,
            },
            "drawn": {
                "random_number": drawn.random_number,
                "index": drawn.index,
                "panel": list(drawn.panel),
            },
        }
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    else:
        lines = [
            f"Lottery file {path}: {lottery.size} panels of {lottery.panel_size}",
            f"  SHA-256 {file_sha}",
        ]
        if lottery.gap is not None:
            lines.append(
                "  computed with a time limit: its smallest chance may be up to "
                f"{_percent(lottery.gap)} below the best possible"
            )
        if not canonical:
            lines.append(
                "  (the file is not in canonical form; its canonical SHA-256 is "
                + lottery.sha256
                + ")"
            )
        lines += _drawn_lines(
            drawn.random_number, drawn.index, drawn.panel, lottery.size
        )
        sys.stdout.write("\n".join(lines) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] == "draw":
        return _run_draw(arguments[1:])
    args = _select_parser().parse_args(arguments)
    households = [
        c.strip() for c in (args.household_columns or "").split(",") if c.strip()
    ]
    try:
        quotas = read_quotas(args.quotas)
        people = read_people(
            args.people, quotas, id_column=args.id_column, household_columns=households
        )
        check_selection(
            people,
            quotas,
            panel_size=args.panel_size,
            lottery_size=args.lottery_size,
            algorithm=args.algorithm,
            legacy_draws=args.legacy_draws,
        )
        result = select_panel(
            people,
            quotas,
            args.panel_size,
            algorithm=args.algorithm,
            lottery_size=args.lottery_size,
            seed=args.seed,
            random_number=args.draw,
            legacy_draws=args.legacy_draws,
            time_limit=args.time_limit,
            progress=None if args.quiet else _show_progress,
        )
    except SortitionInputError as error:
        _error(str(error))
        return 2
    except InfeasibleQuotasError as error:
        _error(str(error))
        return 1
    except SortitionError as error:
        _error(str(error))
        return 1
    if result.status != "optimal":
        print(
            f"{PROG}: warning: stopped at the time limit ({args.time_limit:g} s): "
            f"the smallest chance, {_percent(result.stats.minimum)}, may be up to "
            f"{_percent(result.gap)} below the best possible (a proven bound); the "
            "lottery file records this gap. Allow more time for the exact result.",
            file=sys.stderr,
        )
    if args.lottery_only:
        data = result.lottery.to_bytes()
    elif args.format == "json":
        data = (json.dumps(result.to_json(), ensure_ascii=False) + "\n").encode("utf-8")
    else:
        data = _text_report(result).encode("utf-8")
    try:
        _write(data, args.output)
    except OSError as error:
        _error(f"{args.output}: cannot write ({error.strerror})")
        return 2
    return 0
