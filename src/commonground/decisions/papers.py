"""Ballot papers: reading a member's marks, their canonical form, and the files we publish.

A paper's canonical form is compact JSON with sorted keys:
``{"ranking": [[2], [0], [1]]}`` for ranked methods (rank groups of option positions,
first preference first; a group holds several positions only where equal ranks are
allowed, i.e. Schulze) and ``{"grid": [1, 0, 0]}`` for the others (one integer per
option: a mark for yes/no, an approval, or a score). ``parse(serialise(p)) == p``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from commonground.core.canonical import canonical_json

from .models import Method

MAX_FIELD_LENGTH = 8


@dataclass
class PaperErrors(Exception):
    """Field-level problems with a paper: ``{field name: message}`` plus general ones."""

    fields: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return " ".join(self.general + list(self.fields.values()))

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)


def serialise(paper: Mapping[str, Any]) -> str:
    """The paper as canonical JSON (what is stored, hashed and counted)."""
    return canonical_json(paper)


def _first(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return str(value).strip()


def _all(data: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(data, "getlist", None)
    if getlist is not None:
        return [str(v) for v in getlist(name)]
    value = data.get(name, [])
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)] if value != "" else []


def _small_int(text: str) -> int | None:
    if (
        not text
        or len(text) > MAX_FIELD_LENGTH
        or not (text.isascii() and text.isdigit())
    ):
        return None
    return int(text)


def read_marks(
    *, method: str, option_count: int, max_score: int, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Turn submitted form data into a canonical paper, or raise PaperErrors.

    Fields: ``choice`` (yes/no: an option position), ``approve`` (approval: positions,
    repeatable), ``score_<position>`` (score, STAR), ``rank_<position>`` (ranked: 1..n or
    blank). Unknown positions are refused, never ignored.
    """
    errors = PaperErrors()
    if method == Method.YES_NO:
        choice = _small_int(_first(data, "choice"))
        if choice is None or choice >= option_count:
            errors.fields["choice"] = _("Choose one of the answers.")
            raise errors
        grid = [0] * option_count
        grid[choice] = 1
        return {"grid": grid}
    if method == Method.APPROVAL:
        grid = [0] * option_count
        for text in _all(data, "approve"):
            position = _small_int(text.strip())
            if position is None or position >= option_count:
                errors.general.append(_("That option is not on this ballot."))
                raise errors
            grid[position] = 1
        if not any(grid):
            errors.fields["approve"] = _("Tick at least one option you approve of.")
            raise errors
        return {"grid": grid}
    if method in (Method.SCORE, Method.STAR):
        _refuse_unknown_fields(data, "score_", option_count, errors)
        grid = []
        for position in range(option_count):
            name = f"score_{position}"
            text = _first(data, name)
            value = 0 if text == "" else _small_int(text)
            if value is None or value > max_score:
                errors.fields[name] = _("Give a whole number from 0 to %(max)s.") % {
                    "max": max_score
                }
                value = 0
            grid.append(value)
        if errors:
            raise errors
        if not any(grid):
            errors.general.append(_("Give at least one option a score above 0."))
            raise errors
        return {"grid": grid}
    return {"ranking": _read_ranking(method, option_count, data, errors)}


def _refuse_unknown_fields(
    data: Mapping[str, Any], prefix: str, option_count: int, errors: PaperErrors
) -> None:
    for name in data:
        if name.startswith(prefix):
            position = _small_int(name[len(prefix) :])
            if position is None or position >= option_count:
                errors.general.append(_("That option is not on this ballot."))
                raise errors


def _read_ranking(
    method: str, option_count: int, data: Mapping[str, Any], errors: PaperErrors
) -> list[list[int]]:
    _refuse_unknown_fields(data, "rank_", option_count, errors)
    ranks: dict[int, list[int]] = {}
    for position in range(option_count):
        name = f"rank_{position}"
        text = _first(data, name)
        if text == "":
            continue
        rank = _small_int(text)
        if rank is None or not 1 <= rank <= option_count:
            errors.fields[name] = _(
                "Choose a rank from 1 to %(count)s, or leave it blank."
            ) % {"count": option_count}
            continue
        ranks.setdefault(rank, []).append(position)
    if errors:
        raise errors
    if not ranks:
        errors.general.append(
            _("Rank at least one candidate (1 for your first choice).")
        )
        raise errors
    equal_allowed = method == Method.SCHULZE
    if not equal_allowed:
        for rank, positions in ranks.items():
            if len(positions) > 1:
                for position in positions:
                    errors.fields[f"rank_{position}"] = _(
                        "Rank %(rank)s is given to more than one candidate; "
                        "give each candidate a different rank."
                    ) % {"rank": rank}
    ordered = sorted(ranks)
    expected = 1
    for rank in ordered:
        if rank != expected:
            errors.general.append(
                _(
                    "You skipped rank %(rank)s: number your choices 1, 2, 3 "
                    "without gaps."
                )
                % {"rank": expected}
            )
            break
        expected += len(ranks[rank]) if equal_allowed else 1
    if errors:
        raise errors
    return [sorted(ranks[rank]) for rank in ordered]


def marks_from_paper(paper: Mapping[str, Any]) -> dict[str, Any]:
    """The form values that show ``paper`` again (for a member re-voting)."""
    if "grid" in paper:
        return {"grid": list(paper["grid"])}
    ranks: dict[int, int] = {}
    rank = 1
    for group in paper["ranking"]:
        for position in group:
            ranks[position] = rank
        rank += len(group)
    return {"ranks": ranks}


# Files anyone can recount with ``commonground tally``.


def ballots_to_blt(
    *,
    candidates: Sequence[str],
    seats: int,
    title: str,
    papers: Sequence[Mapping[str, Any]],
) -> str:
    """BLT: aggregated identical rankings (weight first), names quoted, the title last.

    Equal ranks (Schulze) are written with ``=`` between the tied candidates.
    """
    weights: dict[tuple[tuple[int, ...], ...], int] = {}
    for paper in papers:
        key = tuple(tuple(group) for group in paper["ranking"])
        weights[key] = weights.get(key, 0) + 1
    lines = [f"{len(candidates)} {seats}"]
    for ranking in sorted(weights):
        marks = " ".join("=".join(str(p + 1) for p in group) for group in ranking)
        lines.append(f"{weights[ranking]} {marks} 0")
    lines.append("0")
    lines.extend(_blt_quote(name) for name in candidates)
    lines.append(_blt_quote(title))
    return "\n".join(lines) + "\n"


def _blt_quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def ballots_to_csv(
    *, candidates: Sequence[str], papers: Sequence[Mapping[str, Any]]
) -> str:
    """CSV: ``rank 1..n`` columns of names for ranked papers, one column per option else.

    Cells that a spreadsheet would read as a formula are prefixed with a quote.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if papers and "ranking" in papers[0]:
        width = max(len(paper["ranking"]) for paper in papers)
        writer.writerow([f"rank {n}" for n in range(1, width + 1)])
        for paper in papers:
            row = [_csv_safe(candidates[group[0]]) for group in paper["ranking"]]
            writer.writerow(row + [""] * (width - len(row)))
    else:
        writer.writerow([_csv_safe(name) for name in candidates])
        for paper in papers:
            writer.writerow(paper["grid"])
    return out.getvalue()


def _csv_safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
