"""What anyone reads without an account: the article page (share metadata, reading
time, interview blocks), lists, tag and author pages, the home page, caching, and
the number of queries each page runs."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.http import http_date

from commonground.discussion import services as discussion
from commonground.publishing import services
from commonground.publishing.models import Article

pytestmark = pytest.mark.django_db


def test_article_page_has_share_metadata_reading_time_and_byline(
    client, published, writer
):
    services.author_profile_update(actor=writer, bio="Tenant and writer.")
    response = client.get(published.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    url = f"http://testserver{published.get_absolute_url()}"
    assert f'<link rel="canonical" href="{url}">' in html
    assert f'<meta property="og:url" content="{url}">' in html
    assert '<meta property="og:type" content="article">' in html
    assert (
        '<meta property="og:title" content="Rent caps pass their first vote">' in html
    )
    assert 'property="article:tag" content="Housing"' in html
    assert "1 minute read" in html
    assert "Tenant and writer." in html
    assert 'href="/authors/wren-writer/"' in html
    assert "<h3>What happened</h3>" in html  # "##": headings move below the title
    assert html.count("<h1") == 1


def test_interview_shows_question_and_answer_blocks(client, make_article):
    article = make_article(
        title="An interview",
        kind="interview",
        interviewee="Amara Osei",
        body="Intro.\n\nQ: Why join?\n\nA: To **decide**.",
    )
    html = client.get(article.get_absolute_url()).content.decode()
    assert (
        '<p class="qa qa--question"><strong class="qa__speaker">Question</strong> Why join?</p>'
        in html
    )
    assert (
        '<p class="qa qa--answer"><strong class="qa__speaker">Amara Osei</strong> To <strong>decide</strong>.</p>'
        in html
    )


def test_an_interview_needs_the_interviewees_name(draft, editor):
    from django.core.exceptions import ValidationError

    services.article_update(
        actor=editor, article=draft, title="Q&A", kind="interview", body="Q: a\n\nA: b"
    )
    with pytest.raises(ValidationError):
        services.article_publish(actor=editor, article=draft)


def test_unknown_movement_article_and_wrong_movement_are_404(client, published):
    assert client.get("/articles/nowhere/").status_code == 404
    assert (
        client.get(f"/articles/{published.organisation.slug}/nothing/").status_code
        == 404
    )
    assert client.get(f"/articles/other-org/{published.slug}/").status_code == 404
    assert client.get("/tags/x/y/").status_code == 404
    assert client.get("/authors/nobody/").status_code == 404


def test_lists_tag_and_author_pages(client, published, make_article):
    other = make_article(title="Buses, not bypasses", tags=["Climate"])
    slug = published.organisation.slug
    front = client.get(reverse("publishing:movement", args=[slug])).content.decode()
    assert published.title in front and other.title in front
    assert "Housing (1)" in front and "Climate (1)" in front
    housing = client.get(
        reverse("publishing:tag", args=[slug, "housing"])
    ).content.decode()
    assert published.title in housing and other.title not in housing
    author = client.get("/authors/wren-writer/").content.decode()
    assert published.title in author
    everything = client.get("/articles/").content.decode()
    assert published.title in everything


def test_home_page_shows_latest_articles_to_visitors(client, published):
    html = client.get("/").content.decode()
    assert "Latest articles" in html
    assert published.title in html
    assert 'href="/articles/"' in html


def test_home_page_without_articles_has_no_empty_section(client, national, member):
    assert "Latest articles" not in client.get("/").content.decode()


def test_drafts_are_in_no_list(client, draft, published):
    services.article_update(
        actor=published.author, article=published, title="Secret edit", body="x"
    )
    for path in (
        "/",
        "/articles/",
        f"/articles/{published.organisation.slug}/",
        "/sitemap.xml",
    ):
        html = client.get(path).content.decode()
        assert "Secret edit" not in html
    # The draft itself is nowhere either.
    other = Article.objects.create(
        group=published.group,
        organisation=published.organisation,
        slug="unpublished",
        title="Unpublished draft",
        author=published.author,
        created_at=published.created_at,
        updated_at=published.updated_at,
    )
    assert client.get(other.get_absolute_url()).status_code == 404
    assert "Unpublished draft" not in client.get("/articles/").content.decode()


def _queries(client, path):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(captured.captured_queries)


def _thread(article, members, depth=2):
    parent = None
    for index, member in enumerate(members):
        comment = discussion.comment_post(
            author=member, target=article, body=f"comment {index}", parent=parent
        )
        parent = comment if index % depth else None


@pytest.mark.parametrize("signed_in", [False, True])
def test_article_page_queries_do_not_grow_with_comments_or_tags(
    client, published, national, signed_in, make_article
):
    from factories import make_member

    if signed_in:
        client.force_login(make_member(national))
    cache.clear()
    few = _queries(client, published.get_absolute_url())
    _thread(published, [make_member(national) for _ in range(8)])
    services.article_update(
        actor=published.author,
        article=published,
        title=published.title,
        body=published.body + "\n\nMore.",
        tags=["A", "B", "C", "D", "E"],
    )
    services.article_publish(
        actor=published.group and _editor(published), article=published
    )
    cache.clear()
    many = _queries(client, published.get_absolute_url())
    assert many == few
    assert many <= (17 if signed_in else 9)


def _editor(article):
    from commonground.members.models import Role, RoleAssignment

    return RoleAssignment.objects.filter(role=Role.EDITOR).first().user


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/articles/",
        "/articles/{org}/",
        "/tags/{org}/housing/",
        "/authors/wren-writer/",
        "/search/?q=rent",
        "/moderation-log/{org}/",
        "/feeds/{org}/atom/",
        "/sitemap.xml",
    ],
)
def test_list_pages_pin_their_query_counts(client, published, make_article, path):
    org = published.organisation.slug
    path = path.format(org=org)
    cache.clear()
    few = _queries(client, path)
    for index in range(6):
        make_article(title=f"Rent story {index}", tags=["Housing", f"T{index}"])
    cache.clear()
    assert _queries(client, path) == few


def test_anonymous_article_page_is_cached_with_each_readers_own_token(
    published, national
):
    from factories import make_member

    cache.clear()
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    page_one = first.get(published.get_absolute_url())
    with CaptureQueriesContext(connection) as captured:
        page_two = second.get(published.get_absolute_url())
    assert len(captured.captured_queries) == 0  # the stamp and the page are cached
    token_one = re.search(r'"X-CSRFToken": "([^"]+)"', page_one.content.decode()).group(
        1
    )
    token_two = re.search(r'"X-CSRFToken": "([^"]+)"', page_two.content.decode()).group(
        1
    )
    assert token_one != token_two
    assert "cg-csrf-placeholder" not in page_two.content.decode()
    assert page_two["Cache-Control"] == "private, no-cache"
    assert page_two["Last-Modified"]
    # The second reader's own token works for posting a visitor comment.
    response = second.post(
        f"/discussion/on/publishing.article/{published.pk}/",
        {
            "csrfmiddlewaretoken": token_two,
            "name": "Sam",
            "email": "sam@example.org",
            "body": "Hello",
        },
    )
    assert response.status_code == 302
    # A member's page is never the cached one.
    member_client = Client()
    member_client.force_login(make_member(national))
    html = member_client.get(published.get_absolute_url()).content.decode()
    assert "Log in</a> to comment" not in html
    assert (
        "no-store" in member_client.get(published.get_absolute_url())["Cache-Control"]
    )


def test_cached_page_changes_when_a_comment_appears_or_goes(
    client, published, member, editor, django_capture_on_commit_callbacks
):
    client.get(published.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        comment = discussion.comment_post(
            author=member, target=published, body="A brand new comment"
        )
    assert (
        "A brand new comment"
        in client.get(published.get_absolute_url()).content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        discussion.comment_remove(
            moderator=editor, comment=comment, reason="Off topic", rule="off_topic"
        )
    html = client.get(published.get_absolute_url()).content.decode()
    assert "A brand new comment" not in html and "Off topic: 1 comment" in html


def test_cached_page_changes_when_a_new_version_is_published(
    client, published, editor, django_capture_on_commit_callbacks
):
    client.get(published.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        services.article_update(
            actor=editor,
            article=published,
            title="A corrected title",
            body=published.body,
            tags=["Housing"],
        )
        services.article_publish(
            actor=editor, article=published, correction="Title fixed."
        )
    html = client.get(published.get_absolute_url()).content.decode()
    assert "A corrected title" in html and "Title fixed." in html


def test_not_modified_since_the_last_change(client, published, member):
    published.refresh_from_db()
    stamp = published.changed_at or published.revisions.get().published_at
    since = http_date(stamp.timestamp() + 1)
    response = client.get(
        published.get_absolute_url(), headers={"If-Modified-Since": since}
    )
    assert response.status_code == 304
    discussion.comment_post(author=member, target=published, body="news")
    response = client.get(
        published.get_absolute_url(), headers={"If-Modified-Since": since}
    )
    assert response.status_code in (200, 304)
    published.refresh_from_db()
    if published.changed_at.timestamp() > stamp.timestamp() + 1:
        assert response.status_code == 200


def test_the_join_call_to_action_ends_the_article(client, make_article):
    article = make_article(title="Join us", call_to_action="join")
    html = client.get(article.get_absolute_url()).content.decode()
    assert 'class="cta-block' in html and "Create an account and join" in html
    plain = make_article(title="No block")
    assert (
        'class="cta-block' not in client.get(plain.get_absolute_url()).content.decode()
    )


def test_editor_pages_render(client, draft, editor, national, picture):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(editor)
    services.image_upload(
        actor=editor,
        article=draft,
        upload=SimpleUploadedFile("a.png", picture(100, 80)),
        alt="A",
    )
    for url in (
        reverse("publishing:group_articles", args=[national.slug]),
        reverse("publishing:new", args=[national.slug]),
        reverse("publishing:edit", args=[national.slug, draft.pk]),
        reverse("publishing:detail", args=[national.slug, draft.pk]),
        reverse("publishing:policy", args=[national.slug]),
        reverse("publishing:byline"),
    ):
        assert client.get(url).status_code == 200, url


def test_group_articles_page_pins_its_queries_for_an_editor(
    client, national, editor, writer, make_article
):
    client.force_login(editor)
    url = reverse("publishing:group_articles", args=[national.slug])
    make_article(title="Published first")
    client.get(url)
    few = _queries(client, url)
    for index in range(5):
        make_article(title=f"Published {index}", tags=[f"T{index}"])
        draft = services.article_create(
            actor=writer, group=national, title=f"Draft {index}", body="x"
        )
        services.article_submit(actor=writer, article=draft)
    assert _queries(client, url) == few
