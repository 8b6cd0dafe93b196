"""Reads: a group's newsletters, who an audience is, reports, a member's export.

The audience is asked of the members tables directly (memberships by status in a
subtree, roles held in or above it): members' selectors answer "active members"
only, and a newsletter may go to lapsed members or applicants too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from commonground.members.models import Group, Membership, RoleAssignment, User

from .models import Newsletter, Recipient

# The statuses an organiser may write to. Members who left or whose application was
# declined are no longer members: they get no newsletters.
AUDIENCE_STATUSES = (
    Membership.Status.ACTIVE,
    Membership.Status.LAPSED,
    Membership.Status.APPLIED,
    Membership.Status.SUSPENDED,
)


def newsletter_in_group(group: Group, newsletter_id: int) -> Newsletter:
    """The group's own newsletter; ``Newsletter.DoesNotExist`` for any other."""
    return Newsletter.objects.select_related(
        "group__organisation", "audience_group", "author"
    ).get(pk=newsletter_id, group=group)


def newsletter_by_id(newsletter_id: int) -> Newsletter:
    return Newsletter.objects.select_related(
        "group__organisation", "audience_group"
    ).get(pk=newsletter_id)


@dataclass(frozen=True)
class GroupNewsletters:
    drafts: list[Newsletter]
    scheduled: list[Newsletter]
    sent: list[Newsletter]  # sending, sent and cancelled, newest first


def group_newsletters(group: Group) -> GroupNewsletters:
    """The group's newsletters by where they stand (one query)."""
    rows = list(
        Newsletter.objects.filter(group=group)
        .select_related("audience_group")
        .order_by("-created_at", "-id")
    )
    status = Newsletter.Status
    return GroupNewsletters(
        drafts=[n for n in rows if n.status == status.DRAFT],
        scheduled=sorted(
            (n for n in rows if n.status == status.SCHEDULED),
            key=lambda n: (n.scheduled_for, n.pk),
        ),
        sent=[
            n
            for n in rows
            if n.status in (status.SENDING, status.SENT, status.CANCELLED)
        ],
    )


def newsletters_open_count(group: Group, viewer: Any = None) -> int:
    """Drafts and scheduled newsletters of the group (one query): the count beside
    the group's Newsletters section."""
    return Newsletter.objects.filter(
        group=group,
        status__in=[Newsletter.Status.DRAFT, Newsletter.Status.SCHEDULED],
    ).count()


def audience_group_choices(group: Group) -> QuerySet[Group]:
    """The groups a newsletter of ``group`` may go to: itself and every group below
    it that is not archived, in tree order."""
    return Group.objects.filter(
        path__startswith=group.path, archived_at__isnull=True
    ).order_by("path")


def _audience_members(
    audience_group: Group, statuses: Sequence[str], roles: Sequence[str]
) -> QuerySet[User]:
    memberships = Membership.objects.filter(
        group__path__startswith=audience_group.path, status__in=list(statuses)
    )
    members = User.objects.filter(
        pk__in=memberships.values("user_id"),
        deleted_at__isnull=True,
        is_active=True,
        email_bounced_at__isnull=True,
    ).exclude(email="")
    if roles:
        # A role applies to its group's whole subtree, so a role held above the
        # audience group counts, as does one held in a group inside it.
        role_groups = Group.objects.filter(
            Q(path__startswith=audience_group.path)
            | Q(pk__in=audience_group.ancestor_ids)
        )
        members = members.filter(
            pk__in=RoleAssignment.objects.filter(
                role__in=list(roles), group__in=role_groups
            ).values("user_id")
        )
    return members


def audience_member_ids(
    newsletter: Newsletter, *, among: Sequence[int] | None = None
) -> list[int]:
    """Ids of the members the newsletter goes to now, ascending (one query).

    Deleted and deactivated accounts, and addresses marked as bounced, are left out;
    ``among`` limits the answer to those ids (the re-check before a chunk is sent).
    """
    members = _audience_members(
        newsletter.audience_group, newsletter.statuses, newsletter.roles
    )
    if among is not None:
        members = members.filter(pk__in=list(among))
    return list(members.order_by("pk").values_list("pk", flat=True))


def audience_size(
    audience_group: Group, statuses: Sequence[str], roles: Sequence[str]
) -> int:
    """How many members match (before their own newsletter choices; one query)."""
    return _audience_members(audience_group, statuses, roles).count()


@dataclass(frozen=True)
class Report:
    audience: int
    recipients: int
    sent: int
    pending: int
    not_sent: int
    hard_bounces: int
    soft_bounces: int
    complaints: int
    unsubscribes: int

    @property
    def bounces(self) -> int:
        return self.hard_bounces + self.soft_bounces

    @property
    def left_out(self) -> int:
        """Members of the audience who had switched newsletters off or whose
        address had bounced when sending started."""
        return max(self.audience - self.recipients, 0)


def newsletter_report(newsletter: Newsletter) -> Report:
    """Counts only, never addresses (one query)."""
    status, bounce = Recipient.Status, Recipient.Bounce
    counts = Recipient.objects.filter(newsletter=newsletter).aggregate(
        sent=Count("pk", filter=Q(status=status.SENT)),
        pending=Count("pk", filter=Q(status=status.PENDING)),
        not_sent=Count("pk", filter=Q(status=status.SKIPPED)),
        hard=Count("pk", filter=Q(bounce=bounce.HARD)),
        soft=Count("pk", filter=Q(bounce=bounce.SOFT)),
        complaints=Count("pk", filter=Q(bounce=bounce.COMPLAINT)),
        unsubscribes=Count("pk", filter=Q(unsubscribed_at__isnull=False)),
    )
    return Report(
        audience=newsletter.audience_count,
        recipients=newsletter.recipient_count,
        sent=counts["sent"],
        pending=counts["pending"],
        not_sent=counts["not_sent"],
        hard_bounces=counts["hard"],
        soft_bounces=counts["soft"],
        complaints=counts["complaints"],
        unsubscribes=counts["unsubscribes"],
    )


def has_received(newsletter: Newsletter, user: Any) -> bool:
    if not user.is_authenticated:
        return False
    return Recipient.objects.filter(
        newsletter=newsletter, member_id=user.pk, status=Recipient.Status.SENT
    ).exists()


def recipient_for_link(
    *, recipient_id: int, member_id: int, group_id: Any
) -> Recipient:
    """The recipient row a signed unsubscribe link names: it must be that member's
    row of a newsletter of that group (``Recipient.DoesNotExist`` otherwise)."""
    return Recipient.objects.select_related("newsletter__group").get(
        pk=recipient_id, member_id=member_id, newsletter__group_id=group_id
    )


def personal_data_newsletters(user: Any) -> list[dict[str, Any]]:
    """The newsletters sent to the member: subject, group, when, and what they did."""
    return [
        {
            "subject": row.newsletter.subject,
            "group": row.newsletter.group.name,
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
            "unsubscribed_at": (
                row.unsubscribed_at.isoformat() if row.unsubscribed_at else None
            ),
            "bounce": row.bounce,
        }
        for row in Recipient.objects.filter(
            member=user, status=Recipient.Status.SENT
        ).select_related("newsletter__group")
    ]
