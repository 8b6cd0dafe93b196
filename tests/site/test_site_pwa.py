"""Installing the platform: web app manifest, icons, service worker, offline page."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.template.loader import render_to_string
from django.templatetags.static import PrefixNode, static
from PIL import Image

from commonground.site import views as site_views
from factories import UserFactory

pytestmark = pytest.mark.django_db

ACCENT = "#0b5c3b"


def _static_file(url: str) -> str:
    prefix = PrefixNode.handle_simple("STATIC_URL")
    assert url.startswith(prefix), url
    found = finders.find(url.removeprefix(prefix))
    assert found, f"{url} is not a static file"
    return found


def _worker_config(script: str) -> dict:
    match = re.search(r"const CONFIG = (\{.*?\n\});", script, re.S)
    assert match, script[:500]
    return json.loads(match.group(1))


# The manifest -------------------------------------------------------------------


def test_manifest_is_json_of_the_manifest_type_and_cacheable(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == "application/manifest+json"
    assert "max-age=" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["name"] == "Common Ground"
    assert data["short_name"]
    assert data["start_url"] == "/dashboard/"
    assert data["scope"] == "/"
    assert data["display"] == "standalone"
    assert data["theme_color"] == data["background_color"] == ACCENT
    assert data["lang"].lower().startswith("en")
    assert data["dir"] == "ltr"


def test_manifest_icons_exist_with_the_sizes_they_state(client):
    icons = json.loads(client.get("/manifest.webmanifest").content)["icons"]
    purposes = {(icon["sizes"], icon["purpose"]) for icon in icons}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= (
        purposes
    )
    for icon in icons:
        path = _static_file(icon["src"])
        if icon["type"] == "image/svg+xml":
            root = ET.parse(path).getroot()  # noqa: S314 - our own committed file
            assert root.tag.endswith("svg") and root.get("viewBox")
            assert icon["sizes"] == "any"
            continue
        assert icon["type"] == "image/png"
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert "x".join(map(str, image.size)) == icon["sizes"]


def test_maskable_icon_is_full_bleed_with_the_mark_inside_the_safe_zone():
    """Launchers crop maskable icons to any shape containing the centred circle of
    40 % radius: the background reaches every edge, the mark stays in that circle."""
    with Image.open(finders.find("pwa/icon-maskable-512.png")) as image:
        pixels = image.convert("RGB")
    side = pixels.size[0]
    accent = tuple(int(ACCENT[i : i + 2], 16) for i in (1, 3, 5))
    for x, y in [(0, 0), (side - 1, 0), (0, side - 1), (side - 1, side - 1)]:
        assert pixels.getpixel((x, y)) == accent
    centre = (side - 1) / 2
    for y in range(0, side, 4):
        for x in range(0, side, 4):
            if pixels.getpixel((x, y)) != accent:
                assert (x - centre) ** 2 + (y - centre) ** 2 <= (0.4 * side) ** 2


def test_apple_touch_icon_is_opaque_and_180_px():
    with Image.open(finders.find("pwa/apple-touch-icon.png")) as image:
        assert image.size == (180, 180)
        assert image.mode == "P" and "transparency" not in image.info


# The service worker ---------------------------------------------------------------


def test_service_worker_is_served_from_the_root_for_the_whole_site(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == "application/javascript"
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    csp = response["Content-Security-Policy"]
    assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp


def test_service_worker_precaches_the_offline_page_the_stylesheet_and_htmx(client):
    script = client.get("/sw.js").content.decode()
    config = _worker_config(script)
    assert config["offline"] == "/offline/"
    assert static("css/site.css") in config["precache"]
    assert static("vendor/htmx.org-2.0.4/htmx.min.js") in config["precache"]
    assert static("js/pwa.js") in config["precache"]
    assert config["staticPrefix"] == PrefixNode.handle_simple("STATIC_URL")
    assert re.fullmatch(r"commonground-[0-9a-f]{16}", config["cache"])
    assert config["cache"].startswith(config["cachePrefix"])
    for url in config["precache"]:
        _static_file(url)
    # No writes offline, no pages kept: only GETs are answered, only static files
    # are put in the cache, navigations fall back to the kept offline page.
    assert 'request.method !== "GET"' in script
    assert script.count("cache.put(") == 1
    assert "cacheFirstStatic(request)" in script
    assert 'request.mode === "navigate"' in script


def test_cache_version_follows_the_precached_files(client, monkeypatch):
    before = _worker_config(client.get("/sw.js").content.decode())["cache"]
    assert _worker_config(client.get("/sw.js").content.decode())["cache"] == before
    monkeypatch.setattr(site_views, "_static_fingerprint", lambda path: "changed")
    after = _worker_config(client.get("/sw.js").content.decode())["cache"]
    assert after != before


def test_with_hashed_static_names_the_worker_gets_the_hashed_urls(
    client, settings, tmp_path
):
    """Production's ManifestStaticFilesStorage: the URLs in sw.js are the hashed ones."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        },
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    config = _worker_config(client.get("/sw.js").content.decode())
    stylesheet = staticfiles_storage.url("css/site.css")
    assert re.search(r"site\.[0-9a-f]{12}\.css$", stylesheet)
    assert stylesheet in config["precache"]
    assert config["hashedNames"] is True
    offline = client.get("/offline/").content.decode()
    assert stylesheet in offline
    icons = json.loads(client.get("/manifest.webmanifest").content)["icons"]
    assert all(re.search(r"\.[0-9a-f]{12}\.(png|svg)$", i["src"]) for i in icons)


