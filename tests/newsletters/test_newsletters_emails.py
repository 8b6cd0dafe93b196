"""What each email holds: one recipient, both parts, the organisation's name, its
own Message-ID, the web version link and RFC 8058 one-click unsubscribe."""

from __future__ import annotations

import re

import pytest
from django.core import mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(draft, organiser, members, send_now):
    newsletter = draft(body="Hello **everyone** & friends.\n\n<script>x()</script>")
    messages = send_now(newsletter, organiser)
    return newsletter, {m.to[0]: m for m in messages}


def test_each_email_has_one_recipient_and_no_copies(sent, members):
    _newsletter, by_address = sent
    for message in by_address.values():
        assert len(message.to) == 1 and not message.cc and not message.bcc
        assert message.recipients() == message.to
    # No email names another member anywhere, not even in its text.
    for address, message in by_address.items():
        others = [m.email for m in members if m.email != address]
        assert not any(other in message.message().as_string() for other in others)


def test_the_email_has_plain_text_and_html_and_the_organisations_name(sent, members):
    newsletter, by_address = sent
    message = by_address[members[0].email]
    organisation = newsletter.group.organisation.name
    assert message.from_email.startswith(f"{organisation} <")
    assert message.subject == "Branch news"
    assert "Hello **everyone** & friends." in message.body  # text, not escaped
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "<strong>everyone</strong> &amp; friends." in html
    assert "<script>" not in html  # the Markdown is sanitised
    assert organisation in html and organisation in message.body


def test_one_click_unsubscribe_headers_follow_rfc_8058(sent, members):
    _newsletter, by_address = sent
    message = by_address[members[0].email]
    headers = message.extra_headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(.+)>", headers["List-Unsubscribe"]).group(1)
    assert "/newsletters/unsubscribe/" in url
    assert url in message.body and url in message.alternatives[0][0]
    assert headers["List-Id"].endswith(".newsletters.localhost>")


def test_each_copy_has_its_own_message_id_stored_on_its_row(sent, members):
    newsletter, by_address = sent
    ids = {m.extra_headers["Message-ID"] for m in by_address.values()}
    assert len(ids) == len(by_address)
    row = newsletter.recipients.get(member=members[0])
    assert row.message_id == by_address[members[0].email].extra_headers["Message-ID"]
    assert re.fullmatch(r"<.+@localhost>", row.message_id)


def test_the_web_version_link_is_personal_and_signed(sent, members, client):
    _newsletter, by_address = sent
    links = [
        re.search(
            r"https?://\S*/newsletters/read/\S+/|/newsletters/read/\S+/", m.body
        ).group(0)
        for m in by_address.values()
    ]
    assert len(set(links)) == len(links)
    page = client.get(links[0])
    assert page.status_code == 200
    assert "<strong>everyone</strong>" in page.content.decode()


def test_the_test_copy_links_to_the_preview_not_to_a_recipient_row(
    draft, organiser, client
):
    from commonground.newsletters import services

    newsletter = draft()
    mail.outbox.clear()
    services.newsletter_send_test(actor=organiser, newsletter=newsletter)
    (message,) = mail.outbox
    assert (
        f"/newsletters/groups/{newsletter.group.slug}/{newsletter.pk}/" in message.body
    )
    assert "/n/unsubscribe/" in message.extra_headers["List-Unsubscribe"]
