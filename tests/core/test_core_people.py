"""Avatar initials."""

from __future__ import annotations

import pytest

from commonground.core.templatetags.people import initials


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dev Kaur", "DK"),
        ("Ana", "A"),
        ("Mary-Jane van der Berg", "MB"),
        ("  ", ""),
        (None, ""),
        ("“Nia” O'Brien", "NO"),
        ("émile zola", "ÉZ"),
        ("Deleted member", "DM"),
    ],
)
def test_initials_take_the_first_and_last_words(name, expected):
    assert initials(name) == expected
