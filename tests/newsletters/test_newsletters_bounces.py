"""Bounces: the signed webhook and RFC 3464 reports (``process_bounces``) mark the
address and the newsletter's row; a marked address gets no more newsletters."""

from __future__ import annotations

import hashlib
import hmac
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from commonground.audit.models import AuditEntry
from commonground.members.models import User
from commonground.newsletters import bounces
from commonground.newsletters.models import Recipient
from commonground.notifications.registry import kind_named
from commonground.notifications.services import channels_for

pytestmark = pytest.mark.django_db

SECRET = "webhook-secret-for-tests"
WEBHOOK = "/newsletters/bounces/"


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Commonground-Signature": f"sha256={digest}"}


def post(body: dict | bytes, headers: dict[str, str] | None = None, secret=SECRET):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    client = Client(enforce_csrf_checks=True)  # a provider has no session or token
    return client.post(
        WEBHOOK,
        raw,
        content_type="application/json",
        headers=signed(raw, secret) if headers is None else headers,
    )


@pytest.fixture
def sent(draft, organiser, members, send_now):
    newsletter = draft()
    messages = {m.to[0]: m for m in send_now(newsletter, organiser)}
    return newsletter, messages


def row_of(newsletter, member):
    return Recipient.objects.get(newsletter=newsletter, member=member)


# The webhook ---------------------------------------------------------------------


@override_settings(BOUNCE_WEBHOOK_SECRET=SECRET)
def test_a_signed_hard_bounce_marks_the_address_and_the_row(sent, members):
    newsletter, messages = sent
    message_id = messages[members[0].email].extra_headers["Message-ID"]
    response = post(
        {"email": members[0].email, "message_id": message_id, "type": "hard"}
    )
    assert response.status_code == 200
    assert response.json() == {"newsletter": newsletter.pk, "address_marked": True}
    assert User.objects.get(pk=members[0].pk).email_bounced_at is not None
    assert row_of(newsletter, members[0]).bounce == "hard"
    assert AuditEntry.objects.filter(action="member.email_bounced").count() == 1


@override_settings(BOUNCE_WEBHOOK_SECRET=SECRET)
def test_a_soft_bounce_is_counted_but_the_address_stays(sent, members):
    newsletter, messages = sent
    message_id = messages[members[1].email].extra_headers["Message-ID"]
    response = post(
        {
            "email": members[1].email,
            "message_id": message_id.strip("<>"),
            "type": "soft",
        }
    )
    assert response.json() == {"newsletter": newsletter.pk, "address_marked": False}
    assert User.objects.get(pk=members[1].pk).email_bounced_at is None
    assert row_of(newsletter, members[1]).bounce == "soft"


@override_settings(BOUNCE_WEBHOOK_SECRET=SECRET)
def test_a_complaint_marks_the_address_and_unsubscribes(sent, members):
    newsletter, messages = sent
    message_id = messages[members[2].email].extra_headers["Message-ID"]
    post({"email": members[2].email, "message_id": message_id, "type": "complaint"})
    assert row_of(newsletter, members[2]).bounce == "complaint"
    assert User.objects.get(pk=members[2].pk).email_bounced_at is not None
    kind = kind_named("newsletters.newsletter")
    member_id = members[2].pk
    assert channels_for(kind, [member_id], newsletter.group_id)[member_id] == "none"


@override_settings(BOUNCE_WEBHOOK_SECRET=SECRET)
def test_an_address_already_marked_is_not_marked_again(sent, members):
    _newsletter, _messages = sent
    for _ in range(2):
        post({"email": members[0].email.upper(), "type": "hard"})
    assert AuditEntry.objects.filter(action="member.email_bounced").count() == 1


@override_settings(BOUNCE_WEBHOOK_SECRET=SECRET)
def test_an_unknown_address_or_message_changes_nothing(sent):
    response = post(
        {"email": "nobody@example.net", "message_id": "<nope@x>", "type": "hard"}
    )
    assert response.json() == {"newsletter": None, "address_marked": False}
    assert not Recipient.objects.exclude(bounce="").exists()


@override_settings(BOUNCE_WEBHOOK_SECRET=SECRET)
def test_the_webhook_refuses_missing_or_bad_signatures(sent, members):
    body = {"email": members[0].email, "type": "hard"}
    raw = json.dumps(body).encode()
    assert post(body, headers={}).status_code == 403
    assert post(body, secret="another-secret").status_code == 403
    assert (
        post(body, headers={"X-Commonground-Signature": "sha256=00"}).status_code == 403
    )
    tampered = raw.replace(b"hard", b"soft")
    assert post(tampered, headers=signed(raw)).status_code == 403
    assert User.objects.get(pk=members[0].pk).email_bounced_at is None


@override_settings(BOUNCE_WEBHOOK_SECRET="")
def test_without_a_secret_the_webhook_refuses_everything(sent, members):
    body = {"email": members[0].email, "type": "hard"}
    assert post(body, secret="").status_code == 403
    assert post(body).status_code == 403


