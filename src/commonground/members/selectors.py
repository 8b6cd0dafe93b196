"""Reads about members, groups and roles that depend on the viewer.

Every function here runs a fixed number of queries whatever the number of groups
or members (pinned in tests/members/test_members_queries.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from commonground.audit import selectors as audit_selectors
from commonground.core.capabilities import GroupOverview, NeedsYou

from .models import Group, Membership, Role, RoleAssignment, User

MANAGING_ROLES = frozenset({Role.ORGANISER, Role.ADMIN})


def subtree_active_memberships(
    group: Group, *, since_by: datetime | None = None
) -> QuerySet[Membership]:
    """Active memberships anywhere in the group's subtree (the group and below).

    ``since_by`` keeps only memberships that began by then (an election's roll is
    the members at its opening). The one definition of "active member of a group";
    every app asks it here.
    """
    memberships = Membership.objects.filter(
        group__path__startswith=group.path, status=Membership.Status.ACTIVE
    )
    if since_by is not None:
        memberships = memberships.filter(since__lte=since_by)
    return memberships


def subtree_active_members(group: Group) -> QuerySet[User]:
    """Distinct users with an active membership in the group's subtree, by name."""
    return (
        User.objects.filter(
            memberships__group__path__startswith=group.path,
            memberships__status=Membership.Status.ACTIVE,
        )
        .distinct()
        .order_by("display_name", "id")
    )


def active_memberships_of(user: Any) -> QuerySet[Membership]:
    """The user's active memberships, in any group."""
    return Membership.objects.filter(user=user, status=Membership.Status.ACTIVE)


def _subtrees_q(groups: Iterable[Group], prefix: str = "group__") -> Q:
    paths = sorted({g.path for g in groups})
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{prefix}path__startswith": p}) for p in paths))


@dataclass
class Viewer:
    """What one user is to one group: memberships and roles, resolved in two queries."""

    user: Any
    group: Group
    membership: Membership | None = None
    roles: set[str] = field(default_factory=set)
    is_subtree_member: bool = False

    @property
    def is_member(self) -> bool:
        return self.is_subtree_member

    @property
    def can_manage(self) -> bool:
        return bool(self.roles & MANAGING_ROLES)

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles


def viewer_for(user: Any, group: Group) -> Viewer:
    viewer = Viewer(user=user, group=group)
    if not user.is_authenticated:
        return viewer
    memberships = list(
        Membership.objects.filter(user=user, group__path__startswith=group.path).only(
            "id", "status", "group_id", "since"
        )
    )
    viewer.membership = next((m for m in memberships if m.group_id == group.pk), None)
    viewer.is_subtree_member = any(
        m.status == Membership.Status.ACTIVE for m in memberships
    )
    viewer.roles = set(
        RoleAssignment.objects.filter(
            user=user, group_id__in=group.ancestor_ids
        ).values_list("role", flat=True)
    )
    if viewer.is_subtree_member:
        viewer.roles.add(Role.MEMBER)
    return viewer


def coalition_eligible(user: Any, group: Group) -> bool:
    """A coalition-wide group is open to active members of any affiliate organisation."""
    if group.organisation.kind != group.organisation.Kind.COALITION:
        return True
    return Membership.objects.filter(
        user=user,
        status=Membership.Status.ACTIVE,
        group__organisation__coalitions=group.organisation,
    ).exists()


def group_by_slug(slug: str) -> Group:
    return Group.objects.select_related("organisation", "parent").get(slug=slug)


def group_children(group: Group) -> list[Group]:
    return list(
        group.children.annotate(
            active_members=Count(
                "memberships", filter=Q(memberships__status=Membership.Status.ACTIVE)
            )
        ).order_by("name")
    )


def group_active_member_count(group: Group) -> int:
    return subtree_active_memberships(group).values("user_id").distinct().count()


@dataclass(frozen=True)
class MemberListing:
    visible: list[User]
    hidden_count: int


def group_member_list(group: Group) -> MemberListing:
    """Active members of the group's subtree as other members may see them.

    Names only, never email addresses; members who chose to hide their name are
    counted but not listed. One query.
    """
    users = list(
        subtree_active_members(group).only(
            "id", "display_name", "visibility", "deleted_at"
        )
    )
    visible = [u for u in users if u.visibility == User.Visibility.MEMBERS]
    return MemberListing(visible=visible, hidden_count=len(users) - len(visible))


