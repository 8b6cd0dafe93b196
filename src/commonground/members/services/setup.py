"""The first run: the first administrator and the first organisation.

Used by the set-up page an empty site shows and by ``commonground manage
createadmin``. Refused once the site has any account, so it can never hand out an
admin role on a site already in use.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Group, Membership, Organisation, User
from ..selectors import site_is_empty
from .groups import group_create
from .memberships import role_grant_founding_admin


@dataclass(frozen=True)
class SetUp:
    admin: User
    organisation: Organisation
    top_group: Group


def _organisation(name: str, slug: str) -> Organisation:
    name = " ".join(name.split())
    slug = slug.strip().lower()
    if not name:
        raise ValidationError({"organisation": _("Give the organisation a name.")})
    if Organisation.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("That web address is taken.")})
    return Organisation.objects.create(name=name, slug=slug)


@transaction.atomic
def site_setup(
    *, name: str, email: str, password: str, organisation_name: str, slug: str
) -> SetUp:
    """Create the first admin (staff, superuser, email confirmed), the organisation
    and its top-level group, with the admin as its founding admin and member."""
    from allauth.account.models import EmailAddress

    if not site_is_empty():
        raise ValidationError(_("This site is already set up: sign in instead."))
    email = User.objects.normalize_email(email.strip())
    admin = User(email=email, display_name=" ".join(name.split()))
    validate_password(password, admin)
    admin.set_password(password)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    EmailAddress.objects.create(user=admin, email=email, verified=True, primary=True)
    organisation = _organisation(organisation_name, slug)
    top = group_create(
        actor=None,
        organisation=organisation,
        name=organisation.name,
        slug=organisation.slug,
        kind=Group.Kind.NATIONAL,
        join_policy=Group.JoinPolicy.APPROVAL,
    )
    Membership.objects.create(
        user=admin, group=top, status=Membership.Status.ACTIVE, since=timezone.now()
    )
    role_grant_founding_admin(group=top, user=admin, reason="first run of the site")
    return SetUp(admin=admin, organisation=organisation, top_group=top)
