"""Site-wide pages: the public home page, and what makes the platform installable.

The home page shows visitors what the capabilities registered for it (the latest
articles, upcoming events as they arrive: ``core.capabilities.HomeSection``), how
to join, and the organisations on this platform with their top groups.

Installing (a progressive web app): ``manifest`` is the web app manifest (name,
colours, icons; the head partial site/_pwa_head.html links it), ``service_worker``
serves /sw.js from the root so its scope is the whole site, and ``offline`` is the
page the worker shows when a page cannot be fetched. The worker keeps only static
assets and that offline page: pages with members' data are never cached, and
nothing written offline is kept or sent later (see templates/site/sw.js).
"""

from __future__ import annotations

import hashlib
import json

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import PrefixNode, static
from django.urls import reverse
from django.utils.translation import get_language, get_language_bidi, gettext, pgettext
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from commonground.core.capabilities import home_page_sections
from commonground.members.selectors import organisations_with_groups, site_is_empty

# The accent colour of static/css/site.css (--accent): browser chrome and splash.
THEME_COLOUR = "#0b5c3b"
# Static files the service worker keeps at install (besides the offline page): what
# base.html loads on every page, and what the offline page shows. Paths as given to
# {% static %}; the worker gets their URLs, hashed in production.
PRECACHED_STATIC = (
    "css/site.css",
    "vendor/htmx.org-2.0.4/htmx.min.js",
    "js/pwa.js",
    "pwa/icon.svg",
)
ICONS = (
    ("pwa/icon-192.png", "192x192", "image/png", "any"),
    ("pwa/icon-512.png", "512x512", "image/png", "any"),
    ("pwa/icon-maskable-512.png", "512x512", "image/png", "maskable"),
    ("pwa/icon.svg", "any", "image/svg+xml", "any"),
)
CACHE_PREFIX = "commonground-"
MANIFEST_MAX_AGE = 24 * 60 * 60


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated and site_is_empty():
        return redirect("members:setup")  # a fresh install: its first run
    return render(
        request,
        "site/home.html",
        {
            "organisations": organisations_with_groups(),
            "sections": home_page_sections(request),
        },
    )


@require_safe
@cache_control(public=True, max_age=MANIFEST_MAX_AGE)
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: what a phone needs to put the platform on its home
    screen and open it like an app (standalone, in the accent colour)."""
    data = {
        "id": reverse("home"),
        "name": gettext("Common Ground"),
        "short_name": pgettext("app name under its home screen icon", "Common Ground"),
        "description": gettext(
            "Groups, discussion and binding votes: members, not leaders, decide."
        ),
        "lang": get_language(),
        "dir": "rtl" if get_language_bidi() else "ltr",
        "start_url": reverse("core:dashboard"),
        "scope": reverse("home"),
        "display": "standalone",
        "background_color": THEME_COLOUR,
        "theme_color": THEME_COLOUR,
        "icons": [
            {"src": static(path), "sizes": sizes, "type": kind, "purpose": purpose}
            for path, sizes, kind, purpose in ICONS
        ],
    }
    return JsonResponse(
        data,
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )


def _offline_page() -> str:
    """Rendered without a request: no user, no session, no CSRF token, no queries,
    so the copy the worker keeps holds nothing personal."""
    return render_to_string("site/offline.html")


def _static_fingerprint(path: str) -> str:
    found = finders.find(path)
    if not found or isinstance(found, list):
        return ""
    with open(found, "rb") as source:
        return hashlib.sha256(source.read()).hexdigest()


def service_worker_config() -> dict[str, object]:
    """What sw.js is told: its cache's name, the URLs to keep at install, the static
    prefix, and whether static names carry a content hash.

    The cache's version hashes the precached URLs, their contents and the offline
    page, so a deployment that changes any of them installs a new worker (its
    script's bytes change) that replaces the old cache.
    """
    precache = [static(path) for path in PRECACHED_STATIC]
    offline_url = reverse("pwa_offline")
    version = hashlib.sha256()
    for path, url in zip(PRECACHED_STATIC, precache, strict=True):
        version.update(f"{url}\n{_static_fingerprint(path)}\n".encode())
    version.update(_offline_page().encode())
    return {
        "cache": CACHE_PREFIX + version.hexdigest()[:16],
        "cachePrefix": CACHE_PREFIX,
        "offline": offline_url,
        "precache": precache,
        "staticPrefix": PrefixNode.handle_simple("STATIC_URL"),
        # Hashed names (ManifestStaticFilesStorage) never change content, so any
        # static file fetched may be kept; plain names are kept only if precached.
        "hashedNames": isinstance(staticfiles_storage, ManifestFilesMixin),
    }


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    """/sw.js, from the root so the worker may control every page of the site."""
    script = render_to_string(
        "site/sw.js", {"config": json.dumps(service_worker_config(), indent=2)}
    )
    response = HttpResponse(script, content_type="application/javascript")
    response["Service-Worker-Allowed"] = reverse("home")
    # The browser checks for a new worker on navigations; it must always ask us.
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def offline(request: HttpRequest) -> HttpResponse:
    """The page shown instead of any page that cannot be fetched (no network)."""
    return HttpResponse(_offline_page())