def group_memberships_for_organisers(group: Group) -> dict[str, list[Membership]]:
    """Memberships of the group itself by status, for its organisers (one query)."""
    by_status: dict[str, list[Membership]] = {s: [] for s in Membership.Status.values}
    for membership in (
        Membership.objects.filter(group=group)
        .select_related("user")
        .order_by("user__display_name", "user_id")
    ):
        by_status[membership.status].append(membership)
    return by_status


def group_role_assignments(group: Group) -> list[RoleAssignment]:
    return list(
        RoleAssignment.objects.filter(group=group)
        .select_related("user")
        .order_by("role", "user__display_name")
    )


def organisations_with_groups() -> list[tuple[Any, list[Group]]]:
    from .models import Organisation

    organisations = list(
        Organisation.objects.order_by("kind", "name").prefetch_related("affiliates")
    )
    groups = list(
        Group.objects.filter(archived_at__isnull=True)
        .select_related("organisation")
        .order_by("path")
    )
    by_org: dict[int, list[Group]] = {}
    for group in groups:
        by_org.setdefault(group.organisation_id, []).append(group)
    return [(org, by_org.get(org.pk, [])) for org in organisations]


# Dashboard panels (named in the capability entry in apps.py).


def dashboard_memberships(request: Any) -> dict[str, Any]:
    """My groups with my status and my roles, and the organisations waiting for the
    code from my letter: three queries, whatever the numbers."""
    user = request.user
    memberships = list(
        Membership.objects.filter(user=user)
        .exclude(status__in=[Membership.Status.LEFT, Membership.Status.REJECTED])
        .select_related("group", "group__organisation")
        .order_by("group__path")
    )
    roles: dict[int, list[str]] = {}
    role_groups: dict[int, Group] = {}
    for assignment in (
        RoleAssignment.objects.filter(user=user)
        .select_related("group")
        .order_by("role")
    ):
        roles.setdefault(assignment.group_id, []).append(assignment.get_role_display())
        role_groups[assignment.group_id] = assignment.group
    member_group_ids = {m.group_id for m in memberships}
    return {
        "memberships": [
            {"membership": m, "group": m.group, "roles": roles.get(m.group_id, [])}
            for m in memberships
        ],
        "role_only_groups": [
            {"group": group, "roles": roles[group_id]}
            for group_id, group in sorted(role_groups.items(), key=lambda i: i[1].path)
            if group_id not in member_group_ids
        ],
        "pending": [m for m in memberships if m.status == Membership.Status.APPLIED],
        "letters_waiting": postal_code_organisations(user),
    }


def dashboard_pending_applications(request: Any) -> dict[str, Any]:
    """Applications I can approve, in groups where I organise: two queries."""
    managed = [
        a.group
        for a in RoleAssignment.objects.filter(
            user=request.user, role__in=list(MANAGING_ROLES)
        ).select_related("group")
    ]
    if not managed:
        return {"applications": []}
    applications = list(
        Membership.objects.filter(
            _subtrees_q(managed), status=Membership.Status.APPLIED
        )
        .select_related("group", "user")
        .order_by("since")[:50]
    )
    return {"applications": applications}


# The group's home: breadcrumbs, switcher, people in roles, organisers' open items.


def group_ancestors(group: Group) -> list[Group]:
    """The groups above this one, from the top of its tree down (one query)."""
    ids = [pk for pk in group.ancestor_ids if pk != group.pk]
    by_id = {
        g.pk: g for g in Group.objects.filter(pk__in=ids).only("id", "name", "slug")
    }
    return [by_id[pk] for pk in ids if pk in by_id]


def groups_of(user: Any) -> list[Group]:
    """The groups the user is an active member of, by name, for the group switcher."""
    if not user.is_authenticated:
        return []
    return list(
        Group.objects.filter(
            memberships__user=user, memberships__status=Membership.Status.ACTIVE
        )
        .only("id", "name", "slug")
        .order_by("name", "id")
    )


def group_people_in_roles(group: Group) -> list[RoleAssignment]:
    """Who holds a role here: on the group itself or on a group above it (one query)."""
    return list(
        RoleAssignment.objects.filter(group_id__in=group.ancestor_ids)
        .select_related("user", "group")
        .order_by("role", "user__display_name", "user_id")
    )


