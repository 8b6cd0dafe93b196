"""The demo movement: a new people's party, its branches, and a coalition.

Loaded by ``manage.py seed_demo`` (idempotent). About 200 members across six
branches, two affiliated organisations in a coalition, organisers, moderators,
a returning officer and an admin. Every demo account's password is DEMO_PASSWORD.
"""

from __future__ import annotations

import random
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from . import services
from .models import Group, Membership, Organisation, Role, RoleAssignment, User

DEMO_PASSWORD = "common-ground-demo"  # noqa: S105 - documented demo credential
DEMO_DOMAIN = "demo.commonground.example"

FIRST = [
    "Aisha",
    "Ben",
    "Chloe",
    "Dev",
    "Ellie",
    "Farid",
    "Grace",
    "Hamza",
    "Isla",
    "Jonah",
    "Kemi",
    "Liam",
    "Maya",
    "Nuno",
    "Olu",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Viktor",
    "Wren",
    "Xin",
    "Yusuf",
    "Zara",
]
LAST = [
    "Ahmed",
    "Byrne",
    "Campbell",
    "Davies",
    "Evans",
    "Fraser",
    "Ghosh",
    "Hughes",
    "Iqbal",
    "Jones",
    "Kaur",
    "Lewis",
    "Murphy",
    "Nowak",
    "O'Neill",
    "Patel",
    "Quinn",
    "Rossi",
    "Singh",
    "Taylor",
    "Usman",
    "Walsh",
    "Young",
]

BRANCHES = [
    ("north", "leeds", "Leeds branch"),
    ("north", "manchester", "Manchester branch"),
    ("north", "newcastle", "Newcastle branch"),
    ("south", "bristol", "Bristol branch"),
    ("south", "brighton", "Brighton branch"),
    ("south", "cardiff", "Cardiff branch"),
]

# Named demo logins printed by seed_demo: (local part, display name, what they can do).
LOGINS = [
    ("member", "Alex Member", "an active member of the Leeds branch"),
    (
        "organiser",
        "Olivia Organiser",
        "organiser of the Leeds branch (approves applications)",
    ),
    ("moderator", "Mo Moderator", "moderator of the national party"),
    ("officer", "Rita Returning-Officer", "returning officer of the national party"),
    (
        "admin",
        "Ada Admin",
        "admin of the national party (sets up two-factor at first login)",
    ),
    (
        "renter",
        "Ruth Renter",
        "member of the Renters' Union (an affiliate in the coalition)",
    ),
]


def email_for(local: str) -> str:
    return f"{local}@{DEMO_DOMAIN}"


def _users(specs: list[tuple[str, str]]) -> list[User]:
    """Create verified users in bulk, sharing one password hash (hashing is slow)."""
    password = make_password(DEMO_PASSWORD)
    now = timezone.now()
    users = User.objects.bulk_create(
        [
            User(
                email=email,
                display_name=name,
                password=password,
                date_joined=now,
                visibility=User.Visibility.MEMBERS,
            )
            for email, name in specs
        ]
    )
    users = list(
        User.objects.filter(email__in=[email for email, _ in specs]).order_by("id")
    )
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user=u, email=u.email, verified=True, primary=True)
            for u in users
        ]
    )
    return users


def _activate(user: User, group: Group) -> None:
    Membership.objects.create(
        user=user, group=group, status=Membership.Status.ACTIVE, since=timezone.now()
    )


@transaction.atomic
def seed(context: dict[str, Any]) -> None:
    """The movement's organisations, group tree, about 200 members, roles and history."""
    context["password"] = DEMO_PASSWORD
    context["logins"] = [
        (email_for(local), description) for local, _, description in LOGINS
    ]
    if Organisation.objects.filter(slug="npp").exists():
        context["skipped"] = True
        return
    rng = random.Random(2026)  # noqa: S311 - demo names, not security
    groups = _group_tree(*_organisations())
    by_local, crowd = _people(rng)
    _memberships(groups, by_local, crowd)
    _roles(groups, by_local)
    _history(groups, by_local, crowd)


def _organisations() -> tuple[Organisation, Organisation, Organisation, Organisation]:
    """The party, two partner organisations and the coalition that federates them."""
    npp = Organisation.objects.create(
        name="New People's Party",
        slug="npp",
        description="A new party for people who found no home in the old ones. Members decide.",
    )
    renters = Organisation.objects.create(
        name="Renters' Union",
        slug="renters-union",
        description="Tenants organising for secure, affordable homes.",
    )
    green = Organisation.objects.create(
        name="Green Commons Network",
        slug="green-commons",
        description="Local groups caring for shared land, energy and water.",
    )
    coalition = Organisation.objects.create(
        name="Common Ground Coalition",
        slug="coalition",
        kind=Organisation.Kind.COALITION,
        description="A federation: each organisation keeps its own members and works together here.",
    )
    coalition.affiliates.set([npp, renters, green])
    return npp, renters, green, coalition


def _create_group(
    org: Organisation,
    name: str,
    slug: str,
    kind: str,
    parent: Group | None = None,
    policy: str = Group.JoinPolicy.APPROVAL,
    description: str = "",
) -> Group:
    return services.group_create(
        actor=None,
        organisation=org,
        name=name,
        slug=slug,
        kind=kind,
        parent=parent,
        join_policy=policy,
        description=description,
    )


