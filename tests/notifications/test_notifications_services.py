"""notify(), preferences, delivery exactly once, digests: the service paths and refusals."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from commonground.members import services as member_services
from commonground.notifications import delivery, services, tasks
from commonground.notifications.models import Delivery, Notification, Preference

pytestmark = pytest.mark.django_db


def notify_news(members, group, **kwargs):
    return services.notify(
        "tests.news",
        recipients=members,
        group=group,
        url="/somewhere/",
        context={"title": "Branch meeting on Tuesday", "body": "Come along."},
        **kwargs,
    )


def test_notify_records_now_and_emails_only_after_commit(
    kinds, group, members, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as queued:
        created = notify_news(members, group)
        assert mail.outbox == []
        assert Notification.objects.count() == 3
    assert len(created) == 3 and len(queued) == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in members)
    message = mail.outbox[0]
    organisation = group.organisation
    assert message.subject == f"[{organisation.name}] Branch meeting on Tuesday"
    assert message.from_email.startswith(f'"{organisation.name}" <') or (
        message.from_email.startswith(f"{organisation.name} <")
    )
    assert f"From {organisation.name}, through Common Ground." in message.body
    assert "Come along." in message.body
    assert "/notifications/preferences/" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == (
        "List-Unsubscribe=One-Click"
    )
    assert message.extra_headers["List-Unsubscribe"].startswith("<")
    assert "/n/unsubscribe/" in message.extra_headers["List-Unsubscribe"]
    (html, mimetype) = message.alternatives[0]
    assert mimetype == "text/html" and "Come along." in html
    assert Delivery.objects.filter(status="sent").count() == 3


def test_a_rolled_back_change_records_and_sends_nothing(
    kinds, group, members, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as queued:
        try:
            with transaction.atomic():
                notify_news(members, group)
                raise RuntimeError("failed")
        except RuntimeError:
            pass
    assert queued == [] and mail.outbox == []
    assert not Notification.objects.exists()


def test_a_member_who_may_not_see_the_target_is_never_told(
    kinds, group, members, django_capture_on_commit_callbacks
):
    hidden_from = members[0]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notify_news(members, group, can_see=lambda user: user != hidden_from)
    assert hidden_from.email not in {m.to[0] for m in mail.outbox}
    assert len(mail.outbox) == 2
    assert not Notification.objects.filter(recipient=hidden_from).exists()


def test_a_member_who_left_the_group_gets_nothing_more_from_it(
    kinds, group, members, django_capture_on_commit_callbacks
):
    leaver = members[0]
    member_services.membership_leave(user=leaver, group=group)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notify_news(members, group)
    assert leaver.email not in {m.to[0] for m in mail.outbox}
    assert not Notification.objects.filter(recipient=leaver).exists()


def test_a_member_who_leaves_before_the_email_goes_is_not_sent_it(
    kinds, group, members, django_capture_on_commit_callbacks
):
    notify_news(members, group)  # the on-commit send never ran
    member_services.membership_leave(user=members[0], group=group)
    mail.outbox.clear()
    ids = list(Delivery.objects.values_list("pk", flat=True))
    assert tasks.send_emails(ids) == 2
    assert members[0].email not in {m.to[0] for m in mail.outbox}
    assert Delivery.objects.filter(status="skipped").count() == 1


def test_a_statutory_kind_cannot_be_switched_off_but_can_go_to_a_digest(kinds, members):
    with pytest.raises(ValidationError) as refused:
        services.preference_set(
            member=members[0], kind="tests.notice", group_id=None, channel="none"
        )
    assert "cannot be switched off" in refused.value.message_dict["channel"][0]
    assert not Preference.objects.exists()
    services.preference_set(
        member=members[0], kind="tests.notice", group_id=None, channel="weekly"
    )
    assert Preference.objects.get().channel == "weekly"


def test_an_unknown_channel_is_refused(kinds, members):
    with pytest.raises(ValidationError):
        services.preference_set(
            member=members[0], kind="tests.news", group_id=None, channel="pigeon"
        )


def test_defaults_apply_until_a_member_chooses_per_group(kinds, group, members):
    services.preference_set(
        member=members[0], kind="tests.news", group_id=group.pk, channel="none"
    )
    services.preference_set(
        member=members[1], kind="tests.news", group_id=None, channel="in_app"
    )
    notify_news(members, group)
    assert not Notification.objects.filter(recipient=members[0]).exists()
    assert Notification.objects.filter(recipient=members[1]).exists()
    assert not Delivery.objects.filter(notification__recipient=members[1]).exists()
    assert Delivery.objects.get(notification__recipient=members[2]).channel == "email"


def test_a_reply_defaults_to_the_daily_digest(kinds, group, members):
    services.notify("tests.reply", recipients=members, group=group)
    assert set(Delivery.objects.values_list("channel", flat=True)) == {"daily"}


def test_a_delivery_is_sent_once_however_often_the_task_runs(kinds, group, members):
    notify_news(members[:1], group)
    (delivery_id,) = Delivery.objects.values_list("pk", flat=True)
    mail.outbox.clear()
    assert tasks.send_emails([delivery_id]) == 1
    assert tasks.send_emails([delivery_id]) == 0  # a retry, or a second run
    assert delivery.delivery_send(delivery_id=delivery_id) == 0
    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1


def test_the_database_refuses_a_second_delivery_on_one_channel(kinds, group, members):
    (notification,) = notify_news(members[:1], group)
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(notification=notification, channel="email")


def test_a_failed_send_stays_pending_and_a_retry_sends_it_once(
    kinds, group, members, monkeypatch
):
    notify_news(members[:1], group)
    (delivery_id,) = Delivery.objects.values_list("pk", flat=True)

    def crash(*args, **kwargs):
        raise OSError("mail server away")

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMultiAlternatives.send", crash)
        with pytest.raises(OSError):
            delivery.delivery_send(delivery_id=delivery_id)
    assert Delivery.objects.get().status == "pending"
    mail.outbox.clear()
    assert tasks.send_emails([delivery_id]) == 1
    assert tasks.send_emails([delivery_id]) == 0
    assert len(mail.outbox) == 1


def test_the_daily_digest_holds_each_item_once_and_nothing_sent_already(
    kinds, group, members
):
    member = members[0]
    for title in ("Reply one", "Reply two"):
        services.notify(
            "tests.reply", recipients=[member], group=group, context={"title": title}
        )
    (already,) = services.notify(
        "tests.reply",
        recipients=[member],
        group=group,
        context={"title": "Already emailed"},
    )
    # Sent individually (the member switched that item to email meanwhile).
    Delivery.objects.create(notification=already, channel="email", status="sent")
    mail.outbox.clear()
    assert tasks.send_daily_digests() == 1
    (digest,) = mail.outbox
    assert digest.to == [member.email]
    assert digest.body.count("Reply one") == 1
    assert digest.body.count("Reply two") == 1
    assert "Already emailed" not in digest.body
    assert "List-Unsubscribe" in digest.extra_headers
    assert tasks.send_daily_digests() == 0  # nothing twice
    assert len(mail.outbox) == 1
    assert not Delivery.objects.filter(channel="daily", status="pending").exists()


def test_the_weekly_digest_is_separate_from_the_daily(kinds, group, members):
    services.preference_set(
        member=members[0], kind="tests.reply", group_id=None, channel="weekly"
    )
    services.notify("tests.reply", recipients=members, group=group)
    mail.outbox.clear()
    assert tasks.send_daily_digests() == 2
    assert tasks.send_weekly_digests() == 1
    assert [m.to for m in mail.outbox][-1] == [members[0].email]


def test_followers_are_recipients_and_unfollowing_stops_them(kinds, group, members):
    follower = members[0]
    services.follow_set(member=follower, target=group, following=True)
    services.follow_set(member=follower, target=group, following=True)  # once
    services.notify("tests.reply", group=group, target=group, include_followers=True)
    assert Notification.objects.filter(recipient=follower).count() == 1
    services.follow_set(member=follower, target=group, following=False)
    services.notify("tests.reply", group=group, target=group, include_followers=True)
    assert Notification.objects.filter(recipient=follower).count() == 1


def test_the_export_holds_the_members_notifications_only(kinds, group, members):
    from commonground.notifications.selectors import personal_data_notifications

    notify_news(members, group)
    data = personal_data_notifications(members[0])
    assert len(data["notifications"]) == 1


def test_an_email_wears_its_organisations_colour_and_logo(
    kinds, group, members, django_capture_on_commit_callbacks
):
    from commonground.members.models import Organisation

    Organisation.objects.filter(pk=group.organisation_id).update(
        name="Northern People",
        accent_colour="#7a1f5c",
        logo_renditions=[{"width": 128, "height": 64, "name": "logos/np-128.png"}],
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notify_news(members[:1], group)
    (html, _mimetype) = mail.outbox[0].alternatives[0]
    assert mail.outbox[0].subject.startswith("[Northern People] ")
    assert "background:#7a1f5c" in html and "logos/np-128.png" in html
    assert ">Northern People</div>" in html
