"""Result renderings for people and spreadsheets: text report and CSV (spec §7.2)."""

from __future__ import annotations

import csv
import io

from ._result import Result, Round, format_decimal

ROUND_METHODS = ("irv", "stv", "star")
CONDORCET_METHODS = ("schulze", "ranked-pairs")


def _join(names: list[str] | tuple[str, ...]) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def to_csv(result: Result) -> str:
    """CSV: one row of tallies per round, or totals, or the pairwise matrix."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    d = result.decimals
    candidates = [
        c for c in result.input.candidates if c not in set(result.input.withdrawn)
    ]
    if result.method in CONDORCET_METHODS:
        matrix = result.rounds[0].extra["pairwise"]
        writer.writerow(["", *candidates])
        for x in candidates:
            writer.writerow([x, *("" if x == y else matrix[x][y] for y in candidates)])
    elif result.method in ROUND_METHODS:
        writer.writerow(
            ["round", "action", "subject", *candidates, "exhausted", "rounding_loss"]
        )
        for stage in result.rounds:
            writer.writerow(
                [
                    stage.round,
                    stage.action,
                    "; ".join(stage.subject),
                    *(format_decimal(stage.tallies.get(c, 0), d) for c in candidates),
                    format_decimal(stage.exhausted, d),
                    format_decimal(stage.rounding_loss, d),
                ]
            )
    else:
        writer.writerow(["candidate", "total", "elected"])
        tallies = result.rounds[0].tallies
        winners = set(result.winners)
        for c in candidates:
            writer.writerow(
                [c, format_decimal(tallies[c], d), "yes" if c in winners else "no"]
            )
    return buffer.getvalue()


def _iterations(stage: Round) -> str:
    count = int(stage.extra.get("iterations", 0))
    return f"{count} iteration" + ("" if count == 1 else "s")


def _sentence(result: Result, stage: Round, previous: Round | None) -> str:
    d = result.decimals

    def amount(value: int) -> str:
        return format_decimal(value, d)

    parts: list[str] = []
    exhausted_now = stage.exhausted - (previous.exhausted if previous else 0)
    gains = [
        (name, value)
        for name, value in stage.transfers.items()
        if value > 0 and name not in stage.subject
    ]
    gains.sort(key=lambda item: -item[1])
    moved = ", ".join(f"{amount(v)} to {n}" for n, v in gains)
    if stage.action in ("first_count", "count") and result.method in ROUND_METHODS:
        parts.append("first preferences were counted")
    elif stage.action == "count":
        parts.append("the votes were counted")
    elif stage.action in ("exclusion", "elimination"):
        who = _join(stage.subject)
        if "keep_factors" in stage.extra:
            parts.append(
                f"{who} was excluded and the count was repeated ({_iterations(stage)})"
            )
        else:
            text = f"{who} was excluded; "
            if gains:
                first_name, first_value = gains[0]
                text += f"{amount(first_value)} of their votes moved to {first_name}"
                if len(gains) > 1:
                    text += ", " + ", ".join(
                        f"{amount(v)} to {n}" for n, v in gains[1:]
                    )
            else:
                text += "none of their votes moved on"
            text += f", {amount(exhausted_now)} exhausted"
            parts.append(text)
    elif stage.action == "surplus":
        if "keep_factors" in stage.extra:
            parts.append(
                f"the surplus of {_join(stage.subject)} was shared out by "
                f"adjusting keep factors ({_iterations(stage)})"
            )
        else:
            values = ", ".join(amount(v) for v in stage.transfer_values or ())
            text = (
                f"the surplus of {_join(stage.subject)} "
                f"({amount(stage.amount or 0)} votes) was transferred"
            )
            if values:
                text += f" at {values} per paper"
            text += f"; {moved or 'nothing moved'}, {amount(exhausted_now)} exhausted"
            if stage.rounding_loss:
                text += f", {amount(stage.rounding_loss)} lost to rounding"
            parts.append(text)
    elif stage.action == "scoring":
        parts.append("the scores were added up")
    elif stage.action == "runoff":
        a, b = stage.subject
        parts.append(
            f"in the runoff {stage.tallies[a]} ballots preferred {a}, "
            f"{stage.tallies[b]} preferred {b} and "
            f"{stage.extra.get('no_preference', '0')} had no preference"
        )
    elif stage.action == "pairwise":
        parts.append("every pair of candidates was compared head to head")
    if stage.elected:
        verb = "was" if len(stage.elected) == 1 else "were"
        parts.append(f"{_join(stage.elected)} {verb} elected")
    if stage.excluded and stage.round == len(result.rounds):
        verb = "was" if len(stage.excluded) == 1 else "were"
        parts.append(f"{_join(stage.excluded)} {verb} not elected")
    elif stage.excluded:
        verb = "has" if len(stage.excluded) == 1 else "have"
        parts.append(f"{_join(stage.excluded)} {verb} the fewest votes and is excluded")
    sentence = "; ".join(parts)
    return f"Round {stage.round}: {sentence[:1].upper()}{sentence[1:]}."


def to_text(result: Result) -> str:
    """A readable report: summary, round table, one sentence per round."""
    d = result.decimals
    lines: list[str] = []
    info = result.input
    title = info.title or info.file or "Election"
    lines.append(title)
    lines.append("=" * len(title))
    method = result.method + (f" ({result.rules} rules)" if result.rules else "")
    lines.append(f"Method: {method}; seats: {result.seats}")
    lines.append(
        f"Valid ballots: {info.ballots}; invalid: {info.invalid_count}"
        + (
            f"; quota: {format_decimal(result.quota, d)}"
            if result.quota is not None
            else ""
        )
    )
    if info.withdrawn:
        lines.append("Withdrawn: " + ", ".join(info.withdrawn))
    if result.seed is not None:
        lines.append(f"Seed: {result.seed}")
    lines.append("")
    candidates = [c for c in info.candidates if c not in set(info.withdrawn)]
    rounds = result.rounds
    if result.method not in CONDORCET_METHODS and rounds:
        header = ["Candidate", *(f"Round {r.round}" for r in rounds)]
        rows = [
            [c, *(format_decimal(r.tallies.get(c, 0), d) for r in rounds)]
            for c in candidates
        ]
        rows.append(["Exhausted", *(format_decimal(r.exhausted, d) for r in rounds)])
        if any(r.rounding_loss_total for r in rounds):
            rows.append(
                [
                    "Rounding loss",
                    *(format_decimal(r.rounding_loss_total, d) for r in rounds),
                ]
            )
        lines.extend(_table(header, rows))
    elif rounds:
        matrix = rounds[0].extra["pairwise"]
        header = ["Preferred over:", *candidates]
        rows = [
            [x, *("-" if x == y else matrix[x][y] for y in candidates)]
            for x in candidates
        ]
        lines.extend(_table(header, rows))
    lines.append("")
    previous: Round | None = None
    for stage in rounds:
        lines.append(_sentence(result, stage, previous))
        previous = stage
    lines.append("")
    lines.append("Elected: " + (", ".join(result.winners) or "nobody"))
    for tie in result.tie_breaks:
        chosen = tie.chosen if isinstance(tie.chosen, str) else ", ".join(tie.chosen)
        lines.append(
            f"Tie in round {tie.round} ({tie.purpose.replace('_', ' ')}) between "
            f"{', '.join(tie.tied)}: {chosen}, decided by "
            f"{tie.resolved_by.replace('_', ' ')}."
        )
    for warning in result.warnings:
        lines.append(f"Warning: {warning}")
    return "\n".join(lines) + "\n"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [
        max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))
    ]
    out = []
    for index, row in enumerate([header, *rows]):
        cells = [
            str(cell).ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        out.append("  ".join(cells).rstrip())
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    return out
