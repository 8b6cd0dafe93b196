"""Reads: what readers see (live revisions, lists, tags, authors, search, the public
moderation log) and what writers and editors see (a group's articles, counts, what
needs them). Every function runs a fixed number of queries, whatever the numbers.

The live revision of an article is its newest revision whose time has come
(``published_at <= now``), of an article not withdrawn: a scheduled publication
appears on time without any background job.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commonground.core.capabilities import GroupOverview, NeedsYou
from commonground.discussion import selectors as discussion_selectors
from commonground.members.models import Group, Organisation

from . import rules
from .models import Article, AuthorProfile, Revision, Tag

LIST_SIZE = 20
FEED_SIZE = 30
SEARCH_SIZE = 30


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def live_revisions(now: datetime | None = None) -> QuerySet[Revision]:
    """The revision readers see of every article that is out (one per article)."""
    now = _now(now)
    newer = Revision.objects.filter(
        article_id=OuterRef("article_id"),
        published_at__lte=now,
        number__gt=OuterRef("number"),
    )
    return (
        Revision.objects.filter(
            published_at__lte=now, article__withdrawn_at__isnull=True
        )
        .exclude(Exists(newer))
        .select_related(
            "article__organisation", "article__author", "article__group", "lead_image"
        )
    )


def latest(
    *,
    organisation: Organisation | None = None,
    group: Group | None = None,
    tag: Tag | None = None,
    author_id: int | None = None,
    limit: int = LIST_SIZE,
    now: datetime | None = None,
) -> list[Revision]:
    """Live revisions, newest first by first publication (one query)."""
    revisions = live_revisions(now)
    if organisation is not None:
        revisions = revisions.filter(article__organisation=organisation)
    if group is not None:
        revisions = revisions.filter(article__group__path__startswith=group.path)
    if tag is not None:
        revisions = revisions.filter(tags=tag)
    if author_id is not None:
        revisions = revisions.filter(article__author_id=author_id)
    return list(
        revisions.order_by("-article__first_published_at", "-article_id")[:limit]
    )


def tags_of(revisions: list[Revision]) -> dict[int, list[Tag]]:
    """Tags of each revision, by revision id (one query for all)."""
    if not revisions:
        return {}
    through = Revision.tags.through
    rows = through.objects.filter(
        revision_id__in=[r.pk for r in revisions]
    ).select_related("tag")
    found: dict[int, list[Tag]] = {r.pk: [] for r in revisions}
    for row in rows:
        found[row.revision_id].append(row.tag)
    for tags in found.values():
        tags.sort(key=lambda tag: tag.name.lower())
    return found


# One article --------------------------------------------------------------------------


@dataclass(frozen=True)
class Correction:
    number: int
    published_at: datetime
    note: str


@dataclass
class ArticlePage:
    article: Article
    revision: Revision
    tags: list[Tag]
    author: AuthorProfile | None
    corrections: list[Correction]
    revision_count: int
    updated_at: datetime | None = None


def article_by_slug(organisation_slug: str, slug: str) -> Article | None:
    return (
        Article.objects.select_related("organisation", "group", "author")
        .filter(slug=slug, organisation__slug=organisation_slug)
        .first()
    )


def article_page(article: Article, now: datetime | None = None) -> ArticlePage | None:
    """What readers see of ``article``, or None if it is not out (two queries)."""
    now = _now(now)
    if article.withdrawn_at is not None:
        return None
    revisions = list(
        Revision.objects.filter(article=article, published_at__lte=now)
        .select_related("lead_image")
        .prefetch_related("tags")
        .order_by("number")
    )
    if not revisions:
        return None
    live = revisions[-1]
    return ArticlePage(
        article=article,
        revision=live,
        tags=sorted(live.tags.all(), key=lambda tag: tag.name.lower()),
        author=AuthorProfile.objects.filter(user_id=article.author_id).first(),
        corrections=[
            Correction(r.number, r.published_at, r.correction)
            for r in revisions
            if r.correction
        ],
        revision_count=len(revisions),
        updated_at=live.published_at if len(revisions) > 1 else None,
    )


def live_stamp(
    article: Article, now: datetime | None = None
) -> tuple[int, datetime] | None:
    """The live revision's id and time (one small query), or None if not out: all
    a cached article page needs to know it is still current."""
    if article.withdrawn_at is not None:
        return None
    row = (
        Revision.objects.filter(article=article, published_at__lte=_now(now))
        .order_by("-number")
        .values_list("pk", "published_at")
        .first()
    )
    return (int(row[0]), row[1]) if row else None


@dataclass(frozen=True)
class Stamp:
    """What decides whether a cached article page is current."""

    article_id: int
    version: int
    revision_id: int | None
    last_modified: datetime | None
    withdrawn: bool
    next_due: datetime | None

    @property
    def live(self) -> bool:
        return self.revision_id is not None and not self.withdrawn


def stamp_of(
    organisation_slug: str, slug: str, now: datetime | None = None
) -> Stamp | None:
    """The article's stamp (two queries), or None if there is no such article."""
    now = _now(now)
    article = (
        Article.objects.filter(slug=slug, organisation__slug=organisation_slug)
        .only("id", "cache_version", "changed_at", "withdrawn_at")
        .first()
    )
    if article is None:
        return None
    rows = list(
        Revision.objects.filter(article=article)
        .order_by("-number")
        .values_list("pk", "published_at")
    )
    live = next(((pk, at) for pk, at in rows if at <= now), None)
    upcoming = [at for _pk, at in rows if at > now]
    times = [
        t for t in (article.changed_at, live[1] if live else None) if t is not None
    ]
    return Stamp(
        article_id=article.pk,
        version=article.cache_version,
        revision_id=live[0] if live else None,
        last_modified=max(times) if times else None,
        withdrawn=article.withdrawn_at is not None,
        next_due=min(upcoming) if upcoming else None,
    )


