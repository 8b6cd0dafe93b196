"""RCTab's detailed JSON, detailed CSV and summary CSV reports (spec §7.3)."""

from __future__ import annotations

import json
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from ._config import UWI, RctabConfig
from ._tabulator import (
    CATEGORIES,
    FINAL_ROUND_SURPLUS,
    ZERO,
    PassResult,
    RoundRecord,
    hash_bucket,
    java_order_key,
)

GENERATED_BY = "Common Ground tally (RCTab 2.0.1 rules)"
INACTIVE_LABELS = {
    "overvotes": "Inactive Ballots by Overvotes",
    "skippedRankings": "Inactive Ballots by Skipped Rankings",
    "exhaustedChoices": "Inactive Ballots by Exhausted Choices",
    "repeatedRankings": "Inactive Ballots by Repeated Rankings",
}
TIE_NOTE = "*Tie resolved in accordance with election law"


# ------------------------------------------------------------------ JSON


_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def jackson_string(text: str) -> str:
    """A JSON string as Jackson writes it: raw UTF-8, upper-case \\u00XX escapes."""
    out = ['"']
    for character in text:
        if character in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[character])
        elif character < " ":
            out.append(f"\\u{ord(character):04X}")
        else:
            out.append(character)
    out.append('"')
    return "".join(out)


def jackson_json(value: Any, level: int = 0) -> str:
    """Text laid out like Jackson's default pretty printer with sorted keys."""
    if isinstance(value, dict):
        if not value:
            return "{ }"
        pad = "  " * (level + 1)
        items = sorted(value.items(), key=lambda item: java_order_key(item[0]))
        inner = ",\n".join(
            f"{pad}{jackson_string(key)} : {jackson_json(item, level + 1)}"
            for key, item in items
        )
        return "{\n" + inner + "\n" + "  " * level + "}"
    if isinstance(value, list):
        if not value:
            return "[ ]"
        return "[ " + ", ".join(jackson_json(item, level) for item in value) + " ]"
    if isinstance(value, str):
        return jackson_string(value)
    return json.dumps(value)


def _text(value: Decimal) -> str:
    return str(value)


def detailed_json(config: RctabConfig, result: PassResult) -> str:
    results: list[dict[str, Any]] = []
    last = len(result.rounds)
    for record in result.rounds:
        inactive = {key: _text(record.inactive[key]) for key in CATEGORIES}
        if record.final_round_surplus is not None:
            inactive[FINAL_ROUND_SURPLUS] = _text(record.final_round_surplus)
        elif record.number == last and config.surplus_mode:
            inactive[FINAL_ROUND_SURPLUS] = _text(ZERO)
        entries: list[dict[str, Any]] = []
        for kind, names in (
            ("elected", record.elected),
            ("eliminated", record.eliminated),
        ):
            for name in names:
                moved = record.transfers.get(name, {}) if record.number < last else {}
                entries.append(
                    {kind: name, "transfers": {k: _text(v) for k, v in moved.items()}}
                )
        results.append(
            {
                "inactiveBallots": inactive,
                "round": record.number,
                "tally": {name: _text(v) for name, v in record.tally.items()},
                "tallyResults": entries,
                "threshold": _text(record.threshold),
            }
        )
    declared = len(config.candidates) + (1 if config.has_undeclared_write_ins else 0)
    document = {
        "config": {
            "contest": config.contest_name,
            "date": config.contest_date,
            "generatedBy": GENERATED_BY,
            "jurisdiction": config.contest_jurisdiction,
            "office": config.contest_office,
        },
        "jsonFormatVersion": "1",
        "results": results,
        "summary": {
            "finalThreshold": _text(result.rounds[-1].threshold),
            "numCandidates": declared,
            "numWinners": result.number_of_winners,
            "totalNumBallots": str(result.total_ballots),
            "undervotes": result.undervotes,
        },
    }
    return jackson_json(document)


# ------------------------------------------------------------------ CSV


def csv_field(text: str, first: bool) -> str:
    """Apache Commons CSV default (minimal) quoting."""
    if not text:
        return '""' if first else ""
    quote = text[0] <= "#"
    if not quote:
        quote = any(c in text for c in (",", '"', "\r", "\n")) or text[-1] <= " "
    if quote:
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_line(fields: list[str]) -> str:
    return ",".join(csv_field(f, i == 0) for i, f in enumerate(fields))


def percentage(value: Decimal, divisor: Decimal) -> str:
    if divisor == 0:
        return ""
    with localcontext() as context:
        context.prec = 7
        context.rounding = ROUND_HALF_EVEN
        share = value / divisor
    with localcontext() as context:
        context.prec = 100
        scaled = int((share * 10000).to_integral_value(rounding=ROUND_DOWN))
    return repr(scaled / 100) + "%"


