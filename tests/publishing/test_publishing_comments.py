"""Discussion under articles: members and visitors comment, the writer and editors
are told, moderation is public; the refusals: an unconfirmed visitor comment never
appears, a removed comment's words appear nowhere, a visitor's address appears in
no page, feed or download."""

from __future__ import annotations

import json
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from commonground.discussion import services as discussion
from commonground.discussion import visitors
from commonground.discussion.models import Comment
from commonground.notifications.models import Notification
from commonground.publishing import services

pytestmark = pytest.mark.django_db

ADDRESS = "sam.secret-address@example.org"


def _thread_url(article):
    return f"/discussion/on/publishing.article/{article.pk}/"


def _visitor_post(client, article, body="Visitor words", **extra):
    page = client.get(article.get_absolute_url())
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page.content.decode()).group(1)
    return client.post(
        _thread_url(article),
        {
            "csrfmiddlewaretoken": token,
            "name": "Sam Visitor",
            "email": ADDRESS,
            "body": body,
            "next": article.get_absolute_url(),
            **extra,
        },
    )


def _public_paths(article):
    org = article.organisation.slug
    return [
        "/",
        article.get_absolute_url(),
        _thread_url(article),
        "/articles/",
        f"/articles/{org}/",
        f"/tags/{org}/housing/",
        "/search/?q=Visitor",
        "/search/?q=rent",
        "/moderation-log/",
        f"/moderation-log/{org}/",
        f"/feeds/{org}/atom/",
        f"/feeds/{org}/rss/",
        f"/feeds/groups/{article.group.slug}/atom/",
        "/sitemap.xml",
        "/authors/wren-writer/",
    ]


def _everything_readers_get(client, article) -> str:
    return "\n".join(
        client.get(path).content.decode() for path in _public_paths(article)
    )