def _group_tree(
    npp: Organisation,
    renters: Organisation,
    green: Organisation,
    coalition: Organisation,
) -> dict[str, Any]:
    """National party, two regions, six branches, a working group; partners; assembly."""
    create = _create_group
    national = create(
        npp,
        "New People's Party",
        "npp-national",
        Group.Kind.NATIONAL,
        description="The whole party. Every branch member is a member here too.",
    )
    regions = {
        "north": create(npp, "North region", "npp-north", Group.Kind.REGION, national),
        "south": create(npp, "South region", "npp-south", Group.Kind.REGION, national),
    }
    branches = {
        slug: create(
            npp,
            name,
            f"npp-{slug}",
            Group.Kind.BRANCH,
            regions[region],
            policy=Group.JoinPolicy.OPEN
            if slug in {"bristol", "cardiff"}
            else Group.JoinPolicy.APPROVAL,
            description=f"Members of the party living in and around {name.split()[0]}.",
        )
        for region, slug, name in BRANCHES
    }
    return {
        "national": national,
        "branches": branches,
        "policy_wg": create(
            npp,
            "Policy working group",
            "npp-policy",
            Group.Kind.WORKING_GROUP,
            national,
            policy=Group.JoinPolicy.OPEN,
            description="Drafts proposals for the members to decide.",
        ),
        "renters": create(
            renters,
            "Renters' Union",
            "renters",
            Group.Kind.NATIONAL,
            policy=Group.JoinPolicy.OPEN,
        ),
        "green": create(
            green,
            "Green Commons Network",
            "green-commons-network",
            Group.Kind.NATIONAL,
            policy=Group.JoinPolicy.OPEN,
        ),
        "assembly": create(
            coalition,
            "Coalition assembly",
            "coalition-assembly",
            Group.Kind.COALITION,
            policy=Group.JoinPolicy.OPEN,
            description="Open to members of every affiliated organisation.",
        ),
    }


def _people(rng: random.Random) -> tuple[dict[str, User], list[User]]:
    """The named demo logins (by local part) and a crowd of 190 generated members."""
    named = _users([(email_for(local), name) for local, name, _ in LOGINS])
    by_local = {u.email.split("@")[0]: u for u in named}
    crowd_specs = []
    for index in range(190):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        crowd_specs.append((email_for(f"member{index:03d}"), name))
    return by_local, _users(crowd_specs)


def _memberships(
    groups: dict[str, Any], by_local: dict[str, User], crowd: list[User]
) -> None:
    leeds = groups["branches"]["leeds"]
    for local in ("member", "organiser", "moderator", "officer", "admin"):
        _activate(by_local[local], leeds)
    _activate(by_local["renter"], groups["renters"])
    branch_list = list(groups["branches"].values())
    for index, user in enumerate(crowd[:174]):
        _activate(user, branch_list[index % len(branch_list)])
        if index % 11 == 0:
            _activate(user, groups["policy_wg"])
        if index % 7 == 0:
            user.visibility = User.Visibility.HIDDEN
            user.save(update_fields=["visibility"])
    for user in crowd[174:182]:
        _activate(user, groups["renters"])
    for user in crowd[182:188]:
        _activate(user, groups["green"])
    for user in (crowd[0], crowd[1], crowd[174], crowd[182], by_local["renter"]):
        _activate(user, groups["assembly"])


def _roles(groups: dict[str, Any], by_local: dict[str, User]) -> None:
    """A founding admin, a returning officer, a moderator and an organiser per branch."""
    national, branches = groups["national"], groups["branches"]
    admin = by_local["admin"]
    services.role_grant_founding_admin(
        group=national, user=admin, reason="Founding admin of the party"
    )
    for where, local, role, reason in (
        (
            national,
            "officer",
            Role.RETURNING_OFFICER,
            "Elected returning officer at the founding meeting",
        ),
        (
            national,
            "moderator",
            Role.MODERATOR,
            "Volunteered to moderate national discussions",
        ),
        (
            branches["leeds"],
            "organiser",
            Role.ORGANISER,
            "Chosen by the Leeds branch meeting",
        ),
    ):
        services.role_assign(
            actor=admin, group=where, user=by_local[local], role=role, reason=reason
        )
    for branch in list(branches.values())[1:]:
        first = (
            Membership.objects.filter(group=branch, status=Membership.Status.ACTIVE)
            .select_related("user")
            .first()
        )
        if first is not None:
            services.role_assign(
                actor=admin, group=branch, user=first.user, role=Role.ORGANISER
            )


def _history(
    groups: dict[str, Any], by_local: dict[str, User], crowd: list[User]
) -> None:
    """Some history to look at: applications waiting, one approved, one suspension."""
    leeds, manchester = groups["branches"]["leeds"], groups["branches"]["manchester"]
    for user in crowd[188:190]:
        services.membership_join(user=user, group=leeds)
    latecomer = crowd[187]
    application = services.membership_join(user=latecomer, group=manchester)
    manchester_organiser = RoleAssignment.objects.filter(group=manchester).first()
    if manchester_organiser is not None:
        services.membership_approve(
            actor=manchester_organiser.user, membership=application
        )
    disruptive = Membership.objects.filter(group=leeds, user=crowd[0]).first()
    if disruptive is not None:
        services.membership_suspend(
            actor=by_local["organiser"],
            membership=disruptive,
            reason="Repeated personal attacks in branch meetings; review in 30 days",
        )