def test_pages_other_than_reads_are_refused(client):
    for path in ("/sw.js", "/manifest.webmanifest", "/offline/"):
        assert client.post(path).status_code == 405


# The offline page -----------------------------------------------------------------


def test_offline_page_renders_without_a_member_or_the_database(
    client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get("/offline/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "You are offline" in page
    assert (
        "Reading and voting need a connection; nothing you do offline is sent later."
        in page
    )
    assert '<a class="button" href="">Try again</a>' in page  # reloads the asked page
    assert "csrf" not in page.lower()


def test_offline_page_holds_nothing_personal_even_for_a_signed_in_member(client):
    member = UserFactory(display_name="Dev Kaur")
    client.force_login(member)
    page = client.get("/offline/").content.decode()
    assert "Dev Kaur" not in page and member.email not in page
    assert "Log out" not in page and "csrf" not in page.lower()
    assert page == render_to_string("site/offline.html")


def test_offline_page_uses_only_files_the_worker_keeps(client):
    page = client.get("/offline/").content.decode()
    config = _worker_config(client.get("/sw.js").content.decode())
    static_url = re.escape(PrefixNode.handle_simple("STATIC_URL"))
    used = set(re.findall(rf'(?:href|src)="({static_url}[^"]+)"', page))
    assert used and used <= set(config["precache"])
    assert "<script" not in page


# The head partial -----------------------------------------------------------------


def test_head_partial_links_manifest_icons_theme_and_the_registration_script():
    head = render_to_string("site/_pwa_head.html")
    assert '<link rel="manifest" href="/manifest.webmanifest">' in head
    assert f'<meta name="theme-color" content="{site_views.THEME_COLOUR}">' in head
    assert (
        f'<link rel="apple-touch-icon" href="{static("pwa/apple-touch-icon.png")}">'
        in (head)
    )
    script = re.search(r"<script ([^>]*)></script>", head)
    assert script, head
    assert f'src="{static("js/pwa.js")}"' in script.group(1)
    assert 'data-worker="/sw.js"' in script.group(1)
    assert script.group(1).endswith("defer")
    assert head.count("<script") == 1  # no inline script (CSP)


def test_an_ordinary_page_links_the_manifest_and_registers_the_worker(client):
    from factories import UserFactory

    UserFactory()  # a site in use (an empty one sends "/" to its first run)
    page = client.get("/").content.decode()
    head = page.split("</head>")[0]
    assert '<link rel="manifest" href="/manifest.webmanifest">' in head
    assert '<meta name="theme-color" content="#0b5c3b">' in head
    assert static("js/pwa.js") in head


def test_registration_script_is_feature_detected():
    with open(finders.find("js/pwa.js"), encoding="utf-8") as source:
        script = source.read()
    assert '"serviceWorker" in navigator' in script
