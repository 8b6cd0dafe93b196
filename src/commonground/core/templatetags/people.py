"""``{{ name|initials }}``: the letters an avatar shows for a person's name."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def initials(name: object) -> str:
    """The first letters of the first and last words, upper-cased: "Dev Kaur" ->
    "DK", "Ana" -> "A", "Mary-Jane van der Berg" -> "MB"; "" for an empty name.

    Letters only (an opening quote or bracket is skipped), so a name never shows
    as punctuation.
    """
    words = [
        "".join(ch for ch in word if ch.isalnum()) for word in str(name or "").split()
    ]
    words = [word for word in words if word]
    if not words:
        return ""
    if len(words) == 1:
        return words[0][0].upper()
    return (words[0][0] + words[-1][0]).upper()
