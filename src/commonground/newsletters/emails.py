"""One newsletter email: plain text and HTML, the organisation's name, its links.

Each email goes to one member only (never a To or Cc list, so nobody sees another
member's address), carries its own Message-ID (stored on the recipient row, so a
bounce report finds the newsletter), a web version link, and RFC 8058 one-click
unsubscribe (``List-Unsubscribe`` with ``List-Unsubscribe-Post``).

The newsletter's parts that are the same for everyone (its Markdown rendered once,
the sender, the list id) are prepared once per chunk; only the links differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formataddr, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from commonground.discussion.richtext import render_markdown
from commonground.notifications.delivery import site_url
from commonground.notifications.tokens import unsubscribe_token

from .models import Newsletter
from .tokens import web_version_token

KIND = "newsletters.newsletter"


@dataclass(frozen=True)
class Prepared:
    """What every copy of one newsletter shares."""

    newsletter_id: int
    group_id: int
    subject: str
    text: str  # the Markdown source: written to be read as it is
    html: str  # the Markdown rendered and sanitised
    organisation: str
    group: str
    from_email: str
    domain: str
    list_id: str


@dataclass(frozen=True)
class Links:
    unsubscribe_url: str
    web_url: str
    preferences_url: str


def _one_line(text: str) -> str:
    return " ".join(text.split())


def prepare(newsletter: Newsletter) -> Prepared:
    """The shared parts of ``newsletter`` (its group and organisation loaded)."""
    group = newsletter.group
    organisation = _one_line(group.organisation.name)
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@localhost"
    domain = address.rpartition("@")[2] or "localhost"
    return Prepared(
        newsletter_id=newsletter.pk,
        group_id=group.pk,
        subject=_one_line(newsletter.subject),
        text=newsletter.body.strip(),
        html=str(render_markdown(newsletter.body)),
        organisation=organisation,
        group=_one_line(group.name),
        from_email=formataddr((organisation, address)),
        domain=domain,
        # No display phrase: a non-ASCII group name would be encoded together with
        # the id itself, which mail clients then fail to read.
        list_id=f"<{group.slug}.newsletters.{domain}>",
    )


def message_id_for(prepared: Prepared, recipient_id: int) -> str:
    return make_msgid(
        idstring=f"newsletter{prepared.newsletter_id}.{recipient_id}",
        domain=prepared.domain,
    )


def recipient_links(prepared: Prepared, *, recipient_id: int, member_id: int) -> Links:
    """The signed links of one member's copy (they work without signing in)."""
    token = unsubscribe_token(
        member_id=member_id, kind=KIND, group_id=prepared.group_id
    )
    web = web_version_token(newsletter_id=prepared.newsletter_id, member_id=member_id)
    return Links(
        unsubscribe_url=site_url(
            reverse("newsletters:unsubscribe", args=[recipient_id, token])
        ),
        web_url=site_url(reverse("newsletters:read", args=[web])),
        preferences_url=site_url(reverse("notifications:preferences")),
    )


def test_copy_links(prepared: Prepared, *, member_id: int, group_slug: str) -> Links:
    """Links of an organiser's test copy: there is no recipient row, so unsubscribe
    goes through the notifications link and the web version is the preview."""
    token = unsubscribe_token(
        member_id=member_id, kind=KIND, group_id=prepared.group_id
    )
    preview = reverse("newsletters:detail", args=[group_slug, prepared.newsletter_id])
    return Links(
        unsubscribe_url=site_url(reverse("notifications:unsubscribe", args=[token])),
        web_url=site_url(preview),
        preferences_url=site_url(reverse("notifications:preferences")),
    )


def newsletter_message(
    prepared: Prepared, *, to: str, links: Links, message_id: str, test: bool = False
) -> EmailMultiAlternatives:
    """The email to one member."""
    context = {"newsletter": prepared, "links": links, "test": test}
    subject = prepared.subject
    if test:
        subject = _("[Test] %(subject)s") % {"subject": subject}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("newsletters/email/newsletter.txt", context),
        from_email=prepared.from_email,
        to=[to],
        headers={
            "Message-ID": message_id,
            "List-Id": prepared.list_id,
            "List-Unsubscribe": f"<{links.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Precedence": "bulk",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(
        render_to_string("newsletters/email/newsletter.html", context), "text/html"
    )
    return message
