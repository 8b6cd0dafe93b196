"""What anyone can read without an account: articles, lists, tags, authors, revision
history, search, the public moderation log, feeds and the sitemap.

The article page is the busiest page of the site. For a reader without an account
or messages, the whole rendered page is cached (keyed by the article's live
revision and cache version, language and time zone; ``caching``) with a placeholder
where each reader's own CSRF token goes, so a cached page costs no template work
and no query. Pages send ``Last-Modified`` and answer ``If-Modified-Since`` with
304.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from commonground.core.capabilities import call_to_action_for

from .. import caching, selectors
from ..forms import SearchForm
from ..models import Article

# Stands in the cached page where each reader's CSRF token goes.
TOKEN_PLACEHOLDER = "cg-csrf-placeholder-7f3c9a"


def _movement_or_404(org_slug: str) -> Any:
    organisation = selectors.organisation_by_slug(org_slug)
    if organisation is None:
        raise Http404("No such movement")
    return organisation


def _share(request: HttpRequest, page: selectors.ArticlePage) -> dict[str, Any]:
    """Open Graph and canonical metadata (absolute addresses)."""
    article, revision = page.article, page.revision
    image = None
    if revision.lead_image is not None and revision.lead_image.renditions:
        widest = max(revision.lead_image.renditions, key=lambda r: int(r["width"]))
        from ..rendering import rendition_url

        image = {
            "url": request.build_absolute_uri(rendition_url(widest["name"])),
            "width": widest["width"],
            "height": widest["height"],
            "alt": revision.lead_image.alt,
        }
    return {
        "canonical": request.build_absolute_uri(article.get_absolute_url()),
        "description": revision.standfirst or revision.text[:200],
        "image": image,
    }


def _article_context(
    request: HttpRequest, page: selectors.ArticlePage
) -> dict[str, Any]:
    from ..rendering import embedded

    article = page.article
    found = call_to_action_for(article.call_to_action, request, article)
    cta = {**found[1], "template": found[0].template} if found else None
    lead_image = page.revision.lead_image
    return {
        "article": article,
        "page": page,
        "revision": page.revision,
        "lead": embedded(lead_image) if lead_image and lead_image.renditions else None,
        "share": _share(request, page),
        "cta": cta,
        "moderation_log_url": reverse(
            "publishing:movement_moderation_log", args=[article.organisation.slug]
        ),
    }


def _cacheable(request: HttpRequest) -> bool:
    """Anonymous, with no messages or session waiting and no query string (a reply
    form asked for): every such reader sees the same page but for their CSRF
    token."""
    return (
        not request.GET
        and "messages" not in request.COOKIES
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and not request.user.is_authenticated
    )


def _not_modified(request: HttpRequest, last_modified: Any) -> bool:
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and int(last_modified.timestamp()) <= since


def _stamp(org_slug: str, slug: str) -> selectors.Stamp | None:
    """The article's stamp from the cache, or from the database (then cached until
    it changes, ``STAMP_SECONDS`` at most, never past its next scheduled revision)."""
    key = caching.stamp_key(org_slug, slug)
    stamp = cache.get(key)
    now = timezone.now()
    if stamp is not None and (stamp.next_due is None or stamp.next_due > now):
        return stamp  # type: ignore[no-any-return]
    stamp = selectors.stamp_of(org_slug, slug, now)
    if stamp is not None:
        timeout = caching.STAMP_SECONDS
        if stamp.next_due is not None:
            timeout = max(1, min(timeout, int((stamp.next_due - now).total_seconds())))
        cache.set(key, stamp, timeout=timeout)
    return stamp


@require_safe
def article(request: HttpRequest, org_slug: str, slug: str) -> HttpResponse:
    if _cacheable(request):
        stamp = _stamp(org_slug, slug)
        if stamp is not None and stamp.live:
            return _cached_article(request, org_slug, slug, stamp)
    found = selectors.article_by_slug(org_slug, slug)
    if found is None:
        raise Http404("No such article")
    page = selectors.article_page(found)
    if page is None:
        if found.withdrawn_at is not None and found.first_published_at is not None:
            return render(
                request, "publishing/withdrawn.html", {"article": found}, status=410
            )
        raise Http404("No such article")
    response = render(
        request, "publishing/article.html", _article_context(request, page)
    )
    response["Cache-Control"] = "private, no-cache, no-store"
    return response


def _cached_article(
    request: HttpRequest, org_slug: str, slug: str, stamp: selectors.Stamp
) -> HttpResponse:
    """A reader without an account: the shared rendered page with their own CSRF
    token put in; no query when the page and its stamp are cached."""
    if stamp.last_modified is not None and _not_modified(request, stamp.last_modified):
        return HttpResponseNotModified()
    key = (
        f"publishing:page:{stamp.article_id}:{stamp.version}:{stamp.revision_id}:"
        f"{get_language()}:{timezone.get_current_timezone_name()}"
    )
    html = cache.get(key)
    if html is None:
        found = selectors.article_by_slug(org_slug, slug)
        if found is None:
            raise Http404("No such article")
        context = {
            **_article_context(request, _page(found)),
            "csrf_token": TOKEN_PLACEHOLDER,
        }
        html = render_to_string("publishing/article.html", context, request)
        cache.set(key, html, timeout=caching.PAGE_SECONDS)
    response = HttpResponse(html.replace(TOKEN_PLACEHOLDER, get_token(request)))
    if stamp.last_modified is not None:
        response["Last-Modified"] = http_date(stamp.last_modified.timestamp())
    response["Cache-Control"] = "private, no-cache"
    return response


def _page(found: Article) -> selectors.ArticlePage:
    page = selectors.article_page(found)
    if page is None:  # withdrawn or unscheduled between two queries
        raise Http404("No such article")
    return page


def _list_page(
    request: HttpRequest, template: str, revisions: list[Any], **context: Any
) -> HttpResponse:
    tags = selectors.tags_of(revisions)
    items = [(revision, tags.get(revision.pk, [])) for revision in revisions]
    response = render(request, template, {"items": items, **context})
    response["Cache-Control"] = "private, no-cache"
    return response


@require_safe
def all_articles(request: HttpRequest) -> HttpResponse:
    revisions = caching.cached_list("all", lambda: selectors.latest(limit=40))
    return _list_page(request, "publishing/all.html", revisions)


@require_safe
def movement(request: HttpRequest, org_slug: str) -> HttpResponse:
    """A movement's news front: latest articles, its tags, its feeds."""
    organisation = _movement_or_404(org_slug)
    revisions = caching.cached_list(
        f"movement:{organisation.pk}",
        lambda: selectors.latest(organisation=organisation, limit=40),
    )
    return _list_page(
        request,
        "publishing/movement.html",
        revisions,
        organisation=organisation,
        tags=selectors.tags_in_use(organisation),
    )


