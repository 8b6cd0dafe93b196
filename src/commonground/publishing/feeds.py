"""Atom and RSS feeds of a movement, a group and a tag (django.contrib.syndication).

Each item is a live revision: its title, its standfirst as the summary, its full
sanitised body as the content (image addresses made absolute), its tags as
categories, its first publication and last update times. Comments are never in a
feed. Fixed queries per feed (the items, their tags).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.translation import gettext as _

from commonground.members.models import Group

from . import selectors
from .models import Revision

FEED_SECONDS = 5 * 60
_RELATIVE_MEDIA = re.compile(r'((?:src|srcset)="|, )(/[^"\s,]+)')


@dataclass(frozen=True)
class Scope:
    title: str
    link: str
    description: str
    # "https://example.org": feed readers need absolute addresses for images.
    origin: str
    organisation: Any = None
    group: Any = None
    tag: Any = None


def _origin(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


class _Feed(Feed):  # type: ignore[type-arg]
    """Shared by the Atom and RSS variants of each scope. One instance serves every
    request (and thread): nothing request-specific is kept on it."""

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().__call__(request, *args, **kwargs)
        response["Cache-Control"] = f"public, max-age={FEED_SECONDS}"
        return response

    def title(self, obj: Scope) -> str:
        return obj.title

    def link(self, obj: Scope) -> str:
        return obj.link

    def description(self, obj: Scope) -> str:
        return obj.description

    def subtitle(self, obj: Scope) -> str:
        return obj.description

    def items(self, obj: Scope) -> list[Revision]:
        revisions = selectors.latest(
            organisation=obj.organisation,
            group=obj.group,
            tag=obj.tag,
            limit=selectors.FEED_SIZE,
        )
        tags = selectors.tags_of(revisions)
        for revision in revisions:
            revision.feed_tags = tags.get(revision.pk, [])  # type: ignore[attr-defined]
            body = _RELATIVE_MEDIA.sub(
                lambda m: m.group(1) + obj.origin + m.group(2), revision.body_html
            )
            standfirst = (
                f"<p><strong>{_escape(revision.standfirst)}</strong></p>"
                if revision.standfirst
                else ""
            )
            revision.feed_html = standfirst + body  # type: ignore[attr-defined]
            revision.feed_guid = obj.origin + revision.article.get_absolute_url()  # type: ignore[attr-defined]
        return revisions

    def item_title(self, item: Revision) -> str:
        return item.title

    def item_description(self, item: Revision) -> str:
        return str(getattr(item, "feed_html", ""))

    def item_link(self, item: Revision) -> str:
        return item.article.get_absolute_url()

    def item_guid(self, item: Revision) -> str:
        return str(getattr(item, "feed_guid", ""))

    def item_guid_is_permalink(self, item: Revision) -> bool:
        return True

    def item_pubdate(self, item: Revision) -> Any:
        return item.article.first_published_at

    def item_updateddate(self, item: Revision) -> Any:
        return item.published_at

    def item_author_name(self, item: Revision) -> str:
        return item.article.author.public_name

    def item_categories(self, item: Revision) -> list[str]:
        return [tag.name for tag in getattr(item, "feed_tags", [])]


def _escape(text: str) -> str:
    from django.utils.html import escape

    return str(escape(text))


class MovementFeed(_Feed):
    def get_object(self, request: HttpRequest, org_slug: str) -> Scope:
        organisation = selectors.organisation_by_slug(org_slug)
        if organisation is None:
            raise Http404("No such movement")
        return Scope(
            title=_("%(name)s: articles") % {"name": organisation.name},
            link=reverse("publishing:movement", args=[organisation.slug]),
            description=_("The latest articles and interviews of %(name)s.")
            % {"name": organisation.name},
            origin=_origin(request),
            organisation=organisation,
        )


class GroupFeed(_Feed):
    def get_object(self, request: HttpRequest, slug: str) -> Scope:
        group = (
            Group.objects.select_related("organisation")
            .filter(slug=slug, is_public=True)
            .first()
        )
        if group is None:
            raise Http404("No such group")
        return Scope(
            title=_("%(group)s · %(name)s: articles")
            % {"group": group.name, "name": group.organisation.name},
            link=reverse("publishing:group_articles", args=[group.slug]),
            description=_("Articles published by %(group)s.") % {"group": group.name},
            origin=_origin(request),
            group=group,
        )


class TagFeed(_Feed):
    def get_object(self, request: HttpRequest, org_slug: str, tag_slug: str) -> Scope:
        tag = selectors.tag_by_slug(org_slug, tag_slug)
        if tag is None:
            raise Http404("No such tag")
        return Scope(
            title=_("%(name)s: %(tag)s")
            % {"name": tag.organisation.name, "tag": tag.name},
            link=reverse("publishing:tag", args=[org_slug, tag.slug]),
            description=_("Articles of %(name)s about %(tag)s.")
            % {"name": tag.organisation.name, "tag": tag.name},
            origin=_origin(request),
            organisation=tag.organisation,
            tag=tag,
        )


class MovementAtom(MovementFeed):
    feed_type = Atom1Feed


class MovementRss(MovementFeed):
    feed_type = Rss201rev2Feed


class GroupAtom(GroupFeed):
    feed_type = Atom1Feed


class GroupRss(GroupFeed):
    feed_type = Rss201rev2Feed


class TagAtom(TagFeed):
    feed_type = Atom1Feed


class TagRss(TagFeed):
    feed_type = Rss201rev2Feed
