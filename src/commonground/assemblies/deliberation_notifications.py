"""What a panel's deliberation tells its members, through ``commonground.notifications``.

Services call these inside their transaction; ``notify`` records the notifications
and sends emails once the transaction commits, so a rolled-back change tells no
one. Panel members need not belong to the convening group (a citizens' panel), so
the kinds have no ``still_in_group``: a drop-out is simply no longer a recipient.

Members drawn with an account are told by the draw (``notifications.DRAWN``).
Someone seated from the open call without an account has no member row to
notify: they get one email, to the address they confirmed when registering,
inviting them to sign in or create an account and take their seat
(``panel_invitation_email``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import NotificationKind
from commonground.notifications.delivery import site_url
from commonground.notifications.services import notify

SESSION_SCHEDULED = "assemblies.session_scheduled"
PANEL_VOTE_OPENED = "assemblies.panel_vote_opened"

EMAILS = "assemblies/deliberation/email"

NOTIFICATION_KINDS = (
    NotificationKind(
        name=SESSION_SCHEDULED,
        label=_("A session of a panel I sit on is scheduled or changed"),
        default_channel="email",
        subject_template=f"{EMAILS}/session_scheduled_subject.txt",
        text_template=f"{EMAILS}/session_scheduled.txt",
    ),
    NotificationKind(
        name=PANEL_VOTE_OPENED,
        label=_("The panel I sit on votes on its recommendations"),
        default_channel="email",
        subject_template=f"{EMAILS}/panel_vote_opened_subject.txt",
        text_template=f"{EMAILS}/panel_vote_opened.txt",
    ),
)


def _space_path(assembly: Any) -> str:
    return reverse("assemblies:panel", args=[assembly.slug])


def session_scheduled(session: Any, recipients: Iterable[Any], *, changed: bool) -> int:
    path = session.get_absolute_url()
    return len(
        notify(
            SESSION_SCHEDULED,
            recipients=recipients,
            group=session.assembly.group,
            target=session.assembly,
            url=path,
            context={
                "session": session,
                "assembly": session.assembly,
                "changed": changed,
                "url": site_url(path),
            },
        )
    )


def panel_vote_opened(
    assembly: Any, recipients: Iterable[Any], *, count: int, closes_at: Any
) -> int:
    path = _space_path(assembly) + "#vote"
    return len(
        notify(
            PANEL_VOTE_OPENED,
            recipients=recipients,
            group=assembly.group,
            target=assembly,
            url=path,
            context={
                "assembly": assembly,
                "count": count,
                "closes_at": closes_at,
                "url": site_url(path),
            },
        )
    )


def panel_invitation_email(assembly: Any, *, name: str, email: str, token: str) -> None:
    """After commit, invite someone seated without an account to take their seat."""
    path = reverse("assemblies:panel_join", args=[assembly.slug, token])
    context = {"assembly": assembly, "name": name, "url": site_url(path)}
    subject = " ".join(
        render_to_string(f"{EMAILS}/panel_invitation_subject.txt", context).split()
    )
    body = render_to_string(f"{EMAILS}/panel_invitation.txt", context)

    def send() -> None:
        EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[email],
            headers={"Auto-Submitted": "auto-generated"},
        ).send(fail_silently=False)

    transaction.on_commit(send)
