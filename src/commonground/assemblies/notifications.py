"""What assemblies tell members, through ``commonground.notifications``.

Services call these inside their transaction; ``notify`` records the notifications
and sends emails once the transaction commits. People without an account (the open
call) get their emails from ``services.recruitment`` directly.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import NotificationKind
from commonground.notifications.delivery import site_url
from commonground.notifications.services import notify

from .models import Assembly

INVITED = "assemblies.invited"
DRAWN = "assemblies.drawn"

NOTIFICATION_KINDS = (
    NotificationKind(
        name=INVITED,
        label=_("I am invited to join the pool of an assembly"),
        default_channel="email",
        subject_template="assemblies/email/invited_subject.txt",
        text_template="assemblies/email/invited.txt",
    ),
    NotificationKind(
        name=DRAWN,
        label=_("I was drawn for an assembly's panel"),
        default_channel="email",
        subject_template="assemblies/email/drawn_subject.txt",
        text_template="assemblies/email/drawn.txt",
    ),
)


def members_invited(assembly: Assembly, members: list[Any]) -> None:
    if not members:
        return
    path = reverse("assemblies:register", args=[assembly.slug])
    notify(
        INVITED,
        recipients=members,
        group=assembly.group,
        target=assembly,
        url=path,
        context={"assembly": assembly, "url": site_url(path)},
    )


def panel_drawn(assembly: Assembly, registrants: list[Any]) -> None:
    """Tell the members drawn (people without an account see it on their page)."""
    users = [r.user for r in registrants if r.user_id is not None]
    if not users:
        return
    path = reverse("assemblies:my_page", args=[assembly.slug])
    notify(
        DRAWN,
        recipients=users,
        group=assembly.group,
        target=assembly,
        url=path,
        context={"assembly": assembly, "url": site_url(path)},
    )
