"""The sitemap (django.contrib.sitemaps): live articles, movements' front pages, tags
and authors with live articles. A fixed number of queries per section."""

from __future__ import annotations

from typing import Any

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from . import selectors
from .models import AuthorProfile, Revision, Tag


class ArticleSitemap(Sitemap):  # type: ignore[type-arg]
    changefreq = "weekly"
    priority = 0.8
    limit = 5000

    def items(self) -> Any:
        return selectors.live_revisions().order_by(
            "-article__first_published_at", "-pk"
        )

    def location(self, item: Revision) -> str:
        return item.article.get_absolute_url()

    def lastmod(self, item: Revision) -> Any:
        return item.published_at


class MovementSitemap(Sitemap):  # type: ignore[type-arg]
    changefreq = "daily"
    priority = 0.6

    def items(self) -> list[str]:
        return sorted(
            set(
                selectors.live_revisions().values_list(
                    "article__organisation__slug", flat=True
                )
            )
        )

    def location(self, item: str) -> str:
        return reverse("publishing:movement", args=[item])


class TagSitemap(Sitemap):  # type: ignore[type-arg]
    changefreq = "daily"
    priority = 0.4

    def items(self) -> Any:
        live = selectors.live_revisions().values("pk")
        return (
            Tag.objects.filter(revisions__in=live)
            .select_related("organisation")
            .distinct()
            .order_by("organisation__slug", "slug")
        )

    def location(self, item: Tag) -> str:
        return reverse("publishing:tag", args=[item.organisation.slug, item.slug])


class AuthorSitemap(Sitemap):  # type: ignore[type-arg]
    changefreq = "weekly"
    priority = 0.3

    def items(self) -> Any:
        authors = selectors.live_revisions().values("article__author_id")
        return AuthorProfile.objects.filter(
            user_id__in=authors, user__deleted_at__isnull=True
        ).order_by("slug")

    def location(self, item: AuthorProfile) -> str:
        return item.get_absolute_url()


SITEMAPS = {
    "articles": ArticleSitemap,
    "movements": MovementSitemap,
    "tags": TagSitemap,
    "authors": AuthorSitemap,
}
