"""Readers for votes and statements (spec §2).

Every reader validates completely before returning: the first problem raises
:class:`OpinionInputError` naming the file, the line (1 = header; ``item N``
in JSON) and the field.  Nothing is partially loaded.

Pol.is files are matched by column name, in any order, so every layout Pol.is
has exported reads alike (docs/opinion-fidelity.md, "Pol.is export layouts"):
the older ``comments.csv`` (``timestamp,datetime,...``) and the current one
(no ``datetime``; ``is-meta``, ``is-seed``, ``group-informed-consensus``), a
``participants-votes.csv`` with or without ``xid``, timestamps in milliseconds
(Clojure export) or seconds (TypeScript export).  A missing required column is
an error naming it; an unknown one is ignored with an
:class:`OpinionInputWarning`.
"""

from __future__ import annotations

import csv
import json
import os
import warnings
from collections.abc import Collection, Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._data import (
    OpinionInputError,
    OpinionInputWarning,
    StatementTable,
    VoteTable,
    parse_timestamp,
    parse_vote,
)

__all__ = [
    "read_polis_api_json",
    "read_polis_export",
    "read_polis_summary",
    "read_statements_csv",
    "read_votes_csv",
    "votes_csv_kind",
]

OUR_VOTES_HEADER = ["participant", "statement", "vote", "timestamp"]
OUR_STATEMENT_COLUMNS = ("statement", "moderated", "is_meta", "text")
# Every column any Pol.is export has written, per file; the required ones first.
POLIS_VOTES_REQUIRED = ("timestamp", "comment-id", "voter-id", "vote")
POLIS_VOTES_COLUMNS = (*POLIS_VOTES_REQUIRED, "datetime")
POLIS_MATRIX_COLUMNS = (
    "participant",
    "xid",
    "group-id",
    "n-comments",
    "n-votes",
    "n-agree",
    "n-disagree",
)
POLIS_COMMENTS_REQUIRED = ("comment-id", "moderated")
POLIS_COMMENTS_COLUMNS = (
    *POLIS_COMMENTS_REQUIRED,
    "timestamp",
    "datetime",
    "author-id",
    "agrees",
    "disagrees",
    "is-meta",
    "is-seed",
    "group-informed-consensus",
    "comment-body",
)
# Pol.is's TypeScript export writes seconds, its Clojure export milliseconds.
# Values all in [1e9, 1e11) are seconds: 2001 to 5138 in seconds, but January
# 1970 to 1973 in milliseconds, decades before Pol.is existed.
SECONDS_RANGE = (10**9, 10**11)


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) of every CSV record, quote-aware."""
    try:
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
    except FileNotFoundError:
        raise OpinionInputError(str(path), 0, "file", "no such file") from None
    except IsADirectoryError:
        raise OpinionInputError(str(path), 0, "file", "is a directory") from None
    with handle:
        reader = csv.reader(handle, strict=True)
        start = 1
        try:
            for fields in reader:
                yield start, fields
                start = reader.line_num + 1
        except csv.Error as error:
            raise OpinionInputError(
                str(path), start, "row", f"malformed CSV: {error}"
            ) from None
        except UnicodeDecodeError as error:
            raise OpinionInputError(
                str(path), start, "file", f"not UTF-8: {error.reason}"
            ) from None


def _header(path: Path) -> list[str]:
    for _line, fields in _records(path):
        return fields
    raise OpinionInputError(str(path), 1, "header", "empty file (no header)")


def _column_name(header: Sequence[str], index: int) -> str:
    return header[index] or f"column {index + 1}"


def _ignore_column(path: Path, header: Sequence[str], index: int) -> None:
    warnings.warn(
        OpinionInputWarning(
            str(path), 1, _column_name(header, index), "unknown column, ignored"
        ),
        stacklevel=2,
    )


def _positions(
    path: Path,
    header: Sequence[str],
    *,
    required: Sequence[str],
    known: Collection[str],
    layout: str,
) -> dict[str, int]:
    """Column name -> position; checks duplicates and required columns, warns
    about unknown ones."""
    position: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in position:
            raise OpinionInputError(
                str(path), 1, _column_name(header, i), "duplicate column"
            )
        position[name] = i
    for name in required:
        if name not in position:
            raise OpinionInputError(
                str(path),
                1,
                name,
                f"missing column (a Pol.is {layout} needs {', '.join(required)})",
            )
    for i, name in enumerate(header):
        if name not in known:
            _ignore_column(path, header, i)
    return position


def _votes_kind(path: Path, header: list[str]) -> str:
    if header == OUR_VOTES_HEADER:
        return "votes-csv"
    names = set(header)
    if names & {"comment-id", "voter-id"}:
        return "polis-votes"
    if names & set(POLIS_MATRIX_COLUMNS[1:]):
        return "polis-matrix"
    raise OpinionInputError(
        str(path),
        1,
        "header",
        "expected participant,statement,vote,timestamp (or a Pol.is votes.csv "
        f"or participants-votes.csv header), found {','.join(header)!r}",
    )


def votes_csv_kind(path: str | os.PathLike[str]) -> str:
    """``votes-csv``, ``polis-votes`` or ``polis-matrix`` from the header."""
    return _votes_kind(Path(path), _header(Path(path)))


class _Encoder:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def code(self, key: str) -> int:
        return self.index.setdefault(key, len(self.index))

    def ids(self) -> tuple[str, ...]:
        return tuple(self.index)


def _check_width(path: Path, line: int, fields: list[str], width: int) -> None:
    if len(fields) != width:
        raise OpinionInputError(
            str(path),
            line,
            "row",
            f"expected {width} columns, found {len(fields)}",
        )


def _polis_milliseconds(times: NDArray[np.int64]) -> NDArray[np.int64]:
    """Milliseconds from a Pol.is file's timestamps (seconds when all look so)."""
    low, high = SECONDS_RANGE
    if len(times) and bool(((times >= low) & (times < high)).all()):
        return times * 1000
    return times


