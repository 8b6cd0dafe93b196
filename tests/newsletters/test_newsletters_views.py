"""The organiser pages, refusals (IDOR included), the web version, one-click
unsubscribe and re-subscribing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from commonground.audit.models import AuditEntry
from commonground.newsletters.models import Newsletter, Recipient
from commonground.notifications.registry import kind_named
from commonground.notifications.services import channels_for
from commonground.notifications.tokens import unsubscribe_token

pytestmark = pytest.mark.django_db


def logged_in(client, user):
    client.force_login(user)
    return client


def url(name, newsletter, *extra):
    return reverse(
        f"newsletters:{name}", args=[newsletter.group.slug, newsletter.pk, *extra]
    )


FORM = {
    "subject": "Spring meeting",
    "body": "Come on **Saturday**.",
    "statuses": ["active"],
}


# The organiser pages ----------------------------------------------------------------


def test_the_group_page_shows_organisers_a_newsletters_section_with_its_count(
    client, organiser, draft, leeds, members
):
    draft()
    draft(subject="Another")
    page = logged_in(client, organiser).get(reverse("members:group", args=[leeds.slug]))
    html = page.content.decode()
    link = reverse("newsletters:group_newsletters", args=[leeds.slug])
    assert re.search(
        rf'href="{link}"[^>]*>Newsletters <span class="badge">2</span>', html
    )
    member_page = logged_in(Client(), members[0]).get(
        reverse("members:group", args=[leeds.slug])
    )
    assert link not in member_page.content.decode()


def test_the_section_count_leaves_out_what_went_out(organiser, draft, leeds, send_now):
    from commonground.newsletters.selectors import newsletters_open_count

    draft()
    send_now(draft(subject="Gone"), organiser)
    cancelled = draft(subject="Dropped")
    from commonground.newsletters import services

    services.newsletter_cancel(actor=organiser, newsletter=cancelled)
    assert newsletters_open_count(leeds) == 1


def test_the_list_runs_a_fixed_number_of_queries(
    client, organiser, draft, leeds, send_now
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = logged_in(client, organiser)
    page = reverse("newsletters:group_newsletters", args=[leeds.slug])
    draft()
    send_now(draft(subject="Sent one"), organiser)
    client.get(page)
    with CaptureQueriesContext(connection) as few:
        assert client.get(page).status_code == 200
    for number in range(5):
        draft(subject=f"Draft {number}")
        send_now(draft(subject=f"Sent {number}"), organiser)
    with CaptureQueriesContext(connection) as many:
        assert client.get(page).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_members_export_lists_the_newsletters_they_were_sent(
    client, organiser, draft, members, send_now
):
    send_now(draft(), organiser)
    export = logged_in(client, members[0]).get(reverse("members:account_export"))
    (entry,) = export.json()["newsletters"]
    assert entry["subject"] == "Branch news" and entry["sent_at"]
    assert members[1].email not in export.content.decode()


def test_the_list_shows_drafts_scheduled_and_sent(client, organiser, draft, leeds):
    draft(subject="A draft")
    page = logged_in(client, organiser).get(
        reverse("newsletters:group_newsletters", args=[leeds.slug])
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "A draft" in html and 'aria-current="page">Newsletters' in html


def test_writing_a_newsletter_saves_a_draft_and_shows_its_preview(
    client, organiser, leeds, members
):
    client = logged_in(client, organiser)
    form = client.get(reverse("newsletters:new", args=[leeds.slug]))
    assert form.status_code == 200
    assert (
        '<label class="field__label" for="id_subject">Subject' in form.content.decode()
    )
    response = client.post(
        reverse("newsletters:new", args=[leeds.slug]),
        {**FORM, "audience_group": leeds.pk},
    )
    newsletter = Newsletter.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("detail", newsletter)
    preview = client.get(url("detail", newsletter)).content.decode()
    assert "Come on <strong>Saturday</strong>." in preview
    assert "4 members match now" in preview  # three members and the organiser


def test_a_form_with_mistakes_says_so_and_names_each_field(client, organiser, leeds):
    response = logged_in(client, organiser).post(
        reverse("newsletters:new", args=[leeds.slug]),
        {"subject": "", "body": "", "audience_group": leeds.pk, "statuses": ["left"]},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'role="alert"' in html
    assert 'id="id_subject_error"' in html and 'id="id_statuses_error"' in html
    assert not Newsletter.objects.exists()


def test_the_audience_count_answers_htmx_with_a_fragment(
    client, organiser, leeds, members
):
    client = logged_in(client, organiser)
    query = {"audience_group": leeds.pk, "statuses": ["active"]}
    target = reverse("newsletters:audience", args=[leeds.slug])
    fragment = client.get(target, query, headers={"HX-Request": "true"})
    assert fragment.content.decode().strip().startswith("4 members match")
    page = client.get(target, query)
    assert "<html" in page.content.decode()


def test_editing_changes_the_draft(client, organiser, draft, leeds):
    newsletter = draft()
    client = logged_in(client, organiser)
    assert client.get(url("edit", newsletter)).status_code == 200
    response = client.post(
        url("edit", newsletter), {**FORM, "audience_group": leeds.pk}
    )
    assert response.status_code == 302
    newsletter.refresh_from_db()
    assert newsletter.subject == "Spring meeting"


def test_a_sent_newsletter_cannot_be_edited(client, organiser, draft, leeds, send_now):
    newsletter = draft()
    send_now(newsletter, organiser)
    client = logged_in(client, organiser)
    assert client.get(url("edit", newsletter))["Location"] == url("detail", newsletter)
    client.post(url("edit", newsletter), {**FORM, "audience_group": leeds.pk})
    newsletter.refresh_from_db()
    assert newsletter.subject == "Branch news"


def test_a_test_copy_from_the_preview_page(client, organiser, draft):
    newsletter = draft()
    mail.outbox.clear()
    response = logged_in(client, organiser).post(url("test", newsletter), follow=True)
    assert f"A test copy went to {organiser.email}" in response.content.decode()
    assert [m.to for m in mail.outbox] == [[organiser.email]]


def test_scheduling_reads_the_time_in_the_organisers_time_zone(
    client, organiser, draft
):
    organiser.time_zone = "Pacific/Auckland"
    organiser.save(update_fields=["time_zone"])
    newsletter = draft()
    client = logged_in(client, organiser)
    response = client.post(url("schedule", newsletter), {"send_at": "2030-01-02T09:00"})
    assert response.status_code == 302
    newsletter.refresh_from_db()
    # 09:00 in Auckland (UTC+13 in January) is 20:00 UTC the day before.
    assert newsletter.scheduled_for == datetime(2030, 1, 1, 20, 0, tzinfo=UTC)
    page = client.get(url("detail", newsletter)).content.decode()
    assert "2 Jan 2030, 09:00" in page


def test_scheduling_without_a_valid_time_is_refused(client, organiser, draft):
    newsletter = draft()
    client = logged_in(client, organiser)
    missing = client.post(url("schedule", newsletter), {"send_at": "soon"})
    assert missing.status_code == 400 and 'role="alert"' in missing.content.decode()
    past = client.post(
        url("schedule", newsletter), {"send_at": "2001-01-01T09:00"}, follow=True
    )
    assert "Choose a time in the future" in past.content.decode()
    newsletter.refresh_from_db()
    assert newsletter.status == Newsletter.Status.DRAFT


def test_send_now_sends_and_the_report_counts_without_addresses(
    client, organiser, draft, members, django_capture_on_commit_callbacks
):
    newsletter = draft()
    client = logged_in(client, organiser)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("schedule", newsletter), {"now": "1"}, follow=True)
    assert "Sending has started." in response.content.decode()
    assert len(mail.outbox) == 4
    report = client.get(url("report", newsletter))
    html = report.content.decode()
    assert report.status_code == 200
    assert re.search(r"Emails sent</th><td class=\"num\">4<", html)
    assert not any(m.email in html for m in members)


def test_unscheduling_and_cancelling_from_the_page(client, organiser, draft):
    newsletter = draft()
    client = logged_in(client, organiser)
    client.post(url("schedule", newsletter), {"send_at": "2031-05-01T10:00"})
    client.post(url("unschedule", newsletter))
    newsletter.refresh_from_db()
    assert newsletter.status == Newsletter.Status.DRAFT
    response = client.post(url("cancel", newsletter), follow=True)
    assert "Newsletter cancelled" in response.content.decode()
    again = client.post(url("cancel", newsletter), follow=True)
    assert "can no longer be cancelled" in again.content.decode()


# Refusals ------------------------------------------------------------------------


def test_members_and_anonymous_visitors_get_no_organiser_page(
    client, draft, members, leeds
):
    newsletter = draft()
    pages = [
        reverse("newsletters:group_newsletters", args=[leeds.slug]),
        reverse("newsletters:new", args=[leeds.slug]),
        reverse("newsletters:audience", args=[leeds.slug]),
        url("detail", newsletter),
        url("edit", newsletter),
        url("report", newsletter),
    ]
    for page in pages:
        assert client.get(page).status_code == 302  # to sign in
    member = logged_in(Client(), members[0])
    for page in pages:
        assert member.get(page).status_code == 404, page
    assert member.post(url("schedule", newsletter), {"now": "1"}).status_code == 404
    assert Newsletter.objects.get().status == Newsletter.Status.DRAFT


def test_an_organiser_of_another_branch_cannot_reach_this_branchs_newsletter(
    client, draft, york_organiser, york, send_now, organiser
):
    newsletter = draft()
    client = logged_in(client, york_organiser)
    under_theirs = [
        reverse(f"newsletters:{name}", args=[york.slug, newsletter.pk])
        for name in ("detail", "edit", "report", "online")
    ]
    for page in [*under_theirs, url("detail", newsletter), url("report", newsletter)]:
        assert client.get(page).status_code == 404, page
    for action in ("schedule", "cancel", "test", "unschedule"):
        mine = reverse(f"newsletters:{action}", args=[york.slug, newsletter.pk])
        theirs = url(action, newsletter)
        assert client.post(mine, {"now": "1"}).status_code == 404
        assert client.post(theirs, {"now": "1"}).status_code == 404
    newsletter.refresh_from_db()
    assert newsletter.status == Newsletter.Status.DRAFT
    send_now(newsletter, organiser)
    assert client.get(url("report", newsletter)).status_code == 404
    assert client.get(url("online", newsletter)).status_code == 404


# The web version -----------------------------------------------------------------


def test_the_web_version_is_for_the_audience_once_sent(
    client, draft, organiser, members, york_member, outsider, send_now, leeds
):
    newsletter = draft()
    online = url("online", newsletter)
    assert logged_in(Client(), members[0]).get(online).status_code == 404  # a draft
    send_now(newsletter, organiser)
    assert logged_in(Client(), members[0]).get(online).status_code == 200
    assert logged_in(Client(), york_member).get(online).status_code == 404
    assert logged_in(Client(), outsider).get(online).status_code == 404
    assert Client().get(online).status_code == 302  # to sign in
    # A recipient who has left since still reads what they were sent.
    from commonground.members import services as member_services

    member_services.membership_leave(user=members[1], group=leeds)
    assert logged_in(Client(), members[1]).get(online).status_code == 200


def test_a_forged_or_cut_web_version_link_is_refused(
    client, draft, organiser, send_now
):
    newsletter = draft()
    (message, *_rest) = send_now(newsletter, organiser)
    link = re.search(r"/newsletters/read/(\S+)/", message.body).group(1)
    assert client.get(reverse("newsletters:read", args=[link[:-3]])).status_code == 404
    assert client.get(reverse("newsletters:read", args=["x"])).status_code == 404


# Unsubscribing -----------------------------------------------------------------


def _unsubscribe_path(message):
    header = message.extra_headers["List-Unsubscribe"]
    return re.search(r"(/newsletters/unsubscribe/[^>]+/)", header).group(1)


def test_one_click_unsubscribe_is_recorded_and_stops_newsletters_only(
    draft, organiser, members, leeds, send_now
):
    newsletter = draft()
    sent = {m.to[0]: m for m in send_now(newsletter, organiser)}
    path = _unsubscribe_path(sent[members[0].email])
    mail_client = Client(
        enforce_csrf_checks=True
    )  # a mail client: no session, no token
    assert mail_client.get(path).status_code == 200
    assert not Recipient.objects.filter(unsubscribed_at__isnull=False).exists()
    response = mail_client.post(
        path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    row = Recipient.objects.get(newsletter=newsletter, member=members[0])
    assert row.unsubscribed_at is not None
    member_id = members[0].pk
    newsletters = kind_named("newsletters.newsletter")
    assert channels_for(newsletters, [member_id], leeds.pk)[member_id] == "none"
    # A statutory notice (a ballot opening) is another kind: it stays on.
    ballots = kind_named("decisions.ballot_opened")
    assert channels_for(ballots, [member_id], leeds.pk)[member_id] == "email"
    assert channels_for(ballots, [member_id], None)[member_id] == "email"
    # The next newsletter of the group leaves them out.
    again = {m.to[0] for m in send_now(draft(subject="Next"), organiser)}
    assert members[0].email not in again and members[1].email in again
    assert (
        Newsletter.objects.get(subject="Branch news")
        .recipients.filter(unsubscribed_at__isnull=False)
        .count()
        == 1
    )
    # The unsubscribe is nobody else's business: the audit log does not record it.
    assert not AuditEntry.objects.filter(action__contains="unsubscribe").exists()


def test_a_member_can_undo_an_unsubscribe(
    client, draft, organiser, members, leeds, send_now
):
    sent = {m.to[0]: m for m in send_now(draft(), organiser)}
    path = _unsubscribe_path(sent[members[0].email])
    done = client.post(path)
    resubscribe = re.search(
        r'action="(/newsletters/resubscribe/[^"]+/)"', done.content.decode()
    ).group(1)
    assert client.post(resubscribe).status_code == 200
    member_id = members[0].pk
    newsletters = kind_named("newsletters.newsletter")
    assert channels_for(newsletters, [member_id], leeds.pk)[member_id] == "email"


def test_a_bad_unsubscribe_link_is_refused_and_changes_nothing(
    client, draft, organiser, members, leeds, send_now
):
    newsletter = draft()
    send_now(newsletter, organiser)
    mine = Recipient.objects.get(newsletter=newsletter, member=members[0])
    theirs = Recipient.objects.get(newsletter=newsletter, member=members[1])
    my_token = unsubscribe_token(
        member_id=members[0].pk, kind="newsletters.newsletter", group_id=leeds.pk
    )
    other_kind = unsubscribe_token(
        member_id=members[0].pk, kind="decisions.closing_soon", group_id=leeds.pk
    )
    bad = [
        (mine.pk, my_token[:-2]),  # cut short
        (theirs.pk, my_token),  # my token on someone else's row
        (mine.pk, other_kind),  # a token for another kind
        (mine.pk, "x"),
    ]
    for recipient_id, token in bad:
        path = reverse("newsletters:unsubscribe", args=[recipient_id, token])
        assert client.post(path).status_code == 400
        assert client.get(path).status_code == 400
        resub = reverse("newsletters:resubscribe", args=[recipient_id, token])
        assert client.post(resub).status_code == 400
    assert not Recipient.objects.filter(unsubscribed_at__isnull=False).exists()
    newsletters = kind_named("newsletters.newsletter")
    assert (
        channels_for(newsletters, [members[0].pk], leeds.pk)[members[0].pk] == "email"
    )
