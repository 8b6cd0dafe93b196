"""BLT ballot files (ERS/OpenSTV/Droop format, spec §6), read step by step.

Header, option lines, ballots, candidate names and title are each read by one
function; every problem raises :class:`TallyInputError` naming file and line.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ._election import MAX_BALLOT_WEIGHT, Election, Ranking
from ._errors import TallyInputError, quoted
from ._limits import parse_natural

# Candidate numbers and the header's counts: far above any limit, small enough
# to compare cheaply (the candidate limits are checked by count()).
MAX_HEADER_NUMBER = 10**9

__all__ = ["decode_text", "read_blt"]


def decode_text(data: bytes) -> str:
    """Ballot file bytes as text (UTF-8, undecodable bytes kept, no BOM)."""
    text = data.decode("utf-8", "surrogateescape")
    return text[1:] if text.startswith("\ufeff") else text


def _unquote_tokens(line: str) -> list[str] | None:
    """Quoted tokens of a line (``""`` inside = one quote), or None if unquoted."""
    stripped = line.strip()
    if not stripped.startswith('"'):
        return None
    tokens: list[str] = []
    i = 0
    n = len(stripped)
    while i < n:
        while i < n and stripped[i] in " \t,":
            i += 1
        if i >= n:
            break
        if stripped[i] != '"':
            # Unquoted trailing text after quoted tokens: keep as a token.
            tokens.append(stripped[i:].strip())
            break
        i += 1
        buffer: list[str] = []
        while True:
            if i >= n:
                return None
            ch = stripped[i]
            if ch == '"':
                if i + 1 < n and stripped[i + 1] == '"':
                    buffer.append('"')
                    i += 2
                    continue
                i += 1
                break
            buffer.append(ch)
            i += 1
        tokens.append("".join(buffer))
    return tokens


def _blt_name(line: str) -> str:
    tokens = _unquote_tokens(line)
    if tokens:
        return tokens[0]
    text = line.strip()
    return text[:-1].rstrip() if text.endswith(",") else text


class _LineError(Exception):
    """A problem in one BLT ballot line; the caller adds the line number."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(slots=True)
class _BltText:
    """The lines of a BLT file: as read (for names) and stripped (for the rest)."""

    path: str | Path
    raw_lines: list[str]
    stripped: list[str]

    @classmethod
    def of(cls, data: bytes, path: str | Path) -> _BltText:
        text = decode_text(data)
        raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return cls(path, raw_lines, [line.strip() for line in raw_lines])

    @property
    def total(self) -> int:
        return len(self.stripped)

    @property
    def last_line(self) -> int:
        """Number of the last non-blank line (0 if there is none)."""
        last_line = self.total
        while last_line > 0 and not self.stripped[last_line - 1]:
            last_line -= 1
        return last_line

    def next_line(self, position: int) -> int:
        """Index of the first non-blank line at or after ``position``."""
        while position < self.total and not self.stripped[position]:
            position += 1
        return position

    def error(self, line: int | str, field: str, message: str) -> TallyInputError:
        return TallyInputError(self.path, f"line {line}", field, message)


@dataclass(slots=True)
class _BltCandidates:
    """Candidate numbers 1..count (or nicknames once a [nick] line set them)."""

    count: int
    nicknames: dict[str, int] = field(default_factory=dict)

    def index(self, token: str, field: str) -> int:
        """0-based index of the candidate a ballot or option token names."""
        if token in self.nicknames:
            return self.nicknames[token]
        value = parse_natural(token, MAX_HEADER_NUMBER)
        if value is None:
            raise _LineError(field, f"{quoted(token)} is not a candidate number")
        if not 1 <= value <= self.count:
            raise _LineError(
                field, f"candidate number {value} is out of range 1..{self.count}"
            )
        return value - 1


@dataclass(slots=True)
class _BltOptions:
    """What the option lines between the header and the ballots declare."""

    withdrawn: set[int] = field(default_factory=set)
    tie_order: list[int] | None = None


def read_blt(data: bytes, path: str | Path = "<blt>") -> Election:
    """Parse BLT (ERS/OpenSTV/Droop) ballot text; names are kept byte-exact."""
    text = _BltText.of(data, path)
    candidates, seats, position = _blt_header(text)
    options = _BltOptions()
    start = _blt_options(text, text.next_line(position + 1), candidates, options)
    ballots, end = _blt_ballots(text, start, candidates)
    names, position = _blt_names(text, text.next_line(end + 1), candidates.count)
    title = ""
    if position < text.total:
        title = _blt_name(_strip_comma(text.raw_lines[position]))
    tie_order = options.tie_order
    return Election(
        tuple(names),
        ballots,
        withdrawn=frozenset(options.withdrawn),
        title=title,
        tie_order=tuple(tie_order) if tie_order is not None else None,
        seats=seats,
        source_file=Path(str(path)).name,
        source_format="blt",
    )


def _blt_header(text: _BltText) -> tuple[_BltCandidates, int, int]:
    """The ``CANDIDATES SEATS`` line: candidates, seats and its line index."""
    position = text.next_line(0)
    if position >= text.total:
        raise text.error(1, "header", "the file is empty")
    number = position + 1
    parts = _clean(text.stripped[position]).split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise text.error(number, "header", "expected 'CANDIDATES SEATS'")
    count = parse_natural(parts[0], MAX_HEADER_NUMBER)
    seats = parse_natural(parts[1], MAX_HEADER_NUMBER)
    if count is None or seats is None:
        raise text.error(
            number, "header", f"numbers up to {MAX_HEADER_NUMBER:,} are expected"
        )
    if count < 1:
        raise text.error(number, "header", "no candidates")
    if seats < 1 or seats > count:
        raise text.error(number, "seats", f"{seats} seats for {count} candidates")
    return _BltCandidates(count), seats, position


