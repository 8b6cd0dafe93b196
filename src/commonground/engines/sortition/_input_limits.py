"""What the sortition command accepts, checked before any selection work.

A selection's time and memory grow with the pool, the quotas and the panel, the
lottery with its size times the panel, and the legacy method with its simulated
draws times the pool (each draw keeps a pool-sized record). Beyond these limits
the command refuses with one line and exit status 2 instead of running for
hours or out of memory; the figures behind them are in docs/reliability.md
("Sortition limits").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ._model import Person, Quota, SortitionInputError

MAX_INPUT_BYTES = 64 * 1024 * 1024
MAX_POOL = 20_000
MAX_QUOTAS = 1_000
MAX_PANEL = 1_000
MAX_LOTTERY = 100_000
MAX_LOTTERY_SEATS = 10_000_000  # lottery size x panel size
MAX_LEGACY_WORK = 2_000_000  # legacy draws x pool size
MAX_QUOTA_NUMBER = 1_000_000_000
MESSAGE_WIDTH = 40


def quoted(text: str) -> str:
    """A value as an error quotes it, cut so that the message stays one short line."""
    if len(text) <= MESSAGE_WIDTH:
        return repr(text)
    return repr(text[: MESSAGE_WIDTH - 3] + "...")


def check_file(path: Path) -> None:
    """Refuse a file above MAX_INPUT_BYTES before reading it."""
    try:
        size = path.stat().st_size
    except OSError:
        return  # the reader reports what is wrong with it
    if size > MAX_INPUT_BYTES:
        raise SortitionInputError(
            f"{size:,} bytes; input files are read up to {MAX_INPUT_BYTES:,} bytes "
            "(docs/reliability.md)",
            source=str(path),
        )


def check_selection(
    people: Sequence[Person],
    quotas: Sequence[Quota],
    *,
    panel_size: int,
    lottery_size: int,
    algorithm: str,
    legacy_draws: int,
) -> None:
    """Refuse a selection beyond the limits, naming the limit."""
    pool = len(people)
    checks = [
        ("people", pool, MAX_POOL, f"{pool:,} people in the pool"),
        ("quotas", len(quotas), MAX_QUOTAS, f"{len(quotas):,} quotas"),
        ("panel-size", panel_size, MAX_PANEL, f"a panel of {panel_size:,}"),
        ("lottery-size", lottery_size, MAX_LOTTERY, f"{lottery_size:,} panels"),
        (
            "lottery-size",
            lottery_size * panel_size,
            MAX_LOTTERY_SEATS,
            f"{lottery_size:,} panels of {panel_size:,} seats",
        ),
    ]
    if algorithm == "legacy":
        checks.append(
            (
                "legacy-draws",
                legacy_draws * pool,
                MAX_LEGACY_WORK,
                f"{legacy_draws:,} legacy draws x {pool:,} people",
            )
        )
    for field, value, limit, what in checks:
        if value > limit:
            raise SortitionInputError(
                f"{what}; the command handles at most {limit:,} (docs/reliability.md)",
                field=field,
            )
