"""Option labels and the options box (issue 17.8): never a spreadsheet formula,
one option per line as the member sees it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from commonground.decisions.forms import ElectionForm
from commonground.decisions.models import Election
from commonground.decisions.services.options import (
    FORMULA_STARTS,
    clean_label,
    option_lines,
)


@pytest.mark.parametrize(
    "label",
    [
        "=1+1",
        "= =1+1",  # a space between: stripping once left "=1+1"
        '+-=@=HYPERLINK("http://x")',
        " \t=cmd|' /C calc'!A0",
        "\u00a0=1+1",  # a no-break space is whitespace too
        "\r\n@SUM(A1)",
        "=\u2028=1+1",
        "-" * 300 + "=1",
    ],
)
def test_no_cleaned_label_starts_like_a_formula(label):
    cleaned = clean_label(label)
    assert cleaned and cleaned[0] not in FORMULA_STARTS
    assert cleaned == cleaned.strip()


def test_a_label_is_one_line_without_control_characters():
    assert clean_label("Ann\u2028Bo\u2029Cy\x0bDi\x85Ed\x00") == "Ann Bo Cy Di Ed"
    assert clean_label("Ann  Bo") == "Ann  Bo"
    assert len(clean_label("x" * 500)) == 200


def test_only_browser_line_breaks_separate_options():
    assert option_lines("Ann\r\nBo\rCy\nDi") == ["Ann", "Bo", "Cy", "Di"]
    assert option_lines("Tab\tinside") == ["Tab\tinside"]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x0b", "\x0c", "\x85"])
def test_an_invisible_separator_is_refused_with_its_line_not_split(separator):
    with pytest.raises(ValidationError, match="Line 2") as refused:
        option_lines(f"Ann\nBo{separator}Cy\nDi")
    assert f"U+{ord(separator):04X}" in refused.value.messages[0]


def _question(options: str) -> dict[str, str]:
    closes = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    return {
        "kind": "question",
        "title": "Which?",
        "description": "",
        "method": "approval",
        "options": options,
        "seats": "1",
        "rules": "scottish",
        "quorum_percent": "0",
        "majority_percent": "50",
        "required_seconds": "1",
        "closes_at": closes,
    }


def test_the_ballot_form_refuses_a_line_separator_in_the_options_box():
    form = ElectionForm(_question("Ann\u2028Bo\r\nCy"))
    assert not form.is_valid()
    assert "Line 1" in form.errors["options"][0]
    form = ElectionForm(_question("Ann\r\nBo\r\nCy"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["options"] == ["Ann", "Bo", "Cy"]


@pytest.mark.django_db
def test_creating_a_ballot_with_a_line_separator_stores_nothing(group, organiser):
    from django.test import Client

    client = Client()
    client.force_login(organiser)
    url = reverse("decisions:election_new", args=[group.slug])
    response = client.post(url, _question("Ann\u2028Bo\r\nCy"))
    assert response.status_code == 200
    assert "U+2028" in response.text
    assert not Election.objects.exists()
    response = client.post(url, _question("=Ann\r\n= =Bo\r\nCy"))
    assert response.status_code == 302
    labels = list(Election.objects.get().options.values_list("label", flat=True))
    assert labels == ["Ann", "Bo", "Cy"]