@require_safe
def tag(request: HttpRequest, org_slug: str, tag_slug: str) -> HttpResponse:
    found = selectors.tag_by_slug(org_slug, tag_slug)
    if found is None:
        raise Http404("No such tag")
    revisions = selectors.latest(organisation=found.organisation, tag=found, limit=50)
    return _list_page(
        request,
        "publishing/tag.html",
        revisions,
        tag=found,
        organisation=found.organisation,
    )


@require_safe
def author(request: HttpRequest, slug: str) -> HttpResponse:
    profile = selectors.author_by_slug(slug)
    if profile is None:
        raise Http404("No such author")
    revisions = selectors.latest(author_id=profile.user_id, limit=50)
    if not revisions and not profile.bio:
        raise Http404("No such author")
    return _list_page(request, "publishing/author.html", revisions, profile=profile)


def _live_article(org_slug: str, slug: str) -> Article:
    found = selectors.article_by_slug(org_slug, slug)
    if found is None or selectors.article_page(found) is None:
        raise Http404("No such article")
    return found


@require_safe
def revisions(request: HttpRequest, org_slug: str, slug: str) -> HttpResponse:
    found = _live_article(org_slug, slug)
    history = selectors.public_revisions(found)
    return render(
        request,
        "publishing/revisions.html",
        {"article": found, "revisions": list(reversed(history))},
    )


@require_safe
def revision_diff(
    request: HttpRequest, org_slug: str, slug: str, number: int
) -> HttpResponse:
    found = _live_article(org_slug, slug)
    diff = selectors.revision_diff(selectors.public_revisions(found), number)
    if diff is None:
        raise Http404("No such revision")
    return render(
        request, "publishing/revision_diff.html", {"article": found, "diff": diff}
    )


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    organisation = None
    movement_slug = request.GET.get("in", "")
    if movement_slug:
        organisation = selectors.organisation_by_slug(movement_slug[:60])
    results = selectors.search(query, organisation=organisation) if query else []
    tags = selectors.tags_of(results)
    return render(
        request,
        "publishing/search.html",
        {
            "form": form,
            "query": query,
            "organisation": organisation,
            "items": [(revision, tags.get(revision.pk, [])) for revision in results],
        },
    )


@require_safe
def moderation_log(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "publishing/moderation_log.html",
        {"entries": selectors.moderation_log(), "organisation": None},
    )


@require_safe
def movement_moderation_log(request: HttpRequest, org_slug: str) -> HttpResponse:
    organisation = _movement_or_404(org_slug)
    return render(
        request,
        "publishing/moderation_log.html",
        {
            "entries": selectors.moderation_log(organisation),
            "organisation": organisation,
        },
    )
