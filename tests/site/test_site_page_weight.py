"""Page weight: an ordinary page and everything it loads stays under 100 kB
compressed on first load, and nothing is fetched from another origin."""

from __future__ import annotations

import gzip
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from factories import make_group, make_member

pytestmark = pytest.mark.django_db

BUDGET_BYTES = 100 * 1024
ASSET = re.compile(r'<(?:link[^>]+href|script[^>]+src|img[^>]+src)="([^"]+)"')


def _gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9))


def page_weight(client: Client, path: str) -> tuple[int, list[str]]:
    """Compressed bytes of the page and of the assets it links, and those assets."""
    response = client.get(path)
    assert response.status_code == 200
    html = response.content
    assets = sorted(set(ASSET.findall(html.decode())))
    total = _gzipped(html)
    for url in assets:
        assert url.startswith("/") and not url.startswith("//"), url
        if url.startswith("/static/"):
            found = finders.find(url.removeprefix("/static/"))
            assert found, url
            with open(found, "rb") as handle:
                total += _gzipped(handle.read())
        else:  # the manifest, an organisation's brand stylesheet, uploaded logos
            asset = client.get(url)
            assert asset.status_code == 200, url
            total += _gzipped(b"".join(asset) if asset.streaming else asset.content)
    return total, assets


@pytest.mark.parametrize("signed_in", [False, True])
def test_ordinary_pages_stay_within_100_kB_compressed_and_same_origin(
    client, signed_in
):
    group = make_group(name="Leeds branch")
    member = make_member(group)  # a site in use: "/" is its home, not the first run
    if signed_in:
        client.force_login(member)
    for path in ("/", f"/groups/{group.slug}/", "/groups/"):
        total, assets = page_weight(client, path)
        print(f"page weight {path} signed_in={signed_in}: {total} B gzip, {assets}")
        assert total <= BUDGET_BYTES, (path, total, assets)
