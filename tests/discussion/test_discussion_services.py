"""Posting, threading, reporting, moderation and rate limits through the services."""

from __future__ import annotations

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError

from commonground.audit.models import AuditEntry
from commonground.discussion import selectors, services
from commonground.discussion.models import Comment, CommentReport
from commonground.members.models import Role
from commonground.members.services import account_delete
from factories import UserFactory, make_group, make_member, make_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def group():
    return make_group(name="Leeds branch")


@pytest.fixture
def member(group):
    return make_member(group)


def test_comment_is_attached_to_its_target_with_rendered_body(group, member):
    comment = services.comment_post(author=member, target=group, body="Hello *all*")
    assert comment.target == group
    assert comment.depth == 0
    assert comment.body == "Hello *all*"
    assert "<em>all</em>" in comment.body_html


def test_replies_nest_under_their_parent_in_posting_order(group, member):
    other = make_member(group)
    first = services.comment_post(author=member, target=group, body="first")
    second = services.comment_post(author=other, target=group, body="second")
    reply = services.comment_post(
        author=other, target=group, body="reply", parent=first
    )
    reply_to_reply = services.comment_post(
        author=member, target=group, body="deeper", parent=reply
    )
    assert reply_to_reply.depth == 2
    thread = selectors.thread_for(member, group)
    assert [n.comment for n in thread.nodes] == [first, second]
    assert [n.comment for n in thread.nodes[0].replies] == [reply]
    assert [n.comment for n in thread.nodes[0].replies[0].replies] == [reply_to_reply]
    assert thread.count == 4


def test_display_depth_is_capped_and_deeper_replies_line_up(group, member):
    parent = None
    chain = []
    for level in range(selectors.MAX_DISPLAY_DEPTH + 3):
        parent = services.comment_post(
            author=member, target=group, body=f"level {level}", parent=parent
        )
        chain.append(parent)
        cache.clear()  # not testing the rate limit here
    assert chain[-1].depth == selectors.MAX_DISPLAY_DEPTH + 2
    nodes = selectors.thread_for(member, group).nodes
    # Walk down to the deepest nesting list: it holds every comment from MAX on.
    for _ in range(selectors.MAX_DISPLAY_DEPTH - 1):
        assert len(nodes) == 1
        nodes = nodes[0].replies
    assert [n.comment for n in nodes[0].replies] == chain[selectors.MAX_DISPLAY_DEPTH :]
    assert {n.display_depth for n in nodes[0].replies} == {selectors.MAX_DISPLAY_DEPTH}
    assert not any(n.nests for n in nodes[0].replies)


def test_reply_must_belong_to_the_same_thread(group, member):
    other_group = make_group(name="York branch")
    make_member(other_group, user=member)
    elsewhere = services.comment_post(author=member, target=other_group, body="there")
    with pytest.raises(ValidationError):
        services.comment_post(
            author=member, target=group, body="here", parent=elsewhere
        )
    assert Comment.objects.filter(object_id=str(group.pk)).count() == 0


@pytest.mark.parametrize("body", ["", "   \n  ", "x" * 10_001])
def test_empty_or_overlong_body_is_refused(group, member, body):
    with pytest.raises(ValidationError):
        services.comment_post(author=member, target=group, body=body)
    assert Comment.objects.count() == 0


def test_non_member_and_anonymous_cannot_post(group):
    from django.contrib.auth.models import AnonymousUser

    outsider = UserFactory()
    for author in (outsider, AnonymousUser()):
        with pytest.raises(PermissionDenied):
            services.comment_post(author=author, target=group, body="hi")
    assert Comment.objects.count() == 0


def test_private_group_thread_is_unreadable_to_outsiders(member):
    private = make_group(name="Secret working group", is_public=False)
    make_member(private, user=member)
    services.comment_post(author=member, target=private, body="inside")
    from commonground.discussion import rules

    assert rules.can_read(member, private)
    assert not rules.can_read(UserFactory(), private)


def test_model_without_policy_has_no_discussion(member):
    from commonground.discussion import rules

    with pytest.raises(rules.NoDiscussion):
        services.comment_post(author=member, target=member, body="on a user?")


def test_sixth_comment_within_a_minute_is_refused_then_allowed_later(group, member):
    with time_machine.travel("2026-01-01 12:00:00Z", tick=False) as clock:
        for n in range(services.RATE_LIMIT_COUNT):
            services.comment_post(author=member, target=group, body=f"comment {n}")
        with pytest.raises(services.CommentRateLimited, match="wait a minute"):
            services.comment_post(author=member, target=group, body="one too many")
        assert Comment.objects.count() == services.RATE_LIMIT_COUNT
        # Another member is not affected.
        services.comment_post(author=make_member(group), target=group, body="me too")
        clock.shift(61)
        services.comment_post(author=member, target=group, body="after a minute")
    assert (
        Comment.objects.filter(author=member).count() == services.RATE_LIMIT_COUNT + 1
    )


