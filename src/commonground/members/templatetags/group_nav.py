"""``{% group_nav group viewer "current-key" %}``: a group's navigation, on every group page.

One bar for every capability: the group's overview, then each app's registered
section the viewer may see (``commonground.core.capabilities``), with its count of
open items.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import group_links_for

from ..selectors import group_ancestors as group_ancestors_of
from ..selectors import viewer_for

register = template.Library()


@register.inclusion_tag("members/partials/group_nav.html", takes_context=True)
def group_nav(
    context: template.Context, group: Any, viewer: Any = None, current: str = ""
) -> dict[str, Any]:
    if viewer is None:
        viewer = viewer_for(context["request"].user, group)
    items = [
        {
            "key": "overview",
            "label": _("Overview"),
            "url": reverse("members:group", args=[group.slug]),
        },
        *group_links_for(group, viewer, with_counts=True),
    ]
    return {"group": group, "items": items, "current": current}


ANCESTOR_CACHE_SECONDS = 60


@register.simple_tag
def group_ancestors(group: Any) -> list[dict[str, str]]:
    """The groups above ``group``, top first, as name and slug, for breadcrumbs.

    Cached briefly by the group's path (a move changes the path, so a moved group
    never shows its old place; a renamed ancestor shows its new name within a
    minute), so a breadcrumb costs no query on most pages.
    """
    if group.parent_id is None:
        return []
    key = f"group-ancestors:{group.pk}:{group.path}"
    cached = cache.get(key)
    if cached is None:
        cached = [
            {"name": ancestor.name, "slug": ancestor.slug}
            for ancestor in group_ancestors_of(group)
        ]
        cache.set(key, cached, ANCESTOR_CACHE_SECONDS)
    return list(cached)
