"""What members tells people, through ``commonground.notifications``.

Organisers hear of applications to their groups (a daily digest by default); a
member hears every organiser decision on their own membership (statutory: it can
move to a digest but not be switched off). Services call these inside their
transaction, so a rolled-back decision tells no one.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from commonground.core.capabilities import NotificationKind
from commonground.notifications.delivery import site_url
from commonground.notifications.services import notify

from .models import Group, Membership, RoleAssignment, User
from .selectors import MANAGING_ROLES

APPLICATION_RECEIVED = "members.application_received"
MEMBERSHIP_DECIDED = "members.membership_decided"
INVITATION = "members.invitation"

NOTIFICATION_KINDS = (
    NotificationKind(
        name=APPLICATION_RECEIVED,
        label=_("Someone applies to join a group I organise"),
        default_channel="daily",
        subject_template="members/email/application_subject.txt",
        text_template="members/email/application.txt",
    ),
    NotificationKind(
        name=MEMBERSHIP_DECIDED,
        label=_("Organisers decide on my membership"),
        default_channel="email",
        statutory=True,
        subject_template="members/email/decided_subject.txt",
        text_template="members/email/decided.txt",
    ),
    # The link to claim an imported account: email only, never in the centre.
    NotificationKind(
        name=INVITATION,
        label=_("An invitation to claim my account"),
        default_channel="email",
        statutory=True,
        in_app=False,
        subject_template="members/email/invitation_subject.txt",
        text_template="members/email/invitation.txt",
    ),
)


def _managers(group: Group) -> Any:
    return User.objects.filter(
        pk__in=RoleAssignment.objects.filter(
            group_id__in=group.ancestor_ids, role__in=list(MANAGING_ROLES)
        ).values("user_id")
    )


def application_received(membership: Membership) -> int:
    group = membership.group
    path = reverse("members:group_manage", args=[group.slug])
    return len(
        notify(
            APPLICATION_RECEIVED,
            recipients=_managers(group),
            group=group,
            url=path,
            context={"applicant": membership.user, "url": site_url(path)},
        )
    )


def membership_decided(membership: Membership, decision: str, reason: str) -> int:
    group = membership.group
    path = reverse("members:group", args=[group.slug])
    return len(
        notify(
            MEMBERSHIP_DECIDED,
            recipients=[membership.user],
            group=group,
            target=group,
            url=path,
            context={"decision": decision, "reason": reason, "url": site_url(path)},
        )
    )
