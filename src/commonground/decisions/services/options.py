"""Option and candidate labels as they are stored: cleaned, distinct, never a formula."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def clean_label(label: str) -> str:
    """Trimmed to 200 characters; never starting like a spreadsheet formula.

    Labels are exported to CSV, where a leading ``= + - @`` would run as a formula.
    """
    return label.strip().lstrip("=+-@").strip()[:200]


def clean_labels(labels: Iterable[str]) -> list[str]:
    """The cleaned labels in their order, empty ones dropped."""
    return [cleaned for cleaned in (clean_label(label) for label in labels) if cleaned]


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