def public_revisions(article: Article, now: datetime | None = None) -> list[Revision]:
    """Every revision readers have been shown, oldest first (one query)."""
    return list(
        Revision.objects.filter(article=article, published_at__lte=_now(now)).order_by(
            "number"
        )
    )


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added", "removed"
    text: str


@dataclass(frozen=True)
class RevisionDiff:
    before: Revision | None
    after: Revision
    title_changed: bool
    standfirst_changed: bool
    lines: list[DiffLine]


def diff_lines(before: str, after: str) -> list[DiffLine]:
    """The lines of ``after`` against ``before``: unchanged, added, removed."""
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(
        a=before.splitlines(), b=after.splitlines(), autojunk=False
    )
    old, new = before.splitlines(), after.splitlines()
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines += [DiffLine("same", text) for text in old[i1:i2]]
            continue
        lines += [DiffLine("removed", text) for text in old[i1:i2]]
        lines += [DiffLine("added", text) for text in new[j1:j2]]
    return lines


def revision_diff(revisions: list[Revision], number: int) -> RevisionDiff | None:
    """Revision ``number`` against the one before it (its Markdown, line by line)."""
    by_number = {r.number: r for r in revisions}
    after = by_number.get(number)
    if after is None:
        return None
    earlier = [r for r in revisions if r.number < number]
    before = earlier[-1] if earlier else None
    return RevisionDiff(
        before=before,
        after=after,
        title_changed=before is not None and before.title != after.title,
        standfirst_changed=before is not None and before.standfirst != after.standfirst,
        lines=diff_lines(before.body if before else "", after.body),
    )


def working_copy_diff(article: Article, now: datetime | None = None) -> list[DiffLine]:
    """The working copy against what readers see now (for the editor's review)."""
    live = (
        Revision.objects.filter(article=article, published_at__lte=_now(now))
        .order_by("-number")
        .first()
    )
    return diff_lines(live.body if live else "", article.body) if live else []


