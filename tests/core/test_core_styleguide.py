"""The living style guide (DEBUG only) and the design tokens' contrast in both themes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

import commonground

pytestmark = pytest.mark.django_db

SITE_CSS = Path(commonground.__file__).parent / "static" / "css" / "site.css"

COMPONENTS = [
    "btn", "btn--primary", "btn--secondary", "btn--danger", "btn--link", "btn--small",
    "field", "field__label", "field__help", "field__error",
    "card", "card__title", "card__meta", "cards",
    "table", "table--stack", "table-wrap", "tabs", "group-nav",
    "badge", "badge--success", "badge--warning", "badge--danger", "badge--muted",
    "alert", "alert--success", "alert--error", "alert--warning", "alert--info",
    "empty", "pagination", "progress", "progress__bar", "avatar", "avatar--small",
    "timeline", "breadcrumbs", "page-header", "stack", "cluster", "layout-2col",
    "muted", "lead", "prose", "needs-you",
]  # fmt: skip

# (text, background, minimum): 4.5:1 for text, 3:1 for borders and focus rings.
TEXT_PAIRS = [
    ("text", "bg"), ("text", "surface"), ("text-muted", "bg"), ("text-muted", "surface"),
    ("link", "bg"), ("link", "surface"), ("danger-ink", "danger"), ("danger", "bg"),
    ("success-text", "success-bg"), ("warning-text", "warning-bg"),
    ("error-text", "error-bg"), ("error-text", "bg"), ("error-text", "surface"),
    ("info-text", "info-bg"), ("neutral-text", "neutral-bg"), ("text-muted", "neutral-bg"),
    ("text", "success-bg"), ("text", "warning-bg"), ("text", "error-bg"),
    ("text", "info-bg"), ("text", "highlight-bg"), ("link", "highlight-bg"),
    ("link", "info-bg"), ("link", "success-bg"), ("link", "warning-bg"),
    ("link", "error-bg"), ("text-muted", "highlight-bg"),
]  # fmt: skip
UI_PAIRS = [
    ("border", "bg"),
    ("border", "surface"),
    ("highlight-border", "highlight-bg"),
]


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _tokens(block: str) -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})\s*;", block))


def _themes() -> dict[str, dict[str, str]]:
    css = SITE_CSS.read_text()
    light = _tokens(css.split("@media (prefers-color-scheme: dark)")[0])
    media_dark = re.search(
        r":root:not\(\[data-theme=\"light\"\]\) \{(.*?)\}", css, re.S
    ).group(1)
    forced_dark = re.search(r":root\[data-theme=\"dark\"\] \{(.*?)\}", css, re.S)
    dark = {**light, **_tokens(media_dark)}
    assert _tokens(media_dark) == _tokens(forced_dark.group(1)), (
        "the two dark blocks differ"
    )
    return {
        "light": {name.removeprefix("color-"): v for name, v in light.items()},
        "dark": {name.removeprefix("color-"): v for name, v in dark.items()},
    }


def test_style_guide_shows_every_component_when_debug_is_on(client, settings):
    settings.DEBUG = True
    response = client.get(reverse("core:styleguide"))
    assert response.status_code == 200
    classes = set(
        " ".join(re.findall(r'class="([^"]*)"', response.content.decode())).split()
    )
    assert set(COMPONENTS) - classes == set()
    assert "<title>Style guide · Common Ground</title>" in response.content.decode()


def test_style_guide_forces_the_dark_theme_on_request(client, settings):
    settings.DEBUG = True
    response = client.get(reverse("core:styleguide"), {"theme": "dark"})
    assert '<html lang="en-gb" data-theme="dark">' in response.content.decode()
    response = client.get(reverse("core:styleguide"), {"theme": "<script>"})
    assert "data-theme" not in response.content.decode().split("<head>")[0]


def test_style_guide_is_not_found_when_debug_is_off(client, settings):
    settings.DEBUG = False
    assert client.get("/styleguide/").status_code == 404


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_text_and_border_pair_passes_wcag_aa(theme):
    tokens = _themes()[theme]
    failures = [
        f"{fg} on {bg}: {contrast(tokens[fg], tokens[bg]):.2f}"
        for pairs, minimum in ((TEXT_PAIRS, 4.5), (UI_PAIRS, 3.0))
        for fg, bg in pairs
        if contrast(tokens[fg], tokens[bg]) < minimum
    ]
    # Text on the accent (header, primary buttons, avatars).
    if contrast(tokens["accent-ink"], tokens["accent"]) < 4.5:
        failures.append("accent-ink on accent")
    # The focus ring is two-tone: one of its colours stands out on every ground.
    for ground in ("bg", "surface", "accent"):
        best = max(
            contrast(tokens["focus"], tokens[ground]),
            contrast(tokens["focus-shadow"], tokens[ground]),
        )
        if best < 3:
            failures.append(f"focus ring on {ground}: {best:.2f}")
    assert failures == []


def test_contrast_matches_the_wcag_worked_example():
    # Black on white is the maximum, (1 + 0.05) / (0 + 0.05) = 21.
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