def group_pending_applications(group: Group, viewer: Any = None) -> int:
    """Applications to join this group waiting for an organiser (one query)."""
    return Membership.objects.filter(
        group=group, status=Membership.Status.APPLIED
    ).count()


def group_manage_overview(group: Group, viewer: Any) -> GroupOverview:
    """For organisers: the applications waiting for them (one query)."""
    waiting = group_pending_applications(group)
    if not waiting:
        return GroupOverview()
    text = ngettext(
        "%(count)d application to join waits for a decision.",
        "%(count)d applications to join wait for a decision.",
        waiting,
    ) % {"count": waiting}
    url = reverse("members:group_manage", args=[group.slug])
    return GroupOverview(needs_you=[NeedsYou(text=text, url=url)])


def group_audit_entries(group: Group, limit: int = 200) -> list[dict[str, Any]]:
    """The group's log, newest first, with actors and subjects named as members see them.

    Two queries: the entries, then the people they name. Actions are labelled by the
    app that records them (see ``commonground.core.capabilities``).
    """
    entries = audit_selectors.group_entries(group, limit)
    labels = audit_selectors.action_labels()
    people = {
        user.pk: user
        for user in User.objects.filter(
            pk__in={e.actor_id for e in entries if e.actor_id}
            | {
                e.data.get("member")
                for e in entries
                if isinstance(e.data.get("member"), int)
            }
        ).only("id", "display_name", "deleted_at")
    }

    def name(user_id: Any) -> str:
        if user_id is None:
            return str(_("The system"))
        user = people.get(user_id)
        return user.public_name if user else str(_("Deleted member"))

    return [
        {
            "entry": entry,
            "actor": name(entry.actor_id),
            "summary": labels.get(entry.action, entry.action),
            "subject": name(entry.data["member"]) if "member" in entry.data else "",
            "role": entry.data.get("role", ""),
        }
        for entry in entries
    ]


# Organisations: who administers them, and how they look (members.branding).


def _administered_q(user: Any) -> Q:
    """Admin role on a top-level group of the organisation (the organisation's admins)."""
    return Q(
        groups__roles__user=user,
        groups__roles__role=Role.ADMIN,
        groups__parent__isnull=True,
    )


def is_organisation_admin(user: Any, organisation: Any) -> bool:
    """Whether the user holds the admin role on a top-level group of the organisation."""
    if not user.is_authenticated:
        return False
    return RoleAssignment.objects.filter(
        user=user,
        role=Role.ADMIN,
        group__organisation=organisation,
        group__parent__isnull=True,
    ).exists()


def organisations_administered(user: Any) -> list[Any]:
    """The organisations the user administers, by name (one query)."""
    from .models import Organisation

    if not user.is_authenticated:
        return []
    return list(
        Organisation.objects.filter(_administered_q(user))
        .distinct()
        .only("id", "name", "slug")
        .order_by("name", "id")
    )


def organisation_by_slug(slug: str) -> Any:
    from .models import Organisation

    return Organisation.objects.get(slug=slug)


_BRAND_FIELDS = ("id", "name", "slug", "accent_colour", "logo_renditions")


def affiliate_brands(organisation: Any) -> list[Any]:
    """A coalition's affiliates as ``Brand`` objects (name, logo_url, logo_width,
    logo_height, logo_srcset, accent...), by name, in one query."""
    from .branding import brand_of

    return [
        brand_of(affiliate)
        for affiliate in organisation.affiliates.only(*_BRAND_FIELDS).order_by(
            "name", "id"
        )
    ]


def brand_for_group_slug(slug: str, user: Any) -> Any:
    """The brand of the organisation a group belongs to, or None (unknown group, or a
    private group the user has no membership or role in). One query, two for a
    private group."""
    from .branding import brand_of

    group = (
        Group.objects.filter(slug=slug)
        .select_related("organisation")
        .only("id", "is_public", *(f"organisation__{f}" for f in _BRAND_FIELDS))
        .first()
    )
    if group is None:
        return None
    if not group.is_public and not (
        user.is_authenticated
        and (
            Membership.objects.filter(
                user=user, group__organisation_id=group.organisation_id
            )
            .exclude(status__in=[Membership.Status.LEFT, Membership.Status.REJECTED])
            .exists()
            or RoleAssignment.objects.filter(
                user=user, group__organisation_id=group.organisation_id
            ).exists()
        )
    ):
        return None
    return brand_of(group.organisation)