@override_settings(BOUNCE_WEBHOOK_SECRET=SECRET)
def test_a_signed_body_that_is_not_a_bounce_is_a_bad_request(sent):
    assert post(b"not json").status_code == 400
    assert post(b"[1, 2]").status_code == 400
    assert post({"email": "x@example.org", "type": "angry"}).status_code == 400
    assert post({"email": "no-at-sign", "type": "hard"}).status_code == 400
    assert Client().get(WEBHOOK).status_code == 405


def test_a_marked_address_gets_no_more_newsletters(draft, organiser, members, send_now):
    bounces_found = bounces.bounces_from_dsn(dsn(members[0].email, "<old@localhost>"))
    from commonground.newsletters import services

    services.bounce_record(bounce=bounces_found[0])
    emails = {m.to[0] for m in send_now(draft(subject="Next"), organiser)}
    assert members[0].email not in emails and members[1].email in emails


# RFC 3464 reports ----------------------------------------------------------------


def dsn(
    email: str,
    message_id: str,
    *,
    action: str = "failed",
    status: str = "5.1.1",
    headers_only: bool = False,
) -> bytes:
    """A delivery status notification as Postfix writes one."""
    original_type = "text/rfc822-headers" if headers_only else "message/rfc822"
    original_body = "" if headers_only else "\nHello everyone.\n"
    return f"""From: MAILER-DAEMON@mail.example.org
To: noreply@localhost
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.org
Arrival-Date: Sat,  6 Dec 2026 10:00:00 +0000

Final-Recipient: rfc822; {email}
Original-Recipient: rfc822;{email}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 5.1.1 <{email}>: Recipient address rejected

--BOUNDARY
Content-Type: {original_type}

From: Organisation <noreply@localhost>
To: {email}
Subject: Branch news
Message-ID: {message_id}
{original_body}
--BOUNDARY--
""".encode()


def test_a_report_is_read_with_its_original_message_id():
    (bounce,) = bounces.bounces_from_dsn(dsn("a@example.org", "<1.2@localhost>"))
    assert bounce.email == "a@example.org"
    assert bounce.message_id == "<1.2@localhost>"
    assert bounce.kind == "hard"
    assert bounce.reason.startswith("5.1.1 smtp; 550")
    (headers_only,) = bounces.bounces_from_dsn(
        dsn("a@example.org", "<3@localhost>", headers_only=True)
    )
    assert headers_only.message_id == "<3@localhost>"


def test_transient_failures_are_soft_and_deliveries_are_not_bounces():
    (temporary,) = bounces.bounces_from_dsn(
        dsn("a@example.org", "<1@x>", status="4.2.2")
    )
    (delayed,) = bounces.bounces_from_dsn(
        dsn("a@example.org", "<1@x>", action="delayed", status="4.4.1")
    )
    assert temporary.kind == delayed.kind == "soft"
    assert (
        bounces.bounces_from_dsn(dsn("a@example.org", "<1@x>", action="delivered"))
        == []
    )
    assert bounces.bounces_from_dsn(b"Subject: hello\n\nnot a report") == []


def test_process_bounces_reads_files_and_marks_rows_and_addresses(
    sent, members, tmp_path
):
    newsletter, messages = sent
    hard = tmp_path / "hard.eml"
    hard.write_bytes(
        dsn(members[0].email, messages[members[0].email].extra_headers["Message-ID"])
    )
    soft = tmp_path / "soft.eml"
    soft.write_bytes(
        dsn(
            members[1].email,
            messages[members[1].email].extra_headers["Message-ID"],
            status="4.2.2",
            headers_only=True,
        )
    )
    junk = tmp_path / "junk.eml"
    junk.write_bytes(b"Subject: out of office\n\nI am away.")
    out = io.StringIO()
    call_command("process_bounces", str(hard), str(soft), str(junk), stdout=out)
    assert out.getvalue().strip() == (
        "2 reports, 2 bounces, 1 addresses marked, 1 inputs that were not delivery "
        "reports"
    )
    assert row_of(newsletter, members[0]).bounce == "hard"
    assert row_of(newsletter, members[1]).bounce == "soft"
    assert User.objects.get(pk=members[0].pk).email_bounced_at is not None
    assert User.objects.get(pk=members[1].pk).email_bounced_at is None


def test_process_bounces_reads_standard_input(sent, members, monkeypatch):
    newsletter, messages = sent
    raw = dsn(members[2].email, messages[members[2].email].extra_headers["Message-ID"])

    class Stdin:
        buffer = io.BytesIO(raw)

    monkeypatch.setattr("sys.stdin", Stdin())
    call_command("process_bounces", stdout=io.StringIO())
    assert row_of(newsletter, members[2]).bounce == "hard"


def test_process_bounces_names_a_file_it_cannot_read(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("process_bounces", str(tmp_path / "missing.eml"))
