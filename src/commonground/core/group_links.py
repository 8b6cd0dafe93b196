"""Extension point for links on a group's page ("Ballots", "Proposals", ...).

A capability registers a link in its ``AppConfig.ready()``; the group page shows it
to viewers for whom ``visible(viewer)`` is true. No template editing needed.

    register_group_link(GroupLink(
        key="ballots", label="Ballots", url_name="decisions:group_ballots",
        visible=lambda viewer: viewer.is_member or viewer.can_manage, order=30,
    ))

The URL is reversed with the group's slug as its only argument.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse


@dataclass(frozen=True)
class GroupLink:
    key: str
    label: str
    url_name: str
    visible: Callable[[Any], bool] = lambda viewer: True
    order: int = 100


_links: dict[str, GroupLink] = {}


def register_group_link(link: GroupLink) -> None:
    _links[link.key] = link


def group_links_for(group: Any, viewer: Any) -> list[dict[str, str]]:
    return [
        {"label": link.label, "url": reverse(link.url_name, args=[group.slug])}
        for link in sorted(_links.values(), key=lambda link: (link.order, link.key))
        if link.visible(viewer)
    ]