def brand_for_organisation_slug(slug: str) -> Any:
    """The brand of the organisation with this slug, or None (one query)."""
    from .branding import brand_of
    from .models import Organisation

    organisation = Organisation.objects.filter(slug=slug).only(*_BRAND_FIELDS).first()
    return brand_of(organisation) if organisation is not None else None


def group_subtree(group: Group) -> list[Group]:
    """The group and every group below it, in tree order (one query)."""
    return list(
        Group.objects.filter(path__startswith=group.path)
        .only("id", "name", "slug", "kind", "path", "archived_at", "parent_id")
        .order_by("path")
    )


def move_targets(user: Any, group: Group) -> QuerySet[Group]:
    """Where the user may put ``group``: live groups of its organisation that they
    manage, outside its own subtree."""
    managed_paths = list(
        Group.objects.filter(
            organisation_id=group.organisation_id,
            roles__user=user,
            roles__role__in=list(MANAGING_ROLES),
        ).values_list("path", flat=True)
    )
    if not managed_paths:
        return Group.objects.none()
    within = Q()
    for path in managed_paths:
        within |= Q(path__startswith=path)
    return (
        Group.objects.filter(within, organisation_id=group.organisation_id)
        .filter(archived_at__isnull=True)
        .exclude(path__startswith=group.path)
        .order_by("path")
    )


def site_is_empty() -> bool:
    """No account exists yet: a fresh install waiting for its first run."""
    return not User.objects.exists()


# Verification before voting ---------------------------------------------------------


def verified_q(organisation: Any, prefix: str = "") -> Q:
    """Members verified for ``organisation``'s ballots, as a filter on users (or, with
    ``prefix="user__"``, on rows that point at one).

    Email: the primary address is confirmed (imported members who have not claimed
    their account are not). Postal code or organiser check: a verification is
    recorded for the organisation (by any method: one that switches method keeps
    those it verified).
    """
    from allauth.account.models import EmailAddress

    from .models import MemberVerification, Verification

    user_ref = OuterRef(f"{prefix}pk" if not prefix else prefix.removesuffix("__"))
    checked = Exists(
        MemberVerification.objects.filter(
            user_id=user_ref, organisation=organisation, verified_at__isnull=False
        )
    )
    if organisation.verification == Verification.EMAIL:
        unconfirmed = Exists(
            EmailAddress.objects.filter(user_id=user_ref, primary=True, verified=False)
        )
        return Q(checked) | ~Q(unconfirmed)
    return Q(checked)


def is_verified(user: Any, organisation: Any) -> bool:
    return User.objects.filter(verified_q(organisation), pk=user.pk).exists()


def unverified_members(group: Group) -> QuerySet[User]:
    """Active members of the group's subtree not yet verified for its ballots."""
    return subtree_active_members(group).exclude(verified_q(group.organisation))


def invitation_summary(organisation: Any, *, limit: int = 200) -> dict[str, Any]:
    """Counts of the organisation's invitations and the unclaimed ones, oldest first."""
    from .models import Invitation

    invitations = Invitation.objects.filter(organisation=organisation)
    counts = invitations.aggregate(
        total=Count("id"),
        unsent=Count("id", filter=Q(send_count=0, claimed_at__isnull=True)),
        claimed=Count("id", filter=Q(claimed_at__isnull=False)),
        bounced=Count("id", filter=Q(user__email_bounced_at__isnull=False)),
    )
    pending = list(
        invitations.filter(claimed_at__isnull=True)
        .select_related("user")
        .order_by("created_at", "id")[:limit]
    )
    return {"counts": counts, "pending": pending}


def postal_code_organisations(user: Any) -> list[Any]:
    """Organisations that sent this member a letter whose code is still to be typed."""
    from .models import MemberVerification, Organisation

    return list(
        Organisation.objects.filter(
            pk__in=MemberVerification.objects.filter(
                user=user, verified_at__isnull=True
            )
            .exclude(code_hash="")
            .values("organisation_id")
        ).order_by("name")
    )


def email_brand_for_group(group_id: int) -> dict[str, str] | None:
    """The organisation's look for emails about one of its groups (one query)."""
    from .branding import brand_of

    group = Group.objects.select_related("organisation").filter(pk=group_id).first()
    if group is None:
        return None
    brand = brand_of(group.organisation)
    return {
        "name": brand.name,
        "accent": brand.accent,
        "accent_ink": brand.accent_ink,
        "logo_url": brand.logo_url,
    }
