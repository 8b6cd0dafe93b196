"""The thread over HTTP: full pages without JavaScript, fragments for htmx."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from commonground.discussion import services
from commonground.discussion.models import Comment
from commonground.discussion.views import thread_url
from commonground.members.models import Role
from factories import UserFactory, make_group, make_member, make_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def group():
    return make_group(name="Leeds branch")


@pytest.fixture
def member(group):
    return make_member(group)


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


def test_thread_page_shows_comments_replies_and_a_reply_form(
    member_client, group, member
):
    comment = services.comment_post(author=member, target=group, body="**Bold** idea")
    services.comment_post(author=member, target=group, body="a reply", parent=comment)
    response = member_client.get(thread_url(group))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>Bold</strong> idea" in html
    assert f'id="replies-{comment.pk}"' in html
    assert f'name="parent" value="{comment.pk}"' in html
    assert "Post comment" in html
    assert member.public_name in html


def test_post_without_javascript_redirects_back_to_the_comment(member_client, group):
    response = member_client.post(
        thread_url(group), {"body": "Hello branch", "next": "/groups/"}
    )
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/groups/#comment-{comment.pk}"
    assert comment.body == "Hello branch"


def test_offsite_next_is_ignored(member_client, group):
    response = member_client.post(
        thread_url(group), {"body": "Hello", "next": "https://evil.example/"}
    )
    assert response["Location"].startswith(thread_url(group))


def test_htmx_post_returns_the_new_comment_fragment(member_client, group):
    response = member_client.post(
        thread_url(group),
        {"body": "Via *htmx*", "form_id": "discussion-x-form"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 201
    html = response.content.decode()
    assert html.lstrip().startswith("<li")
    assert "<em>htmx</em>" in html
    assert "<html" not in html


def test_htmx_reply_is_attached_to_parent(member_client, group, member):
    parent = services.comment_post(author=member, target=group, body="first")
    response = member_client.post(
        thread_url(group),
        {"body": "reply", "parent": parent.pk},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 201
    assert Comment.objects.get(body="reply").parent_id == parent.pk


def test_empty_comment_gives_field_error(member_client, group):
    response = member_client.post(thread_url(group), {"body": "  "})
    assert response.status_code == 400
    assert "Write something before posting." in response.content.decode()
    assert Comment.objects.count() == 0


def test_htmx_error_is_retargeted_to_the_form_errors(member_client, group):
    response = member_client.post(
        thread_url(group),
        {"body": "", "form_id": "reply-9"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#reply-9-errors"
    assert "Write something" in response.content.decode()


def test_sixth_comment_in_a_minute_gets_429_with_a_clear_message(member_client, group):
    cache.clear()
    for n in range(5):
        assert (
            member_client.post(thread_url(group), {"body": f"c{n}"}).status_code == 302
        )
    response = member_client.post(thread_url(group), {"body": "too many"})
    assert response.status_code == 429
    assert "wait a minute" in response.content.decode()
    assert response["Retry-After"] == "60"
    assert Comment.objects.count() == 5


def test_outsider_sees_private_thread_as_404(client, member):
    private = make_group(name="Private", is_public=False)
    make_member(private, user=member)
    services.comment_post(author=member, target=private, body="secret")
    client.force_login(UserFactory())
    assert client.get(thread_url(private)).status_code == 404
    assert client.post(thread_url(private), {"body": "let me in"}).status_code == 404
    assert Comment.objects.count() == 1


def test_public_thread_readable_but_non_member_cannot_post(client, group, member):
    services.comment_post(author=member, target=group, body="visible")
    client.force_login(UserFactory())
    page = client.get(thread_url(group)).content.decode()
    assert "visible" in page
    assert "Post comment" not in page
    response = client.post(thread_url(group), {"body": "sneaky"})
    assert response.status_code == 403
    assert Comment.objects.count() == 1


def test_anonymous_post_goes_to_login(client, group):
    response = client.post(thread_url(group), {"body": "hi"})
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize(
    "path",
    [
        "/discussion/on/members.group/999999/",
        "/discussion/on/members.group/not-a-number/",
        "/discussion/on/members.user/1/",
        "/discussion/on/nothing.here/1/",
        "/discussion/on/members/1/",
    ],
)
def test_unknown_targets_are_404(member_client, path):
    assert member_client.get(path).status_code == 404


def test_removed_comment_shows_reason_not_body(client, group, member):
    moderator = make_role(group, Role.MODERATOR)
    comment = services.comment_post(
        author=member, target=group, body="the original words"
    )
    client.force_login(moderator)
    url = reverse("discussion:comment_action", args=[comment.pk, "remove"])
    response = client.post(url, {"reason": "Off topic"})
    assert response.status_code == 302
    page = client.get(thread_url(group)).content.decode()
    assert "Removed by a moderator. Reason: Off topic" in page
    assert "the original words" not in page
    assert f'id="comment-{comment.pk}"' in page


def test_member_cannot_remove_over_http(member_client, group, member):
    comment = services.comment_post(author=make_member(group), target=group, body="x")
    url = reverse("discussion:comment_action", args=[comment.pk, "remove"])
    response = member_client.post(url, {"reason": "I dislike it"})
    assert response.status_code == 403
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.VISIBLE


def test_refused_moderation_page_says_why_and_links_back_to_the_thread(
    member_client, group
):
    comment = services.comment_post(author=make_member(group), target=group, body="x")
    url = reverse("discussion:comment_action", args=[comment.pk, "remove"])
    next_url = f"{thread_url(group)}#discussion"
    response = member_client.post(url, {"reason": "I dislike it", "next": next_url})
    assert response.status_code == 403
    page = response.content.decode()
    assert "Only the group&#x27;s moderators can remove comments." in page
    assert f'href="{next_url}"' in page


def test_moderation_redirects_to_the_comment_with_a_message(client, group, member):
    moderator = make_role(group, Role.MODERATOR)
    comment = services.comment_post(author=member, target=group, body="x")
    client.force_login(moderator)
    url = reverse("discussion:comment_action", args=[comment.pk, "remove"])
    response = client.post(url, {"reason": "Off topic"}, follow=True)
    assert response.redirect_chain == [
        (f"{thread_url(group)}#comment-{comment.pk}", 302)
    ]
    assert [str(m) for m in response.context["messages"]] == ["The comment is removed."]
    again = client.post(url, {"reason": "Off topic"}, follow=True)
    assert again.redirect_chain == [(f"{thread_url(group)}#comment-{comment.pk}", 302)]
    assert [str(m) for m in again.context["messages"]] == [
        "This comment is already removed."
    ]


def test_report_over_http_counts_once(member_client, group):
    comment = services.comment_post(author=make_member(group), target=group, body="x")
    url = reverse("discussion:comment_action", args=[comment.pk, "report"])
    member_client.post(url, {"reason": "spam"})
    member_client.post(url, {"reason": "spam again"})
    comment.refresh_from_db()
    assert comment.report_count == 1


def test_unknown_action_is_404(member_client, group, member):
    comment = services.comment_post(author=member, target=group, body="x")
    url = reverse("discussion:comment_action", args=[comment.pk, "explode"])
    assert member_client.post(url).status_code == 404


def test_stored_xss_is_inert_in_the_page(member_client, group):
    payload = "<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>"
    member_client.post(thread_url(group), {"body": payload})
    html = member_client.get(thread_url(group)).content.decode()
    body = html.split('class="comment-body">', 1)[1].split("</div>", 1)[0]
    assert "<script" not in body
    assert "javascript:" not in re.findall(r'href="([^"]*)"', body)
    assert not re.search(r"<[^>]+\son\w+=", body)


def _fill_thread(group, authors, comments):
    parent = None
    for n in range(comments):
        author = authors[n % len(authors)]
        cache.delete(services._rate_limit_key(author.pk))  # not testing the rate limit
        parent = services.comment_post(
            author=author,
            target=group,
            body=f"comment {n}",
            parent=parent if n % 3 else None,
        )


def test_thread_page_query_count_is_constant(
    client, group, django_assert_max_num_queries
):
    moderator = make_role(group, Role.MODERATOR)
    authors = [make_member(group) for _ in range(3)]
    _fill_thread(group, authors, 3)
    client.force_login(moderator)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(
        thread_url(group)
    )  # the first request after logging in stamps the session

    with CaptureQueriesContext(connection) as small:
        assert client.get(thread_url(group)).status_code == 200
    more_authors = [make_member(group) for _ in range(10)]
    _fill_thread(group, authors + more_authors, 40)
    with CaptureQueriesContext(connection) as large:
        assert client.get(thread_url(group)).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