def test_moderator_removes_comment_which_keeps_its_place_with_reason(group, member):
    moderator = make_role(group, Role.MODERATOR)
    comment = services.comment_post(author=member, target=group, body="rude words")
    reply = services.comment_post(
        author=moderator, target=group, body="calm", parent=comment
    )
    services.comment_remove(
        moderator=moderator, comment=comment, reason="Personal attack"
    )
    comment.refresh_from_db()
    assert comment.status == Comment.Status.REMOVED
    assert comment.moderation_reason == "Personal attack"
    thread = selectors.thread_for(member, group)
    assert thread.nodes[0].comment == comment
    assert thread.nodes[0].show_body is False
    assert thread.nodes[0].replies[0].comment == reply
    entry = AuditEntry.objects.get(action="comment.removed")
    assert entry.actor_id == moderator.pk
    assert entry.group_id == group.pk
    assert entry.reason == "Personal attack"
    assert entry.target_id == str(comment.pk)


def test_moderator_of_an_ancestor_group_may_remove(group, member):
    region = make_group(name="Yorkshire")
    branch = make_group(parent=region, name="Hull branch")
    writer = make_member(branch)
    regional_moderator = make_role(region, Role.MODERATOR)
    comment = services.comment_post(author=writer, target=branch, body="hello")
    services.comment_remove(
        moderator=regional_moderator, comment=comment, reason="Spam"
    )
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.REMOVED


def test_removal_needs_a_reason_and_a_moderator(group, member):
    comment = services.comment_post(author=member, target=group, body="hello")
    with pytest.raises(PermissionDenied):
        services.comment_remove(
            moderator=make_member(group), comment=comment, reason="No"
        )
    with pytest.raises(ValidationError):
        services.comment_remove(
            moderator=make_role(group, Role.MODERATOR), comment=comment, reason="  "
        )
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.VISIBLE
    assert not AuditEntry.objects.filter(action="comment.removed").exists()


def test_restore_is_audited(group, member):
    moderator = make_role(group, Role.ORGANISER)
    comment = services.comment_post(author=member, target=group, body="hello")
    services.comment_remove(moderator=moderator, comment=comment, reason="Mistake?")
    services.comment_restore(moderator=moderator, comment=comment, reason="It was fine")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.VISIBLE
    assert comment.moderation_reason == ""
    assert AuditEntry.objects.filter(
        action="comment.restored", reason="It was fine"
    ).exists()


def test_three_distinct_reports_hide_the_comment_and_tell_the_author(
    group, member, django_capture_on_commit_callbacks
):
    comment = services.comment_post(author=member, target=group, body="borderline")
    reporters = [make_member(group) for _ in range(3)]
    for reporter in reporters[:2]:
        services.comment_report(reporter=reporter, comment=comment, reason="rude")
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.VISIBLE
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_report(reporter=reporters[2], comment=comment)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN
    assert comment.report_count == 3
    assert AuditEntry.objects.filter(action="comment.auto_hidden").count() == 1
    assert [m.to for m in mail.outbox] == [[member.email]]
    assert "hidden" in mail.outbox[0].subject
    # Readers no longer see the body; moderators still do, to decide.
    assert selectors.thread_for(reporters[0], group).nodes[0].show_body is False
    moderator = make_role(group, Role.MODERATOR)
    assert selectors.thread_for(moderator, group).nodes[0].show_body is True


def test_same_reporter_twice_counts_once(group, member):
    comment = services.comment_post(author=member, target=group, body="borderline")
    reporter = make_member(group)
    first = services.comment_report(reporter=reporter, comment=comment)
    again = services.comment_report(reporter=reporter, comment=comment, reason="really")
    services.comment_report(reporter=make_member(group), comment=comment)
    assert first.pk == again.pk
    assert CommentReport.objects.filter(comment=comment).count() == 2
    comment.refresh_from_db()
    assert comment.report_count == 2
    assert comment.status == Comment.Status.VISIBLE


def test_cannot_report_own_comment(group, member):
    comment = services.comment_post(author=member, target=group, body="mine")
    with pytest.raises(ValidationError):
        services.comment_report(reporter=member, comment=comment)
    assert CommentReport.objects.count() == 0


def test_deleted_author_shows_as_deleted_member_and_comment_stays(group, member):
    comment = services.comment_post(author=member, target=group, body="my view")
    name_before = member.public_name
    account_delete(user=member)
    thread = selectors.thread_for(make_member(group), group)
    assert thread.nodes[0].comment.pk == comment.pk
    assert thread.nodes[0].comment.author.public_name == "Deleted member"
    assert name_before != "Deleted member"


def test_deleted_member_cannot_post(group, member):
    account_delete(user=member)
    member.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.comment_post(author=member, target=group, body="ghost")


def test_comment_counts_for_many_targets_in_one_query(
    group, member, django_assert_num_queries
):
    other = make_group(name="York")
    make_member(other, user=member)
    services.comment_post(author=member, target=group, body="a")
    services.comment_post(author=member, target=group, body="b")
    with django_assert_num_queries(1):
        counts = selectors.comment_counts([group, other])
    assert counts == {group.pk: 2, other.pk: 0}


def test_export_lists_the_members_own_comments(group, member):
    services.comment_post(author=member, target=group, body="exported")
    exported = selectors.comments_for_export(member)
    assert [c["body"] for c in exported] == ["exported"]


def test_data_export_download_includes_the_members_comments(client, group, member):
    import json

    services.comment_post(author=member, target=group, body="in my export")
    services.comment_post(author=make_member(group), target=group, body="not mine")
    client.force_login(member)
    data = json.loads(client.get("/me/export/").content)
    assert [c["body"] for c in data["comments"]] == ["in my export"]