def _blt_options(
    text: _BltText, position: int, candidates: _BltCandidates, options: _BltOptions
) -> int:
    """Read the option lines from ``position``; the index of the first ballot line."""
    while position < text.total:
        line = _clean(text.stripped[position])
        try:
            if not _blt_option(line, candidates, options):
                break
        except _LineError as error:
            raise text.error(position + 1, error.field, error.message) from None
        position = text.next_line(position + 1)
    return position


def _blt_option(line: str, candidates: _BltCandidates, options: _BltOptions) -> bool:
    """Apply one option line (``-3 -4`` or ``[keyword ...]``); False if it is none."""
    if line.startswith("-"):
        for token in line.split():
            if not re.fullmatch(r"-\d+", token):
                raise _LineError("withdrawn", f"bad entry {quoted(token)}")
            options.withdrawn.add(candidates.index(token[1:], "withdrawn"))
        return True
    if not line.startswith("["):
        return False
    match = re.fullmatch(r"\[\s*(\w+)\s*(.*?)\s*\]", line)
    if not match:
        raise _LineError("option", "unterminated [option] line")
    keyword, arguments = match.group(1).lower(), match.group(2).split()
    if keyword == "nick":
        count = candidates.count
        if len(arguments) != count:
            raise _LineError(
                "nick", f"{len(arguments)} nicknames for {count} candidates"
            )
        candidates.nicknames = {nick: i for i, nick in enumerate(arguments)}
    elif keyword == "withdrawn":
        options.withdrawn.update(candidates.index(t, "withdrawn") for t in arguments)
    elif keyword == "tie":
        tie_order = [candidates.index(t, "tie") for t in arguments]
        options.tie_order = tie_order
        if len(set(tie_order)) != len(tie_order):
            raise _LineError("tie", "a candidate is listed twice")
    # Other options ([droop ...], [undeclared ...]) change no count.
    return True


def _blt_ballots(
    text: _BltText, start: int, candidates: _BltCandidates
) -> tuple[dict[Ranking, int], int]:
    """The ballot lines from ``start`` to the ``0`` line: ballots and that line."""
    stripped = text.stripped
    end = _terminator(stripped, start)
    if end is None:
        raise text.error(
            max(text.last_line, 1),
            "ballots",
            "missing the 0 line that ends the ballots",
        )
    # Identical ballot lines are parsed once: large files repeat them often.
    ballots: dict[Ranking, int] = {}
    for line, times in Counter(stripped[start:end]).items():
        if not line:
            continue
        try:
            key, weight = _blt_ballot(_clean(line), candidates)
        except _LineError as error:
            where = stripped.index(line, start) + 1
            raise text.error(where, error.field, error.message) from None
        ballots[key] = ballots.get(key, 0) + weight * times
    return ballots, end


def _blt_ballot(line: str, candidates: _BltCandidates) -> tuple[Ranking, int]:
    """One ballot line ``[(id)] WEIGHT PREF ... 0``: its ranking and weight."""
    tokens = line.split()
    if tokens and tokens[0].startswith("("):
        tokens = tokens[1:]
    if not tokens:
        raise _LineError("ballot", "empty ballot line")
    weight_text = tokens[0]
    weight = parse_natural(weight_text, MAX_BALLOT_WEIGHT)
    if not weight:
        raise _LineError(
            "weight",
            f"{quoted(weight_text)} is not a positive integer up to "
            f"{MAX_BALLOT_WEIGHT}",
        )
    if tokens[-1] != "0":
        raise _LineError("ballot", "the ballot does not end with 0")
    groups: list[tuple[int, ...]] = []
    for token in tokens[1:-1]:
        if token == "0":
            raise _LineError("ballot", "0 before the end of the ballot")
        if token == "-":
            groups.append(())
            continue
        groups.append(
            tuple(candidates.index(part, "preference") for part in token.split("="))
        )
    return tuple(groups), weight


def _blt_names(text: _BltText, position: int, count: int) -> tuple[list[str], int]:
    """The ``count`` candidate name lines from ``position``; names and next line."""
    names: list[str] = []
    for _ in range(count):
        if position >= text.total:
            raise text.error(
                text.last_line,
                "candidates",
                f"{len(names)} candidate names for {count} candidates",
            )
        name = _blt_name(_strip_comma(text.raw_lines[position]))
        if name in names:
            raise text.error(position + 1, "candidate", f"duplicate name {name!r}")
        names.append(name)
        position = text.next_line(position + 1)
    return names, position


def _clean(line: str) -> str:
    """A stripped line without one trailing comma."""
    return line[:-1].rstrip() if line.endswith(",") else line


def _terminator(stripped: list[str], start: int) -> int | None:
    """Index of the ``0`` line that ends the ballots, or None."""
    found = [_index(stripped, text, start) for text in ("0", "0,")]
    hits = [i for i in found if i is not None]
    if hits:
        return min(hits)
    for index in range(start, len(stripped)):
        if _clean(stripped[index]) == "0":
            return index
    return None


def _index(items: list[str], value: str, start: int) -> int | None:
    try:
        return items.index(value, start)
    except ValueError:
        return None


def _strip_comma(line: str) -> str:
    stripped = line.rstrip()
    return stripped[:-1] if stripped.endswith(",") else line