def _row_order(config: RctabConfig, first: RoundRecord) -> list[str]:
    names = list(first.tally)
    declared = [n for n in names if n != UWI]
    capacity = 16
    while len(names) > capacity * 3 // 4:
        capacity *= 2
    position = {name: index for index, name in enumerate(names)}
    hashed = sorted(declared, key=lambda n: (hash_bucket(n, capacity), position[n]))
    ordered = sorted(hashed, key=lambda n: -first.tally[n])
    if UWI in first.tally:
        ordered.append(UWI)
    return ordered


def detailed_csv(
    config: RctabConfig, result: PassResult, *, summary: bool = False
) -> str:  # noqa: C901, PLR0912
    rounds = result.rounds
    last = rounds[-1]
    single = config.winner_mode == "singleWinnerMajority"
    lines: list[list[str]] = []
    winners_by_round = sorted(
        result.winners,
        key=lambda n: (result.winner_rounds[n], java_order_key(n)),
    )
    lines += [
        ["Contest Information"],
        ["Generated By", GENERATED_BY],
        ["CSV Format Version", "1"],
        ["Type of Election", "Single-Winner" if single else "Multi-Winner"],
        ["Contest", config.contest_name],
        ["Jurisdiction", config.contest_jurisdiction],
        ["Office", config.contest_office],
        ["Date", config.contest_date],
        ["Winner(s)", ", ".join(winners_by_round)],
        ["Final Threshold", str(last.threshold)],
        [],
        ["Contest Summary"],
    ]
    if config.percentage_mode:
        assert config.percentage_threshold is not None
        to_elect = f"All candidates over the {config.percentage_threshold}% threshold"
    else:
        to_elect = str(result.number_of_winners)
    declared = len(config.candidates) + (1 if config.has_undeclared_write_ins else 0)
    excluded = {c.name for c in config.candidates if c.excluded} | set(
        result.earlier_winners
    )
    lines += [
        ["Number to be Elected", to_elect],
        ["Number of Candidates", str(declared - len(excluded))],
        ["Total Number of Ballots", str(result.total_ballots)],
        ["Number of Undervotes (No Rankings)", str(result.undervotes)],
        [],
    ]
    header = ["Rounds"]
    for record in rounds:
        header += [f"Round {record.number} Votes", "% of vote", "transfer"]
    lines.append(header)
    tie_used = False
    for label, attribute in (("Eliminated", "eliminated"), ("Elected", "elected")):
        row = [label]
        for record in rounds:
            names = getattr(record, attribute)
            labels = []
            for name in names:
                if name in record.tie_broken:
                    tie_used = True
                    labels.append(name + "*")
                else:
                    labels.append(name)
            row += ["; ".join(labels), "", ""]
        lines.append(row)

    first_active = rounds[0].active
    uses_round_divisor = single or config.percentage_mode
    for name in _row_order(config, rounds[0]):
        row = [name]
        for index, record in enumerate(rounds):
            value = record.tally.get(name, ZERO)
            if uses_round_divisor and not config.first_round_determines_threshold:
                divisor = record.active
            else:
                divisor = first_active
            if index + 1 < len(rounds):
                change = str(rounds[index + 1].tally.get(name, ZERO) - value)
            else:
                change = "0"
            row += [str(value), percentage(value, divisor), change]
        lines.append(row)
    lines.append(["Active Ballots"] + _flat([[str(r.active), "", ""] for r in rounds]))
    lines.append(
        ["Current Round Threshold"]
        + _flat([[str(r.threshold), "", ""] for r in rounds])
    )
    if not summary:
        for key in CATEGORIES:
            row = [INACTIVE_LABELS[key]]
            for index, record in enumerate(rounds):
                value = record.inactive[key]
                if index + 1 < len(rounds):
                    change = str(rounds[index + 1].inactive[key] - value)
                else:
                    change = "0"
                row += [str(value), "", change]
            lines.append(row)
    row = ["Inactive Ballots Total"]
    for index, record in enumerate(rounds):
        total = sum((record.inactive[k] for k in CATEGORIES), ZERO)
        if index + 1 < len(rounds):
            following = sum((rounds[index + 1].inactive[k] for k in CATEGORIES), ZERO)
            change = str(following - total)
        else:
            change = "0"
        row += [str(total), "", change]
    lines.append(row)
    if last.residual_total > 0:
        lines.append(
            ["Residual surplus"]
            + _flat([[str(r.residual_total), "", ""] for r in rounds])
        )
    if config.surplus_mode and result.number_of_winners > 1:
        row = ["Final Round Surplus"]
        for record in rounds:
            surplus = record.final_round_surplus
            shown = ""
            if surplus is not None and (surplus != 0 or _has_places(surplus)):
                shown = str(surplus)
            row += [shown, "", ""]
        lines.append(row)
    if tie_used:
        lines += [[], [TIE_NOTE]]
    return "".join(csv_line(fields) + "\n" for fields in lines)


def _has_places(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent < 0


def _flat(groups: list[list[str]]) -> list[str]:
    return [item for group in groups for item in group]