# Tags, authors, movements --------------------------------------------------------------


def organisation_by_slug(slug: str) -> Organisation | None:
    return Organisation.objects.filter(slug=slug).first()


def tag_by_slug(organisation_slug: str, slug: str) -> Tag | None:
    return (
        Tag.objects.select_related("organisation")
        .filter(slug=slug, organisation__slug=organisation_slug)
        .first()
    )


def author_by_slug(slug: str) -> AuthorProfile | None:
    profile = AuthorProfile.objects.select_related("user").filter(slug=slug).first()
    if profile is None or profile.user.deleted_at is not None:
        return None
    return profile


def tags_in_use(organisation: Organisation, now: datetime | None = None) -> list[Tag]:
    """The movement's tags with at least one live article, most used first."""
    live = live_revisions(now).filter(article__organisation=organisation)
    return list(
        Tag.objects.filter(organisation=organisation, revisions__in=live.values("pk"))
        .annotate(articles=Count("revisions", distinct=True))
        .order_by("-articles", "name")
    )


# Search --------------------------------------------------------------------------------


def search_config() -> str:
    return str(getattr(settings, "COMMONGROUND_SEARCH_CONFIG", "english"))


def search(
    query: str,
    *,
    organisation: Organisation | None = None,
    limit: int = SEARCH_SIZE,
    now: datetime | None = None,
) -> list[Revision]:
    """Live articles matching ``query``, best first. PostgreSQL: full-text search
    (websearch syntax: words, "quoted phrases", -excluded; stemmed) ranked by
    SearchRank, over an expression index. Elsewhere (SQLite): every word must appear
    in the title, standfirst or text, title matches first. One query either way."""
    query = " ".join(query.split())[:200]
    if not query:
        return []
    revisions = live_revisions(now)
    if organisation is not None:
        revisions = revisions.filter(article__organisation=organisation)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        config = search_config()
        vector = SearchVector("text", config=config)
        terms = SearchQuery(query, config=config, search_type="websearch")
        return list(
            revisions.annotate(found=vector, rank=SearchRank(vector, terms))
            .filter(found=terms)
            .order_by("-rank", "-article__first_published_at")[:limit]
        )
    words = [word.strip('"') for word in query.split() if not word.startswith("-")]
    condition = Q()
    for word in filter(None, words):
        condition &= Q(text__icontains=word)
    in_title = Q()
    for word in filter(None, words):
        in_title &= Q(title__icontains=word)
    from django.db.models import BooleanField, Case, Value, When

    return list(
        revisions.filter(condition)
        .annotate(
            in_title=Case(
                When(in_title, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("-in_title", "-article__first_published_at")[:limit]
    )


# The public moderation log ------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    removal: Any  # discussion.selectors.Removal
    article: Article


def moderation_log(
    organisation: Organisation | None = None, *, limit: int = 200
) -> list[LogEntry]:
    """Comments moderators removed under the movement's articles: when, where, the
    rule broken and the moderator's role; never the words (two queries)."""
    articles = Article.objects.filter(first_published_at__isnull=False)
    if organisation is not None:
        articles = articles.filter(organisation=organisation)
    ids = articles.annotate(key=Cast("pk", output_field=CharField())).values("key")
    removals = discussion_selectors.removed_comments(Article, ids, limit=limit)
    by_id = Article.objects.select_related("organisation").in_bulk(
        {int(r.object_id) for r in removals}
    )
    return [
        LogEntry(removal=r, article=by_id[int(r.object_id)])
        for r in removals
        if int(r.object_id) in by_id
    ]


# Writers and editors -------------------------------------------------------------------


@dataclass
class GroupArticles:
    """A group's articles as one viewer may see them."""

    waiting_review: list[Article] = field(default_factory=list)
    mine: list[Article] = field(default_factory=list)
    scheduled: list[Article] = field(default_factory=list)
    published: list[Revision] = field(default_factory=list)


def group_articles(
    group: Group, viewer: Any, now: datetime | None = None
) -> GroupArticles:
    """Published articles of the group's subtree for everyone; for its writers their
    own unpublished articles; for editors everything waiting (three queries)."""
    result = GroupArticles(published=latest(group=group, limit=50, now=now))
    if not rules.can_write(viewer):
        return result
    unpublished = (
        Article.objects.filter(group__path__startswith=group.path)
        .exclude(status__in=[Article.Status.PUBLISHED])
        .select_related("author", "group", "organisation")
        .order_by("-updated_at", "-id")
    )
    if not rules.is_editor(viewer):
        unpublished = unpublished.filter(author_id=viewer.user.pk)
    for article in unpublished[:200]:
        if article.status == Article.Status.SUBMITTED:
            result.waiting_review.append(article)
        elif article.status == Article.Status.SCHEDULED:
            result.scheduled.append(article)
        else:
            result.mine.append(article)
    return result


def article_in_group(group: Group, article_id: int) -> Article:
    """The group's own article (``Article.DoesNotExist`` for any other)."""
    return Article.objects.select_related(
        "group", "organisation", "author", "lead_image"
    ).get(pk=article_id, group=group)


def articles_count(group: Group, viewer: Any) -> int:
    """Beside the Articles section: articles waiting for an editor's review (for
    editors), else the group's live articles (one query)."""
    if rules.is_editor(viewer):
        return Article.objects.filter(
            group__path__startswith=group.path, status=Article.Status.SUBMITTED
        ).count()
    return live_revisions().filter(article__group__path__startswith=group.path).count()


def articles_overview(group: Group, viewer: Any) -> GroupOverview:
    """Needs you: for editors, articles waiting for review; for writers, their
    articles sent back with changes asked for (one query)."""
    if rules.is_editor(viewer):
        waiting = list(
            Article.objects.filter(
                group__path__startswith=group.path, status=Article.Status.SUBMITTED
            )
            .select_related("group")
            .order_by("submitted_at")[:20]
        )
        return GroupOverview(
            needs_you=[
                NeedsYou(
                    text=_("“%(title)s” waits for your review.") % {"title": a.title},
                    url=reverse("publishing:detail", args=[a.group.slug, a.pk]),
                    due=None,
                )
                for a in waiting
            ]
        )
    if rules.can_write(viewer):
        returned = list(
            Article.objects.filter(
                group__path__startswith=group.path,
                status=Article.Status.CHANGES_REQUESTED,
                author_id=viewer.user.pk,
            )
            .select_related("group")
            .order_by("-updated_at")[:20]
        )
        return GroupOverview(
            needs_you=[
                NeedsYou(
                    text=_("An editor asked for changes to “%(title)s”.")
                    % {"title": a.title},
                    url=reverse("publishing:detail", args=[a.group.slug, a.pk]),
                )
                for a in returned
            ]
        )
    return GroupOverview()


def images_of(article: Article) -> list[Any]:
    from .models import ArticleImage

    return list(
        ArticleImage.objects.filter(article=article).order_by("uploaded_at", "id")
    )


def articles_waiting_text(count: int) -> str:
    return ngettext(
        "%(count)d article waits for review.",
        "%(count)d articles wait for review.",
        count,
    ) % {"count": count}


# Personal data ---------------------------------------------------------------------------


def personal_data_articles(user: Any) -> dict[str, Any]:
    """The member's byline and the articles they wrote (titles, states, dates)."""
    profile = AuthorProfile.objects.filter(user=user).first()
    return {
        "byline": {"slug": profile.slug, "bio": profile.bio} if profile else None,
        "articles": [
            {
                "title": article.title,
                "status": article.status,
                "group": article.group.name,
                "created_at": article.created_at.isoformat(),
                "first_published_at": article.first_published_at.isoformat()
                if article.first_published_at
                else None,
            }
            for article in Article.objects.filter(author=user).select_related("group")
        ],
    }
