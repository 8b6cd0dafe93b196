"""The kinds apps register: replies, followed threads, moderation, applications,
proposals moving on, results to followers; and what account deletion leaves."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from commonground.decisions import services as decisions
from commonground.discussion import services as discussion
from commonground.members import services as members
from commonground.members.models import Group, Role
from commonground.notifications import services
from commonground.notifications.models import Delivery, Follow, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def branch(db):
    from factories import make_group

    return make_group(name="Leeds branch", join_policy=Group.JoinPolicy.APPROVAL)


@pytest.fixture
def people(branch):
    from factories import UserFactory, make_member

    return [
        make_member(branch, UserFactory(display_name=n)) for n in ("Asha", "Ben", "Cai")
    ]


@pytest.fixture
def proposal(people, branch):
    draft = decisions.proposal_create(
        author=people[0], group=branch, title="Rent caps now", text="We campaign."
    )
    return decisions.proposal_publish(actor=people[0], proposal=draft)


def told(user, kind):
    return Notification.objects.filter(recipient=user, kind=kind)


def channel_of(notification):
    return notification.deliveries.values_list("channel", flat=True).first()


def test_a_reply_emails_the_author_replied_to_and_not_the_replier(
    people, proposal, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = discussion.comment_post(author=people[1], target=proposal, body="Yes!")
        discussion.comment_post(
            author=people[2], target=proposal, body="Why?", parent=first
        )
    reply = told(people[1], "discussion.reply").get()
    assert reply.url.endswith(f"#comment-{first.pk + 1}")
    assert "Cai replied to you" in reply.title
    assert not told(people[2], "discussion.reply").exists()
    assert [m.to for m in mail.outbox if "replied" in m.subject] == [[people[1].email]]


def test_commenting_follows_the_thread_and_followers_get_a_daily_digest_item(
    people, proposal
):
    discussion.comment_post(author=people[1], target=proposal, body="First")
    assert Follow.objects.filter(member=people[1], target_id=proposal.pk).exists()
    discussion.comment_post(author=people[2], target=proposal, body="Second")
    item = told(people[1], "discussion.followed_thread").get()
    assert channel_of(item) == "daily"
    # The one who commented is never told about their own comment.
    assert not told(people[2], "discussion.followed_thread").exists()


def test_a_follower_who_can_no_longer_read_the_thread_is_told_nothing(
    people, branch, proposal
):
    from factories import UserFactory

    outsider = UserFactory()
    services.follow_set(member=outsider, target=proposal, following=True)
    Group.objects.filter(pk=branch.pk).update(is_public=False)
    discussion.comment_post(author=people[1], target=proposal, body="Members only")
    assert not told(outsider, "discussion.followed_thread").exists()


def test_a_removed_comment_tells_its_author_with_the_reason_even_after_opting_out(
    people, branch, proposal
):
    from factories import make_role

    moderator = make_role(branch, Role.MODERATOR)
    services.preference_set(
        member=people[1],
        kind="discussion.comment_removed",
        group_id=None,
        channel="weekly",
    )
    comment = discussion.comment_post(author=people[1], target=proposal, body="Rude")
    discussion.comment_remove(moderator=moderator, comment=comment, reason="Insult")
    removed = told(people[1], "discussion.comment_removed").get()
    assert "Insult" in removed.body and channel_of(removed) == "weekly"
    with pytest.raises(Exception, match="cannot be switched off"):
        services.preference_set(
            member=people[1],
            kind="discussion.comment_removed",
            group_id=None,
            channel="none",
        )


def test_an_application_reaches_organisers_and_the_decision_reaches_the_applicant(
    branch, django_capture_on_commit_callbacks
):
    from factories import UserFactory, make_role

    organiser = make_role(branch, Role.ORGANISER)
    applicant = UserFactory(display_name="Dee")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        membership = members.membership_join(user=applicant, group=branch)
    received = told(organiser, "members.application_received").get()
    assert "Dee applied to join Leeds branch" in received.body
    assert channel_of(received) == "daily" and mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        members.membership_approve(actor=organiser, membership=membership)
    assert told(applicant, "members.membership_decided").get().title == (
        "Welcome to Leeds branch"
    )
    assert [m.to for m in mail.outbox] == [[applicant.email]]


def test_group_followers_hear_of_new_proposals_and_supporters_follow_them(
    people, branch
):
    from factories import UserFactory

    follower = UserFactory()
    services.follow_set(member=follower, target=branch, following=True)
    draft = decisions.proposal_create(
        author=people[0], group=branch, title="Free buses", text="For all."
    )
    proposal = decisions.proposal_publish(actor=people[0], proposal=draft)
    assert told(follower, "decisions.proposal_published").get().url == reverse(
        "decisions:proposal_detail", args=[proposal.pk]
    )
    assert not told(people[0], "decisions.proposal_published").exists()
    decisions.proposal_support(member=people[1], proposal=proposal)
    assert Follow.objects.filter(member=people[1], target_id=proposal.pk).exists()


def test_a_proposal_sent_to_ballot_tells_its_authors_and_followers(
    people, proposal, branch
):
    from factories import make_role

    organiser = make_role(branch, Role.ORGANISER)
    services.follow_set(member=people[2], target=proposal, following=True)
    decisions.proposal_send_to_ballot(actor=organiser, proposal=proposal)
    for person in (people[0], people[2]):
        notice = told(person, "decisions.proposal_moved").get()
        assert notice.title == "“Rent caps now” goes to a ballot"
    assert not told(people[1], "decisions.proposal_moved").exists()


def test_deleting_an_account_removes_its_notifications_and_its_name_from_others(
    branch, people, proposal
):
    first = discussion.comment_post(author=people[0], target=proposal, body="Hi")
    discussion.comment_post(
        author=people[1], target=proposal, body="Hello", parent=first
    )
    assert told(people[0], "discussion.reply").exists()
    members.membership_leave(user=people[2], group=branch)
    assert Notification.objects.filter(title__contains="Ben").exists()
    members.account_delete(user=people[1])
    assert not Notification.objects.filter(recipient=people[1]).exists()
    assert not Follow.objects.filter(member=people[1]).exists()
    assert not Notification.objects.filter(title__contains="Ben").exists()
    assert Notification.objects.filter(title__contains="Deleted member").exists()
    assert Delivery.objects.filter(notification__recipient=people[1]).count() == 0


def test_the_header_shows_the_unread_count_on_every_page(client, people, proposal):
    discussion.comment_post(author=people[1], target=proposal, body="x")
    discussion.comment_post(author=people[2], target=proposal, body="y")
    client.force_login(people[1])
    page = client.get(reverse("members:group", args=[proposal.group.slug]))
    html = page.content.decode()
    assert 'id="notification-badge"' in html
    assert '1<span class="visually-hidden"> unread</span>' in html