def read_votes_csv(path: str | os.PathLike[str]) -> VoteTable:
    """Votes from our CSV (§2.1), a Pol.is ``votes.csv`` or ``participants-votes.csv``.

    Pol.is files are matched by column name (``votes.csv`` needs
    ``timestamp,comment-id,voter-id,vote``; ``datetime`` is ignored).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "v.csv"
    >>> _ = p.write_text("participant,statement,vote,timestamp\\na,s1,agree,\\n")
    >>> read_votes_csv(p).vote.tolist()
    [1]
    """
    path = Path(path)
    header = _header(path)
    kind = _votes_kind(path, header)
    if kind == "polis-matrix":
        return _read_matrix(path, header)
    polis = kind == "polis-votes"
    if polis:
        field_names = ("voter-id", "comment-id", "vote", "timestamp")
        position = _positions(
            path,
            header,
            required=POLIS_VOTES_REQUIRED,
            known=POLIS_VOTES_COLUMNS,
            layout="votes.csv",
        )
        columns = tuple(position[name] for name in field_names)
    else:
        field_names = ("participant", "statement", "vote", "timestamp")
        columns = (0, 1, 2, 3)
    pick = itemgetter(*columns)
    p_enc, s_enc = _Encoder(), _Encoder()
    p_codes: list[int] = []
    s_codes: list[int] = []
    values: list[int] = []
    times: list[int] = []
    lines: list[int] = []
    has_time: bool | None = None
    for line, fields in _records(path):
        if line == 1:
            continue
        if not fields:
            continue
        _check_width(path, line, fields, len(header))
        participant, statement, vote, stamp = pick(fields)
        if not participant:
            raise OpinionInputError(str(path), line, field_names[0], "empty id")
        if not statement:
            raise OpinionInputError(str(path), line, field_names[1], "empty id")
        value = parse_vote(vote.strip() if polis else vote)
        if value is None or (polis and vote.strip() not in ("1", "-1", "0")):
            accepted = "1, -1, 0" if polis else "1, -1, 0, agree, disagree, pass"
            raise OpinionInputError(
                str(path), line, field_names[2], f"{vote!r} is not one of {accepted}"
            )
        present = stamp != ""
        if has_time is None:
            has_time = present
        elif has_time != present:
            raise OpinionInputError(
                str(path),
                line,
                field_names[3],
                "timestamps must be given in every row or in none",
            )
        if present:
            if polis and not stamp.strip().lstrip("-").isdecimal():
                raise OpinionInputError(
                    str(path),
                    line,
                    field_names[3],
                    f"not an integer number of milliseconds or seconds: {stamp!r}",
                )
            try:
                times.append(parse_timestamp(stamp))
            except ValueError as error:
                raise OpinionInputError(
                    str(path), line, field_names[3], str(error)
                ) from None
        p_codes.append(p_enc.code(participant))
        s_codes.append(s_enc.code(statement))
        values.append(value)
        lines.append(line)
    timestamp: NDArray[np.int64] | None = None
    if has_time:
        timestamp = np.asarray(times, dtype=np.int64)
        if polis:
            timestamp = _polis_milliseconds(timestamp)
    return VoteTable(
        participant_ids=p_enc.ids(),
        statement_ids=s_enc.ids(),
        participant=np.asarray(p_codes, dtype=np.int32),
        statement=np.asarray(s_codes, dtype=np.int32),
        vote=np.asarray(values, dtype=np.int8),
        timestamp=timestamp,
        source=kind,
        line=np.asarray(lines, dtype=np.int32),
        path=str(path),
    )


