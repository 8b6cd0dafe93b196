"""Visitors' comments: unconfirmed until the emailed link is followed, held when it is
a first comment, anti-abuse without outside services, replies by email with a
one-click stop, export and erasure by address, and moderation's public record."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from commonground.audit.models import AuditEntry
from commonground.discussion import rules, selectors, services, visitors
from commonground.discussion.models import Comment
from commonground.members.models import Group, Role
from commonground.members.selectors import viewer_for
from factories import make_group, make_member, make_role

pytestmark = pytest.mark.django_db


class OpenGroupDiscussion:
    """Groups as targets, where visitors may also comment (public groups only)."""

    def can_read(self, user, target):
        return target.is_public or viewer_for(user, target).is_member

    def can_post(self, user, target):
        return viewer_for(user, target).is_member

    def visitors_may_post(self, target):
        return target.is_public

    def group_for(self, target):
        return target


@pytest.fixture(autouse=True)
def visitors_allowed(group_discussion_policy, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rules.register_rule(Group, OpenGroupDiscussion())
    yield
    rules.unregister_rule(Group)


@pytest.fixture
def group():
    return make_group(name="Leeds branch")


@pytest.fixture
def moderator(group):
    return make_role(group, Role.MODERATOR)


def _post(
    group,
    *,
    email="sam@example.org",
    body="Hello from a visitor",
    address="10.0.0.1",
    **extra,
):
    return services.visitor_comment_post(
        target=group, name="Sam", email=email, body=body, address=address, **extra
    )


def _link(message) -> str:
    return re.search(r"https?://\S+|/discussion/confirm/\S+", message.body).group(0)


def _confirm(comment) -> Comment:
    return services.visitor_comment_confirm(token=visitors.confirm_token(comment))


def test_visitor_comment_is_unconfirmed_and_seen_by_nobody(
    group, moderator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        comment = _post(group)
    assert comment.status == Comment.Status.UNCONFIRMED
    assert comment.author is None and comment.visitor_key
    assert selectors.thread_for(moderator, group).nodes == []
    assert selectors.moderation_queue(group) == []
    (message,) = mail.outbox
    assert message.to == ["sam@example.org"]
    assert "/discussion/confirm/" in message.body


def test_first_confirmed_comment_is_held_then_later_ones_appear(group, moderator):
    first = _confirm(_post(group))
    assert first.status == Comment.Status.HELD
    assert first.visitor_confirmed_at is not None
    # Moderators see it (in the thread and the queue); others do not.
    assert [n.comment for n in selectors.thread_for(moderator, group).nodes] == [first]
    assert [i.comment for i in selectors.moderation_queue(group)] == [first]
    member = make_member(group)
    assert selectors.thread_for(member, group).nodes == []
    services.comment_approve(moderator=moderator, comment=first)
    assert Comment.objects.get(pk=first.pk).status == Comment.Status.VISIBLE
    assert AuditEntry.objects.filter(action="comment.approved").count() == 1
    second = _confirm(_post(group, body="Second thoughts"))
    assert second.status == Comment.Status.VISIBLE


def test_site_setting_holds_every_or_no_visitor_comment(group, moderator, settings):
    services.comment_approve(moderator=moderator, comment=_confirm(_post(group)))
    settings.COMMONGROUND_VISITOR_HOLD = "all"
    assert _confirm(_post(group, body="again")).status == Comment.Status.HELD
    settings.COMMONGROUND_VISITOR_HOLD = "none"
    first = _confirm(_post(group, email="new@example.org", body="straight in"))
    assert first.status == Comment.Status.VISIBLE


def test_confirming_twice_changes_nothing_and_bad_links_are_refused(group):
    comment = _post(group)
    token = visitors.confirm_token(comment)
    services.visitor_comment_confirm(token=token)
    assert services.visitor_comment_confirm(token=token).status == Comment.Status.HELD
    with pytest.raises(visitors.BadLink):
        services.visitor_comment_confirm(token=token + "x")
    with (
        time_machine.travel(timezone.now() + timedelta(days=visitors.CONFIRM_DAYS + 1)),
        pytest.raises(visitors.BadLink) as expired,
    ):
        services.visitor_comment_confirm(token=token)
    assert expired.value.expired


def test_honeypot_stores_nothing(group):
    with pytest.raises(services.HoneypotFilled):
        _post(group, honeypot="http://spam.example")
    assert not Comment.objects.exists()
    assert mail.outbox == []


def test_rate_limits_per_address_and_per_email(group):
    for index in range(services.VISITOR_RATE_COUNT):
        _post(group, email=f"v{index}@example.org")
    with pytest.raises(services.VisitorRateLimited):
        _post(group, email="another@example.org")
    cache.clear()
    for index in range(services.VISITOR_RATE_COUNT):
        _post(group, address=f"10.0.1.{index}")
    with pytest.raises(services.VisitorRateLimited):
        _post(group, address="10.0.2.1")


def test_link_limit_and_names_that_are_addresses(group):
    with pytest.raises(ValidationError) as refused:
        _post(
            group, body="see https://a.example and https://b.example and www.c.example"
        )
    assert "body" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.visitor_comment_post(
            target=group,
            name="me@example.org",
            email="me@example.org",
            body="x",
            address="1",
        )
    assert "name" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.visitor_comment_post(
            target=group, name="Sam", email="not-an-address", body="x", address="1"
        )
    assert not Comment.objects.exists()


def test_visitors_cannot_comment_where_the_rule_does_not_allow_it(group):
    private = make_group(name="Private", is_public=False)
    with pytest.raises(PermissionDenied):
        _post(private)


def test_reply_to_a_visitor_who_asked_is_emailed_with_a_one_click_stop(
    group, moderator, client, django_capture_on_commit_callbacks
):
    comment = _post(group, notify_replies=True)
    services.comment_approve(moderator=moderator, comment=_confirm(comment))
    comment.refresh_from_db()
    member = make_member(group)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_post(
            author=member, target=group, body="Welcome!", parent=comment
        )
    (message,) = [m for m in mail.outbox if m.to == ["sam@example.org"]]
    assert "Welcome!" in message.body
    stop = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert (
        message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    )
    path = stop.split("testserver")[-1] if "testserver" in stop else stop
    response = client.post(path)  # what a mail client does: no session, no token
    assert response.status_code == 200
    assert not Comment.objects.get(pk=comment.pk).notify_replies
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_post(author=member, target=group, body="Again", parent=comment)
    assert not [m for m in mail.outbox if m.to == ["sam@example.org"]]
    assert client.post("/discussion/replies/stop/bad/").status_code == 400


def test_visitor_reply_to_a_member_notifies_the_member(group, moderator):
    from commonground.notifications.models import Notification

    member = make_member(group)
    parent = services.comment_post(author=member, target=group, body="Member speaks")
    reply = _post(group, parent=parent)
    services.comment_approve(moderator=moderator, comment=_confirm(reply))
    notice = Notification.objects.get(recipient=member, kind="discussion.reply")
    assert "Sam" in notice.title
    assert "sam@example.org" not in notice.title + notice.body


def test_removal_records_the_rule_and_role_and_the_export_withholds_the_words(
    group, moderator
):
    member = make_member(group)
    comment = services.comment_post(author=member, target=group, body="SECRET-INSULT")
    services.comment_remove(
        moderator=moderator, comment=comment, reason="Personal attack", rule="abuse"
    )
    comment.refresh_from_db()
    assert (comment.moderation_rule, comment.moderated_as) == ("abuse", "moderator")
    (removal,) = selectors.removed_comments(Group, [str(group.pk)])
    assert removal.rule_label == "Personal attack or harassment"
    assert removal.role == "moderator"
    assert "SECRET-INSULT" not in str(removal)
    exported = selectors.comments_for_export(member)
    assert exported[0]["body"] is None and exported[0]["removal_rule"] == "abuse"
    thread = selectors.thread_for(member, group)
    assert thread.removals == [("Personal attack or harassment", 1)]
    with pytest.raises(ValidationError):
        services.comment_remove(
            moderator=moderator, comment=comment, reason="x", rule="nonsense"
        )


def test_visitor_sees_exports_and_erases_their_comments_by_email(
    group, moderator, client, django_capture_on_commit_callbacks
):
    comment = _confirm(_post(group, body="Mine", notify_replies=True))
    services.comment_approve(moderator=moderator, comment=comment)
    unconfirmed = _post(group, body="Never confirmed")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/discussion/my-comments/", {"email": "SAM@example.org"})
    assert response.status_code == 200
    (message,) = mail.outbox
    path = re.search(r"/discussion/my-comments/[^\s]+/", message.body).group(0)
    page = client.get(path).content.decode()
    assert "Mine" in page
    data = client.get(path + "?format=json").json()
    assert {c["body"] for c in data["comments"]} == {"Mine", "Never confirmed"}
    assert data["comments"][0]["email"] == "sam@example.org"
    client.post(path)
    comment.refresh_from_db()
    assert (comment.visitor_name, comment.visitor_email, comment.visitor_key) == (
        "",
        "",
        "",
    )
    assert comment.display_name == "Former visitor"
    assert not Comment.objects.filter(pk=unconfirmed.pk).exists()
    assert AuditEntry.objects.filter(action="comment.visitor_erased").exists()
    entry = AuditEntry.objects.get(action="comment.visitor_erased")
    assert "sam@example.org" not in str(entry.data)


def test_no_email_for_an_address_without_comments(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/discussion/my-comments/", {"email": "nobody@example.org"}
        )
    assert response.status_code == 200
    assert mail.outbox == []


def test_member_account_deletion_erases_their_visitor_comments(group, moderator):
    member = make_member(group)
    comment = _confirm(
        services.visitor_comment_post(
            target=group,
            name="Earlier me",
            email=member.email,
            body="before I joined",
            address="1",
        )
    )
    from commonground.members.services import account_delete

    account_delete(user=member)
    comment.refresh_from_db()
    assert comment.visitor_email == "" and comment.visitor_name == ""


def test_expired_unconfirmed_comments_are_purged(group):
    comment = _post(group)
    with time_machine.travel(
        timezone.now() + timedelta(days=visitors.CONFIRM_DAYS, hours=1)
    ):
        assert services.unconfirmed_comments_purge() == 1
    assert not Comment.objects.filter(pk=comment.pk).exists()


def test_visitor_form_over_http_mentions_privacy_and_confirm_page(
    client, group, django_capture_on_commit_callbacks
):
    from commonground.discussion.views import thread_url

    page = client.get(thread_url(group)).content.decode()
    assert "Never published and never shown to other readers" in page
    assert 'name="website"' in page  # the honeypot, hidden
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            thread_url(group),
            {
                "name": "Sam",
                "email": "sam@example.org",
                "body": "Via the form",
                "next": "/",
            },
        )
    assert response.status_code == 302
    path = re.search(r"/discussion/confirm/[^\s]+/", mail.outbox[0].body).group(0)
    confirm_page = client.get(path)
    assert confirm_page.status_code == 200
    assert (
        Comment.objects.get().status == Comment.Status.UNCONFIRMED
    )  # GET changes nothing
    client.post(path)
    assert Comment.objects.get().status == Comment.Status.HELD
    assert client.get("/discussion/confirm/garbage/").status_code == 400


def test_behind_a_proxy_visitors_are_limited_by_their_own_address(
    client, group, settings
):
    # Behind a TLS-terminating proxy every request has the proxy's REMOTE_ADDR:
    # one noisy visitor must not use up the allowance of everyone else.
    from commonground.discussion.views import thread_url

    settings.COMMONGROUND_TRUSTED_PROXIES = 1

    def post(forwarded: str, email: str) -> int:
        return client.post(
            thread_url(group),
            {"name": "Sam", "email": email, "body": "Hello", "next": "/"},
            REMOTE_ADDR="10.9.9.9",
            HTTP_X_FORWARDED_FOR=forwarded,
        ).status_code

    for index in range(services.VISITOR_RATE_COUNT):
        assert post("198.51.100.7", f"noisy{index}@example.org") == 302
    assert post("198.51.100.7", "noisy-more@example.org") == 429
    # a forged left-hand entry does not give the noisy client a new allowance
    assert post("203.0.113.1, 198.51.100.7", "forged@example.org") == 429
    assert post("198.51.100.8", "someone-else@example.org") == 302
