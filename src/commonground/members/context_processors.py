"""``org_brand``: how the current page's organisation looks, for the base template.

Context processors cannot see the view's context, so the page's organisation comes from
its URL: a group page (``/groups/<slug>/...``, in any app) belongs to the group's
organisation; an organisation page has ``org_slug``. Other pages get ``None`` and the
platform's own look. The lookup is lazy (a page that never reads ``org_brand`` costs no
query) and runs at most once per request.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from . import selectors

_NO_BRAND = object()


def _brand(request: HttpRequest) -> Any:
    cached = getattr(request, "_org_brand", _NO_BRAND)
    if cached is not _NO_BRAND:
        return cached
    brand = None
    match = getattr(request, "resolver_match", None)
    kwargs = match.kwargs if match is not None else {}
    org_slug = kwargs.get("org_slug")
    slug = kwargs.get("slug")
    if isinstance(org_slug, str):
        brand = selectors.brand_for_organisation_slug(org_slug)
    elif isinstance(slug, str) and f"/groups/{slug}/" in request.path:
        brand = selectors.brand_for_group_slug(slug, request.user)
    request._org_brand = brand  # type: ignore[attr-defined]
    return brand


def branding(request: HttpRequest) -> dict[str, Any]:
    """``org_brand``: a ``members.branding.Brand`` (name, accent, accent_ink,
    accent_text, logo_url, logo_width, logo_height, logo_srcset) or a falsy value."""
    # SimpleLazyObject proxies bool(): ``{% if org_brand %}`` is false without a brand.
    return {"org_brand": SimpleLazyObject(lambda: _brand(request))}