def test_visitor_comments_confirms_is_held_then_appears(
    published, editor, writer, moderator, django_capture_on_commit_callbacks
):
    visitor = Client(enforce_csrf_checks=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = _visitor_post(visitor, published, notify_replies="on")
    assert response.status_code == 302
    assert (
        "emailed you a link"
        in visitor.get(published.get_absolute_url()).content.decode()
    )
    comment = Comment.objects.get()
    assert comment.status == Comment.Status.UNCONFIRMED
    # Unconfirmed: nobody sees it anywhere, not even editors.
    editor_client = Client()
    editor_client.force_login(editor)
    assert (
        "Visitor words"
        not in editor_client.get(published.get_absolute_url()).content.decode()
    )
    assert "Visitor words" not in _everything_readers_get(Client(), published)
    (message,) = [m for m in mail.outbox if m.to == [ADDRESS]]
    path = re.search(r"/discussion/confirm/[^\s]+/", message.body).group(0)
    visitor.get(path)
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"',
        visitor.get(path).content.decode(),
    ).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        visitor.post(path, {"csrfmiddlewaretoken": token})
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HELD  # a first comment
    assert (
        "Visitor words"
        not in Client().get(published.get_absolute_url()).content.decode()
    )
    assert (
        "Visitor words"
        in editor_client.get(published.get_absolute_url()).content.decode()
    )
    # The group's moderators find it in their queue; the editor approves it from
    # the article, where it shows with an Approve button.
    moderator_client = Client()
    moderator_client.force_login(moderator)
    queue = moderator_client.get(
        reverse("discussion:moderation", args=[published.group.slug])
    )
    assert queue.status_code == 200 and "Visitor words" in queue.content.decode()
    approve = reverse("discussion:comment_action", args=[comment.pk, "approve"])
    assert approve in editor_client.get(published.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(
            reverse("discussion:comment_action", args=[comment.pk, "approve"])
        )
    comment.refresh_from_db()
    assert comment.status == Comment.Status.VISIBLE
    page = Client().get(published.get_absolute_url()).content.decode()
    assert "Visitor words" in page and "Sam Visitor" in page
    # The writer is told (the approving editor too: they edit the group's articles).
    assert Notification.objects.filter(
        recipient=writer, kind="publishing.new_comment"
    ).exists()


def test_members_comment_as_themselves_and_the_writer_and_editors_are_told(
    client, published, member, writer, editor
):
    client.force_login(member)
    client.post(
        _thread_url(published),
        {"body": "A member's view", "next": published.get_absolute_url()},
    )
    comment = Comment.objects.get()
    assert comment.author == member and comment.status == Comment.Status.VISIBLE
    told = set(
        Notification.objects.filter(kind="publishing.new_comment").values_list(
            "recipient_id", flat=True
        )
    )
    assert told == {writer.pk, editor.pk}
    # The member follows the thread by commenting; the writer's reply tells them.
    discussion.comment_post(
        author=writer, target=published, body="Thanks!", parent=comment
    )
    assert Notification.objects.filter(
        recipient=member, kind="discussion.reply"
    ).exists()


def test_comments_closed_or_visitors_not_allowed(client, published, editor, member):
    services.article_update(
        actor=editor,
        article=published,
        title=published.title,
        body=published.body,
        tags=["Housing", "Leeds"],
        visitors_may_comment=False,
    )
    html = client.get(published.get_absolute_url()).content.decode()
    assert "Your email address" not in html and "Log in</a> to join" in html
    response = _visitor_post(Client(), published)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    services.article_update(
        actor=editor,
        article=published,
        title=published.title,
        body=published.body,
        tags=["Housing", "Leeds"],
        comments_open=False,
    )
    client.force_login(member)
    client.post(_thread_url(published), {"body": "Closed?"})
    assert not Comment.objects.exists()


def test_no_comments_on_a_draft(client, draft, member):
    client.force_login(member)
    assert client.post(_thread_url(draft), {"body": "early"}).status_code == 404
    assert not Comment.objects.exists()


def test_a_visitors_address_appears_in_no_page_feed_or_download(
    published, editor, member, moderator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _visitor_post(Client(), published, body="Visitor words about rent")
    comment = Comment.objects.get()
    discussion.visitor_comment_confirm(token=visitors.confirm_token(comment))
    discussion.comment_approve(moderator=editor, comment=comment)
    discussion.comment_post(
        author=member,
        target=published,
        body="reply",
        parent=Comment.objects.get(pk=comment.pk),
    )
    everything = _everything_readers_get(Client(), published)
    assert "Visitor words about rent" in everything
    assert ADDRESS not in everything
    for user in (editor, member, moderator):
        signed_in = Client()
        signed_in.force_login(user)
        pages = _everything_readers_get(signed_in, published)
        pages += signed_in.get(
            reverse("discussion:moderation", args=[published.group.slug])
        ).content.decode()
        pages += signed_in.get("/notifications/").content.decode()
        pages += signed_in.get("/me/export/").content.decode()
        assert ADDRESS not in pages, user
    for notification in Notification.objects.all():
        assert ADDRESS not in notification.title + notification.body + notification.html
    for message in mail.outbox:
        if message.to != [ADDRESS]:
            assert ADDRESS not in message.body


def test_a_removed_comments_words_appear_nowhere(client, published, member, editor):
    comment = discussion.comment_post(
        author=member, target=published, body="UNIQUE-RUDE-WORDS here"
    )
    discussion.comment_remove(
        moderator=editor, comment=comment, reason="Name-calling", rule="abuse"
    )
    everything = _everything_readers_get(Client(), published)
    assert "UNIQUE-RUDE-WORDS" not in everything
    signed_in = Client()
    signed_in.force_login(member)
    export = signed_in.get("/me/export/").content.decode()
    assert "UNIQUE-RUDE-WORDS" not in export
    assert "UNIQUE-RUDE-WORDS" not in _everything_readers_get(signed_in, published)
    # ... while the moderation is public: the rule, the reason and the role.
    page = client.get(published.get_absolute_url()).content.decode()
    assert "Personal attack or harassment: 1 comment" in page
    log = client.get(f"/moderation-log/{published.organisation.slug}/").content.decode()
    assert (
        "Personal attack or harassment" in log
        and "Name-calling" in log
        and "<td>Editor</td>" in log
    )
    assert editor.public_name not in log


def test_moderation_log_lists_only_article_comments_of_that_movement(
    client, published, member, editor, make_article
):
    from factories import make_group

    discussion.comment_remove(
        moderator=editor,
        comment=discussion.comment_post(author=member, target=published, body="x"),
        reason="Spam",
        rule="spam",
    )
    log = client.get("/moderation-log/").content.decode()
    assert "Spam or advertising" in log and published.title in log
    other = make_group(name="Other movement")
    other_log = client.get(
        f"/moderation-log/{other.organisation.slug}/"
    ).content.decode()
    assert "Spam or advertising" not in other_log


def test_comment_count_and_feed_never_count_unconfirmed_or_held(published, member):
    from commonground.discussion import selectors as discussion_selectors

    discussion.comment_post(author=member, target=published, body="visible")
    discussion.visitor_comment_post(
        target=published, name="V", email="v@example.org", body="waiting", address="1"
    )
    assert discussion_selectors.comment_counts([published]) == {published.pk: 1}


def test_export_and_erasure_cover_the_writer(client, published, writer):
    client.force_login(writer)
    data = json.loads(client.get("/me/export/").content)
    assert data["articles"]["articles"][0]["title"] == published.title
    from commonground.members.services import account_delete

    account_delete(user=writer)
    page = Client().get(published.get_absolute_url()).content.decode()
    assert "Deleted member" in page and "Wren Writer" not in page
    assert Client().get("/authors/wren-writer/").status_code == 404
