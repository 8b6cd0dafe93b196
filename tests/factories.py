"""factory_boy factories and builders for platform tests (``from factories import ...``)."""

from __future__ import annotations

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from commonground.members import services
from commonground.members.models import Group, Membership, Organisation, Role, User

PASSWORD = "a-long-test-password-42"  # noqa: S105


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]  # noqa: N805
        if create:
            obj.save()
            EmailAddress.objects.create(
                user=obj, email=obj.email, verified=True, primary=True
            )


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


def make_group(
    *,
    organisation: Organisation | None = None,
    parent: Group | None = None,
    name: str | None = None,
    kind: str = Group.Kind.BRANCH,
    join_policy: str = Group.JoinPolicy.APPROVAL,
    is_public: bool = True,
) -> Group:
    """A group built through the service (so its path and audit entry are real)."""
    organisation = organisation or (
        parent.organisation if parent else OrganisationFactory()
    )
    count = Group.objects.count() + 1
    name = name or f"Group {count}"
    group = services.group_create(
        actor=None,
        organisation=organisation,
        name=name,
        slug=f"group-{count}-{Group.objects.count()}",
        kind=kind,
        parent=parent,
        join_policy=join_policy,
    )
    if not is_public:
        Group.objects.filter(pk=group.pk).update(is_public=False)
        group.is_public = False
    return group


def make_member(
    group: Group, user: User | None = None, status: str = Membership.Status.ACTIVE
) -> User:
    """An active (or other status) member of ``group``, written directly."""
    user = user or UserFactory()
    Membership.objects.create(
        user=user, group=group, status=status, since=timezone.now()
    )
    return user


def make_role(
    group: Group, role: str = Role.ORGANISER, user: User | None = None
) -> User:
    """A member of ``group`` holding ``role`` there (an admin founding grant for admins)."""
    user = user or make_member(group)
    if role == Role.ADMIN:
        services.role_grant_founding_admin(group=group, user=user, reason="test set-up")
    else:
        from commonground.members.models import RoleAssignment

        RoleAssignment.objects.create(
            user=user, group=group, role=role, assigned_at=timezone.now()
        )
    return user
