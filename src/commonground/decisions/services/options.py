"""Option and candidate labels as they are stored: cleaned, distinct, never a formula,
one line each."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_LABEL_LENGTH = 200
# A cell starting with one of these runs as a formula in a spreadsheet (OWASP "CSV
# injection"); tab and carriage return are on OWASP's list too.
FORMULA_STARTS = "=+-@\t\r"
# What a browser's text box sends between lines. Every other line or paragraph
# separator (U+2028, U+2029, NEL, vertical tab, form feed...) is a character
# inside a line, which str.splitlines() would silently break apart.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _is_break_or_control(character: str) -> bool:
    """Control characters and line or paragraph separators (tab included)."""
    return unicodedata.category(character) in ("Cc", "Zl", "Zp")


def clean_label(label: str) -> str:
    """Trimmed to 200 characters; never starting like a spreadsheet formula.

    Labels are exported to CSV, where a leading ``= + - @`` (or tab, carriage
    return) would run as a formula. They are stripped until none is left, so
    ``"= =1+1"`` cannot become ``"=1+1"`` once a space is trimmed. Control
    characters and line separators become spaces: a label is one line.

    >>> clean_label(" =+ -@=SUM(A1)")
    'SUM(A1)'
    >>> clean_label("Ann\\u2028Bo")
    'Ann Bo'
    """
    text = "".join(" " if _is_break_or_control(c) else c for c in label)
    while True:
        trimmed = text.strip().lstrip(FORMULA_STARTS)
        if trimmed == text:
            break
        text = trimmed
    return text[:MAX_LABEL_LENGTH].rstrip()


def clean_labels(labels: Iterable[str]) -> list[str]:
    """The cleaned labels in their order, empty ones dropped."""
    return [cleaned for cleaned in (clean_label(label) for label in labels) if cleaned]


def option_lines(text: str) -> list[str]:
    """The options typed in a text box, one per line, as the member sees them.

    Lines end only at the line breaks a browser sends (CR LF, LF or CR). A line
    holding another separator (U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR,
    a vertical tab...) or a control character is refused with its line number,
    rather than split or joined behind the member's back. Raises ValidationError.

    >>> option_lines("Ann\\r\\nBo\\n")
    ['Ann', 'Bo', '']
    """
    lines = _LINE_BREAK.split(text)
    for number, line in enumerate(lines, start=1):
        odd = next((c for c in line if c != "\t" and _is_break_or_control(c)), None)
        if odd is not None:
            raise ValidationError(
                _(
                    "Line %(line)d holds an invisible separator or control character "
                    "(U+%(code)04X); type each option on a line of its own."
                )
                % {"line": number, "code": ord(odd)},
                code="invisible_separator",
            )
    return lines


def distinct_labels(names: Sequence[str], *, fallback: str) -> list[str]:
    """One label per name, in order; a repeated name gets " (2)", " (3)"...

    >>> distinct_labels(["Ann", "Ann", ""], fallback="Candidate")
    ['Ann', 'Ann (2)', 'Candidate']
    """
    taken: set[str] = set()
    labels: list[str] = []
    for name in names:
        base = clean_label(name) or fallback
        label, n = base, 2
        while label in taken:
            label, n = f"{base} ({n})", n + 1
        taken.add(label)
        labels.append(label)
    return labels
