"""Pieces every publishing workflow shares: who the actor is to the group, the lock,
the group's policy."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from commonground.members.selectors import Viewer, viewer_for

from ..models import Article, PublishingPolicy


def viewer_of(actor: Any, article_or_group: Any) -> Viewer:
    group = getattr(article_or_group, "group", article_or_group)
    return viewer_for(actor, group)


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def locked(article: Article) -> Article:
    """The article row, locked for the rest of the transaction (one writer at a time:
    a publication and an edit never interleave)."""
    try:
        return (
            Article.objects.select_for_update(of=("self",))
            .select_related("group", "organisation", "author")
            .get(pk=article.pk)
        )
    except Article.DoesNotExist:
        raise ValidationError(
            _("This article no longer exists."), code="gone"
        ) from None


def review_required(group: Any) -> bool:
    """Whether an editor must review articles in ``group``: its own policy, else the
    nearest group above with one, else yes (one query)."""
    policies = dict(
        PublishingPolicy.objects.filter(group_id__in=group.ancestor_ids).values_list(
            "group_id", "review_required"
        )
    )
    for group_id in reversed(group.ancestor_ids):
        if group_id in policies:
            return bool(policies[group_id])
    return True


def bump(article: Article) -> None:
    """Readers' copies of the article and the lists it is in are now stale (see
    ``publishing.caching``)."""
    from .. import caching

    article_changed(article)
    caching.lists_changed()


def article_changed(article: Article) -> None:
    """What readers see of this one article changed (its cached page is stale)."""
    from django.db.models import F
    from django.utils import timezone

    from .. import caching

    Article.objects.filter(pk=article.pk).update(
        cache_version=F("cache_version") + 1, changed_at=timezone.now()
    )
    caching.article_changed(article)
