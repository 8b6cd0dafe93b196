"""The member dashboard's extension point.

A capability adds its own panel without touching the dashboard view: in its
``AppConfig.ready()`` it calls ``register_panel`` with a template and a context
function. See docs/extending.md.

    register_panel(DashboardPanel(
        key="ballots", title="Ballots open to you",
        template="decisions/panels/open_ballots.html",
        context=selectors.dashboard_open_ballots, order=30,
    ))

The context function receives the request and returns the template's context; it
must run a fixed number of queries (the dashboard's query count is pinned).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DashboardPanel:
    key: str
    title: str
    template: str
    context: Callable[[Any], dict[str, Any]]
    order: int = 100


_panels: dict[str, DashboardPanel] = {}


def register_panel(panel: DashboardPanel) -> None:
    """Add (or replace, by key) a dashboard panel."""
    _panels[panel.key] = panel


def registered_panels() -> list[DashboardPanel]:
    return sorted(_panels.values(), key=lambda panel: (panel.order, panel.key))
