"""What publishing adds to other pages through the registry: the home page's latest
articles, and the "join" call to action at the end of an article."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from . import caching, selectors

HOME_ARTICLES = 6


def latest_articles(request: Any) -> dict[str, Any] | None:
    """The newest articles of every movement on the platform (cached; see caching)."""

    def build() -> list[Any]:
        revisions = selectors.latest(limit=HOME_ARTICLES)
        tags = selectors.tags_of(revisions)
        return [(revision, tags.get(revision.pk, [])) for revision in revisions]

    items = caching.cached_list("home", build)
    if not items:
        return None
    return {"items": items, "all_url": reverse("publishing:all_articles")}


def join_call(request: Any, article: Any) -> dict[str, Any] | None:
    """Join the group that published the article (a public, open group only)."""
    group = article.group
    if not group.is_public or group.archived_at is not None:
        return None
    return {
        "group": group,
        "group_url": reverse("members:group", args=[group.slug]),
        "signup_url": reverse("account_signup"),
        "signed_in": bool(getattr(request.user, "is_authenticated", False)),
    }
