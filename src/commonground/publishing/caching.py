"""What publishing caches, and how it is invalidated.

- The rendered article (header, body, corrections, tags): keyed by the live
  revision's id and the language. A revision never changes once published, so the
  key never needs invalidating: publishing again makes a new revision and so a new
  key; the old entries expire unused (``FRAGMENT_SECONDS``).
- Lists readers see (the home page's latest articles, a movement's front page):
  keyed by a generation number that every publication, withdrawal and
  unscheduling bumps (after commit), and kept no longer than until the next
  scheduled publication is due (so it appears on time without any job).

- The whole article page as a reader without an account sees it (with a
  placeholder for their own CSRF token; ``views.public.article``), keyed by the
  article's *stamp*: its cache version, live revision and times. The stamp itself
  is cached per address (``STAMP_SECONDS``, never past the article's next scheduled
  revision) and deleted when the article changes (after commit), so a cached view
  costs no query at all.

Readers' pages send ``Cache-Control: private, no-cache`` and ``Last-Modified``:
browsers revalidate and get 304 while nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

FRAGMENT_SECONDS = 24 * 60 * 60
LIST_SECONDS = 5 * 60
STAMP_SECONDS = 30
PAGE_SECONDS = 60
_GENERATION = "publishing:generation"

T = TypeVar("T")


def generation() -> int:
    value = cache.get(_GENERATION)
    if value is None:
        cache.add(_GENERATION, 1, timeout=None)
        value = cache.get(_GENERATION) or 1
    return int(value)


def lists_changed() -> None:
    """Readers' lists are stale once the current transaction commits."""

    def bump() -> None:
        cache.add(_GENERATION, 1, timeout=None)
        try:
            cache.incr(_GENERATION)
        except ValueError:
            cache.set(_GENERATION, 2, timeout=None)

    transaction.on_commit(bump)


def _seconds_until_next_scheduled() -> int | None:
    from .models import Revision

    upcoming = (
        Revision.objects.filter(published_at__gt=timezone.now())
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    if upcoming is None:
        return None
    return max(1, int((upcoming - timezone.now()).total_seconds()) + 1)


def cached_list(name: str, build: Callable[[], T]) -> T:
    """``build()``'s result, shared by all readers until the lists change."""
    key = f"publishing:list:{generation()}:{name}"
    found = cache.get(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    value = build()
    until_next = _seconds_until_next_scheduled()
    timeout = LIST_SECONDS if until_next is None else min(LIST_SECONDS, until_next)
    cache.set(key, value, timeout=timeout)
    return value


def fragment_key(revision_id: int, language: str) -> str:
    return f"publishing:article-html:{revision_id}:{language}"


def cached_fragment(revision_id: int, language: str, render: Callable[[], Any]) -> str:
    key = fragment_key(revision_id, language)
    html = cache.get(key)
    if html is None:
        html = str(render())
        cache.set(key, html, timeout=FRAGMENT_SECONDS)
    return str(html)


def stamp_key(organisation_slug: str, slug: str) -> str:
    return f"publishing:stamp:{organisation_slug}:{slug}"


def article_changed(article: Any) -> None:
    """Forget the article's stamp once the current transaction commits."""
    key = stamp_key(article.organisation.slug, article.slug)
    transaction.on_commit(lambda: cache.delete(key))
