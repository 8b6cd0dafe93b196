"""Feeds parse (feedparser) and the sitemap is valid XML naming every live article."""

from __future__ import annotations

from xml.etree import ElementTree

import feedparser
import pytest

from commonground.publishing import services

pytestmark = pytest.mark.django_db

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _parsed(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert response["Cache-Control"].startswith("public")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, (path, feed.get("bozo_exception"))
    return response, feed


@pytest.mark.parametrize("flavour", ["atom", "rss"])
def test_movement_group_and_tag_feeds_parse_and_carry_the_articles(
    client, published, make_article, flavour, picture, writer, editor
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    climate = make_article(
        title="Buses, not bypasses", tags=["Climate"], standfirst="Why."
    )
    image = services.image_upload(
        actor=writer,
        article=climate,
        upload=SimpleUploadedFile("a.png", picture(600, 300)),
        alt="Bus",
    )
    services.article_update(
        actor=editor,
        article=climate,
        title=climate.title,
        standfirst="Why.",
        body=f"Text.\n\n{image.reference}",
        tags=["Climate"],
    )
    services.article_publish(actor=editor, article=climate)
    org = published.organisation.slug
    response, feed = _parsed(client, f"/feeds/{org}/{flavour}/")
    titles = [entry.title for entry in feed.entries]
    assert titles == ["Buses, not bypasses", published.title]
    entry = feed.entries[0]
    assert entry.link == f"http://testserver{climate.get_absolute_url()}"
    assert "Climate" in [tag.term for tag in entry.tags]
    assert 'src="http://testserver/media/articles/' in entry.description
    assert entry.get("author") == "Wren Writer"
    _response, tag_feed = _parsed(client, f"/feeds/{org}/tags/housing/{flavour}/")
    assert [e.title for e in tag_feed.entries] == [published.title]
    _response, group_feed = _parsed(
        client, f"/feeds/groups/{published.group.slug}/{flavour}/"
    )
    assert len(group_feed.entries) == 2


def test_feeds_of_unknown_scopes_are_404(client, published):
    assert client.get("/feeds/nowhere/atom/").status_code == 404
    assert client.get("/feeds/npp/tags/none/rss/").status_code == 404
    assert client.get("/feeds/groups/none/atom/").status_code == 404


def test_private_groups_have_no_feed(client, national):
    from factories import make_group

    private = make_group(parent=national, name="Private", is_public=False)
    assert client.get(f"/feeds/groups/{private.slug}/atom/").status_code == 404


def test_sitemap_is_valid_xml_listing_live_articles_tags_and_authors(
    client, published, draft, make_article
):
    make_article(title="Second", tags=["Climate"])
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{SITEMAP_NS}urlset"
    locations = [node.text for node in root.iter(f"{SITEMAP_NS}loc")]
    assert f"http://testserver{published.get_absolute_url()}" in locations
    assert f"http://testserver/tags/{published.organisation.slug}/climate/" in locations
    assert "http://testserver/authors/wren-writer/" in locations
    assert f"http://testserver/articles/{published.organisation.slug}/" in locations
    assert len(locations) == len(set(locations))
    assert [node.text for node in root.iter(f"{SITEMAP_NS}lastmod")]