def _matrix_layout(path: Path, header: list[str]) -> tuple[int, int]:
    """(position of ``participant``, position of the first comment-id column).

    The per-participant columns (``participant``, ``xid``, ``group-id``,
    ``n-...``) come first in any order, then one column per comment id; an
    unknown column among the first ones is ignored with a warning.
    """
    known = [i for i, name in enumerate(header) if name in POLIS_MATRIX_COLUMNS]
    names = [header[i] for i in known]
    for i in known:
        if names.count(header[i]) > 1:
            raise OpinionInputError(str(path), 1, header[i], "duplicate column")
    if "participant" not in names:
        raise OpinionInputError(
            str(path),
            1,
            "participant",
            "missing column (a Pol.is participants-votes.csv needs participant)",
        )
    first_vote = max(known) + 1
    for i in range(first_vote):
        if header[i] not in POLIS_MATRIX_COLUMNS:
            _ignore_column(path, header, i)
    statement_ids = header[first_vote:]
    for j, sid in enumerate(statement_ids):
        if not sid:
            raise OpinionInputError(
                str(path),
                1,
                "header",
                f"empty comment id in column {first_vote + j + 1}",
            )
    if len(set(statement_ids)) != len(statement_ids):
        raise OpinionInputError(str(path), 1, "header", "duplicate comment ids")
    return header.index("participant"), first_vote


def _read_matrix(path: Path, header: list[str]) -> VoteTable:
    """A Pol.is ``participants-votes.csv``: rows then columns in file order."""
    p_col, first_vote = _matrix_layout(path, header)
    p_enc = _Encoder()
    chunks_p: list[np.ndarray[Any, Any]] = []
    chunks_s: list[np.ndarray[Any, Any]] = []
    chunks_v: list[np.ndarray[Any, Any]] = []
    chunks_l: list[np.ndarray[Any, Any]] = []
    cell_value = {"1": 1, "-1": -1, "0": 0}
    width = len(header)
    for line, fields in _records(path):
        if line == 1 or not fields:
            continue
        _check_width(path, line, fields, width)
        participant = fields[p_col]
        if not participant:
            raise OpinionInputError(str(path), line, "participant", "empty id")
        if participant in p_enc.index:
            raise OpinionInputError(
                str(path), line, "participant", f"duplicate participant {participant}"
            )
        code = p_enc.code(participant)
        cols: list[int] = []
        vals: list[int] = []
        for j, cell in enumerate(fields[first_vote:]):
            if cell == "":
                continue
            value = cell_value.get(cell)
            if value is None:
                raise OpinionInputError(
                    str(path),
                    line,
                    header[first_vote + j],
                    f"{cell!r} is not one of 1, -1, 0 or empty",
                )
            cols.append(j)
            vals.append(value)
        chunks_p.append(np.full(len(cols), code, dtype=np.int32))
        chunks_s.append(np.asarray(cols, dtype=np.int32))
        chunks_v.append(np.asarray(vals, dtype=np.int8))
        chunks_l.append(np.full(len(cols), line, dtype=np.int32))

    def joined(chunks: list[np.ndarray[Any, Any]], dtype: type) -> np.ndarray[Any, Any]:
        return np.concatenate(chunks).astype(dtype) if chunks else np.zeros(0, dtype)

    return VoteTable(
        participant_ids=p_enc.ids(),
        statement_ids=tuple(header[first_vote:]),
        participant=joined(chunks_p, np.int32),
        statement=joined(chunks_s, np.int32),
        vote=joined(chunks_v, np.int8),
        timestamp=None,
        source="polis-matrix",
        line=joined(chunks_l, np.int32),
        path=str(path),
    )


