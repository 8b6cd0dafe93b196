"""Full-text search over live articles: PostgreSQL's ranked, stemmed search; a
working word search on SQLite. Drafts and unconfirmed or removed comments are never
found."""

from __future__ import annotations

import pytest
from django.db import connection

from commonground.publishing import selectors, services

pytestmark = pytest.mark.django_db


def test_search_finds_live_articles_by_title_and_text(client, published, make_article):
    climate = make_article(
        title="Heat pumps in terraced streets", body="Bills fell by a third."
    )
    assert [r.article_id for r in selectors.search("heat pumps")] == [climate.pk]
    assert [r.article_id for r in selectors.search("bills")] == [climate.pk]
    assert [r.article_id for r in selectors.search("signatures")] == [published.pk]
    assert selectors.search("nothing-like-this") == []
    assert selectors.search("   ") == []
    html = client.get("/search/?q=heat+pumps").content.decode()
    assert climate.title in html and "1 article found" in html


def test_search_ranks_and_stems_on_postgresql(make_article):
    if connection.vendor != "postgresql":
        pytest.skip("stemming and ranking are PostgreSQL's")
    rents = make_article(
        title="Rents", body="Rents rise. Rents rise again. Renting is hard."
    )
    make_article(title="Buses", body="Buses and one mention of rent.")
    found = selectors.search("rent")
    assert found[0].article_id == rents.pk and len(found) == 2
    assert selectors.search('"rise again"')[0].article_id == rents.pk
    assert [r.article_id for r in selectors.search("rent -buses")] == [rents.pk]


def test_search_never_finds_drafts_or_unpublished_changes(published, writer, draft):
    other = services.article_create(
        actor=writer, group=published.group, title="Secret plan", body="zebra"
    )
    services.article_update(
        actor=writer, article=published, title="Changed", body="giraffe"
    )
    assert selectors.search("zebra") == [] and selectors.search("giraffe") == []
    assert other.pk


def test_search_within_one_movement(published, make_article):
    from factories import make_group

    assert selectors.search("signatures", organisation=published.organisation)
    elsewhere = make_group(name="Elsewhere")
    assert selectors.search("signatures", organisation=elsewhere.organisation) == []


def test_malicious_queries_are_just_words(client, published):
    for query in ["' OR 1=1--", "1;SELECT pg_sleep(5)", "%", "_", "\\", "&|!:*()"]:
        response = client.get("/search/", {"q": query})
        assert response.status_code == 200


def test_postgresql_search_has_an_index_its_query_can_use(make_article):
    if connection.vendor != "postgresql":
        pytest.skip("the full-text index is PostgreSQL's")
    make_article(title="Rents", body="Rents rise.")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s",
            ["publishing_revision_text_fts"],
        )
        (definition,) = cursor.fetchone()
        assert "gin" in definition and "to_tsvector" in definition
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM publishing_revision WHERE "
            "to_tsvector('english'::regconfig, COALESCE(text, '')) @@ "
            "websearch_to_tsquery('english'::regconfig, %s)",
            ["rent"],
        )
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "publishing_revision_text_fts" in plan
