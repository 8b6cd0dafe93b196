"""The centre, the badge, reading, preferences, following and one-click unsubscribe."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.urls import reverse

from commonground.notifications import services
from commonground.notifications.models import Follow, Notification, Preference
from commonground.notifications.tokens import unsubscribe_token

pytestmark = pytest.mark.django_db


def news(members, group, title="Branch meeting", **kwargs):
    return services.notify(
        "tests.news",
        recipients=members,
        group=group,
        url="/somewhere/",
        context={"title": title},
        **kwargs,
    )


def test_the_centre_lists_the_members_notifications_by_day(
    kinds, group, members, client
):
    with time_machine.travel(datetime(2026, 3, 1, 10, tzinfo=UTC), tick=False):
        news(members, group, title="Sunday news")
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=UTC), tick=False):
        news(members, group, title="Monday news")
    news(members[1:], group, title="Not for you")
    client.force_login(members[0])
    page = client.get(reverse("notifications:centre"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Sunday news" in html and "Monday news" in html
    assert "Not for you" not in html
    assert html.index("Monday news") < html.index("Sunday news")
    assert "Sunday 1 March 2026" in html and "Monday 2 March 2026" in html
    assert 'href="/somewhere/"' in html


def test_days_follow_the_members_time_zone(kinds, group, members, client):
    members[0].time_zone = "Pacific/Auckland"
    members[0].save(update_fields=["time_zone"])
    with time_machine.travel(datetime(2026, 3, 1, 20, tzinfo=UTC), tick=False):
        news(members, group, title="Late news")  # 2 March 09:00 in Auckland
    client.force_login(members[0])
    assert (
        "Monday 2 March 2026"
        in client.get(reverse("notifications:centre")).content.decode()
    )


def test_a_notification_the_member_may_not_see_is_never_listed(
    kinds, group, members, client
):
    news(members, group, title="Secret item", can_see=lambda user: user != members[0])
    client.force_login(members[0])
    assert (
        "Secret item"
        not in client.get(reverse("notifications:centre")).content.decode()
    )
    assert (
        "Secret item" not in client.get(reverse("notifications:badge")).content.decode()
    )


def test_the_centre_needs_sign_in(client):
    assert client.get(reverse("notifications:centre")).status_code == 302


def test_the_badge_counts_unread_and_mark_read_clears_it(kinds, group, members, client):
    (first,) = news(members[:1], group)
    news(members[:1], group, title="Second")
    client.force_login(members[0])
    badge = client.get(reverse("notifications:badge")).content.decode()
    assert re.search(r">\s*2<span", badge)
    assert 'hx-get="/notifications/badge/"' not in badge  # the fragment does not nest
    response = client.post(reverse("notifications:mark_read", args=[first.pk]))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.read_at is not None
    response = client.post(reverse("notifications:mark_all_read"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert (
        "badge"
        not in client.get(reverse("notifications:badge"))
        .content.decode()
        .split("</a>")[0]
        .split(">", 1)[1]
    )


def test_marking_read_with_htmx_returns_the_item(kinds, group, members, client):
    (item,) = news(members[:1], group)
    client.force_login(members[0])
    response = client.post(
        reverse("notifications:mark_read", args=[item.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert f'id="notification-{item.pk}"' in response.content.decode()


def test_a_member_cannot_mark_anothers_notification(kinds, group, members, client):
    (item,) = news(members[1:2], group)
    client.force_login(members[0])
    client.post(reverse("notifications:mark_read", args=[item.pk]))
    item.refresh_from_db()
    assert item.read_at is None


def test_the_badge_tag_renders_a_link_that_polls(kinds, group, members, rf):
    from django.template import Context, Template

    news(members[:1], group)
    request = rf.get("/")
    request.user = members[0]
    html = Template("{% load notifications %}{% notification_badge %}").render(
        Context({"request": request})
    )
    assert 'href="/notifications/"' in html
    assert 'hx-trigger="every 60s"' in html


def test_the_preferences_page_saves_choices_and_refuses_switching_off_a_notice(
    kinds, group, members, client
):
    news(members[:1], group)
    client.force_login(members[0])
    page = client.get(reverse("notifications:preferences"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Leeds branch" in html and "All groups" in html
    assert '<label class="field__label" for="pref-1-1">' in html
    response = client.post(
        reverse("notifications:preferences"), {f"tests.news|{group.pk}": "weekly"}
    )
    assert response.status_code == 302
    assert Preference.objects.get().channel == "weekly"
    refused = client.post(
        reverse("notifications:preferences"), {"tests.notice|": "none"}
    )
    assert refused.status_code == 400
    assert "cannot be switched off" in refused.content.decode()
    assert not Preference.objects.filter(kind="tests.notice").exists()


def test_unsubscribe_works_without_signing_in(kinds, group, members, client):
    token = unsubscribe_token(
        member_id=members[0].pk, kind="tests.news", group_id=group.pk
    )
    url = reverse("notifications:unsubscribe", args=[token])
    confirm = client.get(url)
    assert confirm.status_code == 200 and "News" in confirm.content.decode()
    assert not Preference.objects.exists()  # a GET (a link scanner) changes nothing
    done = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert Preference.objects.get().channel == "none"
    mail.outbox.clear()
    news(members, group)
    assert not Notification.objects.filter(recipient=members[0]).exists()


def test_one_click_unsubscribe_from_the_emailed_header(
    kinds, group, members, client, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        news(members[:1], group)
    header = mail.outbox[0].extra_headers["List-Unsubscribe"]
    path = re.search(r"(/n/unsubscribe/[^>]+/)", header).group(1)
    response = client.post(
        path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert Preference.objects.get(member=members[0]).channel == "none"


def test_unsubscribing_from_a_statutory_notice_moves_it_to_the_digest(
    kinds, group, members, client
):
    token = unsubscribe_token(
        member_id=members[0].pk, kind="tests.notice", group_id=None
    )
    response = client.post(reverse("notifications:unsubscribe", args=[token]))
    assert response.status_code == 200
    assert "weekly digest" in response.content.decode()
    assert Preference.objects.get().channel == "weekly"


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_bad_signature_is_refused_with_a_clear_message(
    kinds, members, client, method
):
    token = unsubscribe_token(member_id=members[0].pk, kind="tests.news", group_id=None)
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    response = getattr(client, method)(
        reverse("notifications:unsubscribe", args=[forged])
    )
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert not Preference.objects.exists()


def test_follow_and_unfollow_by_post(kinds, group, members, client):
    client.force_login(members[0])
    content_type = ContentType.objects.get_for_model(group)
    url = reverse("notifications:follow", args=[content_type.pk, group.pk])
    assert client.get(url).status_code == 405
    client.post(url, {"follow": "1", "next": "/notifications/"})
    assert Follow.objects.filter(member=members[0]).count() == 1
    client.post(url, {"follow": "0"})
    assert not Follow.objects.exists()


def test_the_follow_button_tag_posts_the_opposite(kinds, group, members, rf):
    from django.template import Context, Template

    services.follow_set(member=members[0], target=group, following=True)
    request = rf.get("/groups/x/")
    request.user = members[0]
    html = Template("{% load notifications %}{% follow_button group %}").render(
        Context({"request": request, "group": group, "csrf_token": "t"})
    )
    assert 'name="follow" value="0"' in html and "Following" in html