def _parse_moderated(path: Path, line: int | str, text: object) -> int:
    if isinstance(text, bool):
        raise OpinionInputError(
            str(path), line, "moderated", f"{text!r} is not -1, 0 or 1"
        )
    if isinstance(text, int):
        value = text
    else:
        try:
            value = int(str(text).strip())
        except ValueError:
            raise OpinionInputError(
                str(path), line, "moderated", f"{text!r} is not -1, 0 or 1"
            ) from None
    if value not in (-1, 0, 1):
        raise OpinionInputError(
            str(path), line, "moderated", f"{text!r} is not -1, 0 or 1"
        )
    return value


def _parse_bool(path: Path, line: int, field: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0", ""):
        return False
    raise OpinionInputError(
        str(path), line, field, f"{text!r} is not one of true, false, 1, 0"
    )


def read_statements_csv(path: str | os.PathLike[str]) -> StatementTable:
    """Statements from a Pol.is ``comments.csv`` or ours (§2.2).

    A Pol.is file (any header with ``comment-id`` or ``comment-body``) is
    matched by column name: ``comment-id`` and ``moderated`` are required;
    ``comment-body``, ``is-meta``, ``is-seed``, ``author-id`` and ``timestamp``
    are read when present; ``datetime``, ``agrees``, ``disagrees`` and
    ``group-informed-consensus`` are informational and skipped.
    """
    path = Path(path)
    header = _header(path)
    if {"comment-id", "comment-body"} & set(header):
        return _read_polis_comments(path, header)
    ids: list[str] = []
    moderated: list[int] = []
    meta: list[bool] = []
    texts: list[str | None] = []
    seen: set[str] = set()
    unknown = [c for c in header if c not in OUR_STATEMENT_COLUMNS]
    if unknown or "statement" not in header or len(set(header)) != len(header):
        raise OpinionInputError(
            str(path),
            1,
            "header",
            "expected statement[,moderated][,is_meta][,text] or a Pol.is "
            f"comments.csv header, found {','.join(header)!r}",
        )
    position = {name: i for i, name in enumerate(header)}
    for line, fields in _records(path):
        if line == 1 or not fields:
            continue
        _check_width(path, line, fields, len(header))
        sid = fields[position["statement"]]
        if not sid:
            raise OpinionInputError(str(path), line, "statement", "empty id")
        if sid in seen:
            raise OpinionInputError(
                str(path), line, "statement", f"duplicate statement id {sid}"
            )
        seen.add(sid)
        ids.append(sid)
        mod_text = fields[position["moderated"]] if "moderated" in position else ""
        moderated.append(
            0 if mod_text == "" else _parse_moderated(path, line, mod_text)
        )
        meta.append(
            _parse_bool(path, line, "is_meta", fields[position["is_meta"]])
            if "is_meta" in position
            else False
        )
        texts.append(fields[position["text"]] if "text" in position else None)
    return StatementTable(
        ids=tuple(ids),
        moderated=np.asarray(moderated, dtype=np.int8),
        is_meta=np.asarray(meta, dtype=np.bool_),
        text=tuple(texts),
    )


def _read_polis_comments(path: Path, header: list[str]) -> StatementTable:
    position = _positions(
        path,
        header,
        required=POLIS_COMMENTS_REQUIRED,
        known=POLIS_COMMENTS_COLUMNS,
        layout="comments.csv",
    )
    id_col, mod_col = position["comment-id"], position["moderated"]
    meta_col = position.get("is-meta")
    seed_col = position.get("is-seed")
    text_col = position.get("comment-body")
    author_col = position.get("author-id")
    time_col = position.get("timestamp")
    ids: list[str] = []
    moderated: list[int] = []
    meta: list[bool] = []
    seed: list[bool] = []
    texts: list[str | None] = []
    authors: list[str | None] = []
    times: list[int] = []
    has_time: bool | None = None
    seen: set[str] = set()
    for line, fields in _records(path):
        if line == 1 or not fields:
            continue
        _check_width(path, line, fields, len(header))
        sid = fields[id_col]
        if not sid:
            raise OpinionInputError(str(path), line, "comment-id", "empty id")
        if sid in seen:
            raise OpinionInputError(
                str(path), line, "comment-id", f"duplicate comment id {sid}"
            )
        seen.add(sid)
        ids.append(sid)
        moderated.append(_parse_moderated(path, line, fields[mod_col]))
        meta.append(
            False
            if meta_col is None
            else _parse_bool(path, line, "is-meta", fields[meta_col])
        )
        seed.append(
            False
            if seed_col is None
            else _parse_bool(path, line, "is-seed", fields[seed_col])
        )
        texts.append(None if text_col is None else fields[text_col])
        authors.append(None if author_col is None else fields[author_col] or None)
        stamp = "" if time_col is None else fields[time_col].strip()
        present = stamp != ""
        if has_time is None:
            has_time = present
        elif has_time != present:
            raise OpinionInputError(
                str(path),
                line,
                "timestamp",
                "timestamps must be given in every row or in none",
            )
        if present:
            if not stamp.lstrip("-").isdecimal():
                raise OpinionInputError(
                    str(path),
                    line,
                    "timestamp",
                    f"not an integer number of milliseconds or seconds: {stamp!r}",
                )
            times.append(int(stamp))
    created = (
        _polis_milliseconds(np.asarray(times, dtype=np.int64)) if has_time else None
    )
    return StatementTable(
        ids=tuple(ids),
        moderated=np.asarray(moderated, dtype=np.int8),
        is_meta=np.asarray(meta, dtype=np.bool_),
        text=tuple(texts),
        is_seed=np.asarray(seed, dtype=np.bool_),
        author=tuple(authors),
        created=created,
    )


def read_polis_summary(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``key,value`` rows of a Pol.is ``summary.csv``, in file order (§2.3).

    Values are kept verbatim (text, not numbers): they are informational.
    """
    path = Path(path)
    summary: dict[str, str] = {}
    for line, fields in _records(path):
        if not fields:
            continue
        if len(fields) != 2:
            raise OpinionInputError(
                str(path),
                line,
                "row",
                f"expected 2 columns (key,value), found {len(fields)}",
            )
        key, value = fields
        if not key:
            raise OpinionInputError(str(path), line, "key", "empty key")
        if key in summary:
            raise OpinionInputError(str(path), line, "key", f"duplicate key {key}")
        summary[key] = value
    return summary


def read_polis_export(
    directory: str | os.PathLike[str],
) -> tuple[VoteTable, StatementTable]:
    """A Pol.is openData folder: ``votes.csv`` (else ``participants-votes.csv``)
    and ``comments.csv`` (spec §2.3)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise OpinionInputError(str(folder), 0, "directory", "not a directory")
    votes_path = folder / "votes.csv"
    if not votes_path.exists():
        votes_path = folder / "participants-votes.csv"
    if not votes_path.exists():
        raise OpinionInputError(
            str(folder), 0, "file", "neither votes.csv nor participants-votes.csv found"
        )
    votes = read_votes_csv(votes_path)
    comments = folder / "comments.csv"
    if not comments.exists():
        raise OpinionInputError(str(comments), 0, "file", "no such file")
    return votes, read_statements_csv(comments)


def _load_json_array(path: Path) -> list[Any]:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise OpinionInputError(str(path), 0, "file", "no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise OpinionInputError(str(path), 0, "file", f"not JSON: {error}") from None
    if not isinstance(data, list):
        raise OpinionInputError(str(path), 0, "file", "expected a JSON array")
    return data


def _json_id(path: Path, where: str, field: str, value: object) -> str:
    if isinstance(value, bool) or value is None:
        raise OpinionInputError(str(path), where, field, f"bad id {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and value:
        return value
    raise OpinionInputError(str(path), where, field, f"bad id {value!r}")


def read_polis_api_json(
    directory: str | os.PathLike[str],
) -> tuple[VoteTable, StatementTable]:
    """Pol.is API ``votes.json`` and ``comments.json`` (spec §2.4)."""
    folder = Path(directory)
    votes_path = folder / "votes.json"
    items = _load_json_array(votes_path)
    p_enc, s_enc = _Encoder(), _Encoder()
    p_codes: list[int] = []
    s_codes: list[int] = []
    values: list[int] = []
    times: list[int] = []
    has_time: bool | None = None
    for i, item in enumerate(items):
        where = f"item {i}"
        if not isinstance(item, dict):
            raise OpinionInputError(str(votes_path), where, "vote", "not an object")
        p_key = "pid" if "pid" in item else "participant_id"
        s_key = "tid" if "tid" in item else "statement_id"
        if p_key not in item:
            raise OpinionInputError(str(votes_path), where, "pid", "missing")
        if s_key not in item:
            raise OpinionInputError(str(votes_path), where, "tid", "missing")
        participant = _json_id(votes_path, where, p_key, item[p_key])
        statement = _json_id(votes_path, where, s_key, item[s_key])
        value = parse_vote(item.get("vote"))
        if value is None or isinstance(item.get("vote"), str):
            raise OpinionInputError(
                str(votes_path),
                where,
                "vote",
                f"{item.get('vote')!r} is not 1, -1 or 0",
            )
        stamp = item.get("modified")
        present = stamp is not None and stamp != ""
        if has_time is None:
            has_time = present
        elif has_time != present:
            raise OpinionInputError(
                str(votes_path), where, "modified", "missing in some votes only"
            )
        if present:
            try:
                times.append(parse_timestamp(stamp))
            except ValueError as error:
                raise OpinionInputError(
                    str(votes_path), where, "modified", str(error)
                ) from None
        p_codes.append(p_enc.code(participant))
        s_codes.append(s_enc.code(statement))
        values.append(value)
    votes = VoteTable(
        participant_ids=p_enc.ids(),
        statement_ids=s_enc.ids(),
        participant=np.asarray(p_codes, dtype=np.int32),
        statement=np.asarray(s_codes, dtype=np.int32),
        vote=np.asarray(values, dtype=np.int8),
        timestamp=np.asarray(times, dtype=np.int64) if has_time else None,
        source="polis-api",
        line=np.arange(len(values), dtype=np.int32),
        path=str(votes_path),
    )
    comments_path = folder / "comments.json"
    ids: list[str] = []
    moderated: list[int] = []
    meta: list[bool] = []
    texts: list[str | None] = []
    seen: set[str] = set()
    for i, item in enumerate(_load_json_array(comments_path)):
        where = f"item {i}"
        if not isinstance(item, dict):
            raise OpinionInputError(
                str(comments_path), where, "comment", "not an object"
            )
        s_key = "tid" if "tid" in item else "statement_id"
        sid = _json_id(comments_path, where, s_key, item.get(s_key))
        if sid in seen:
            raise OpinionInputError(
                str(comments_path), where, s_key, f"duplicate comment id {sid}"
            )
        seen.add(sid)
        mod_key = "mod" if "mod" in item else "moderated"
        ids.append(sid)
        moderated.append(_parse_moderated(comments_path, where, item.get(mod_key, 0)))
        is_meta = item.get("is_meta", False)
        if not isinstance(is_meta, bool):
            raise OpinionInputError(
                str(comments_path),
                where,
                "is_meta",
                f"{is_meta!r} is not true or false",
            )
        meta.append(is_meta)
        text = item.get("txt")
        texts.append(text if isinstance(text, str) else None)
    return votes, StatementTable(
        ids=tuple(ids),
        moderated=np.asarray(moderated, dtype=np.int8),
        is_meta=np.asarray(meta, dtype=np.bool_),
        text=tuple(texts),
    )
