"""Who may see a group's decisions: one predicate, used by the views, selectors and links."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone

from commonground.core.capabilities import group_links_for
from commonground.decisions import rules, selectors
from commonground.members.models import Membership, Role, RoleAssignment
from commonground.members.selectors import viewer_for
from factories import UserFactory, make_group, make_member

pytestmark = pytest.mark.django_db

# Who the viewer is -> may they see a private group's decisions?
PRIVATE_ANSWERS = {
    "anonymous": False,
    "signed-in stranger": False,
    "applicant": False,
    "suspended member": False,
    "member": True,
    "member of a child branch": True,
    "moderator (not a member)": False,
    "organiser": True,
    "admin": True,
    "returning officer": True,
    "organiser of the parent group": True,
    "organiser of a child branch": False,
}


def _viewer_user(kind, group, child, parent):
    if kind == "anonymous":
        return AnonymousUser()
    user = UserFactory()
    status = {"applicant": Membership.Status.APPLIED}.get(kind)
    if kind == "suspended member":
        status = Membership.Status.SUSPENDED
    if status is not None:
        make_member(group, user, status=status)
    elif kind == "member":
        make_member(group, user)
    elif kind == "member of a child branch":
        make_member(child, user)
    roles = {
        "moderator (not a member)": (group, Role.MODERATOR),
        "organiser": (group, Role.ORGANISER),
        "admin": (group, Role.ADMIN),
        "returning officer": (group, Role.RETURNING_OFFICER),
        "organiser of the parent group": (parent, Role.ORGANISER),
        "organiser of a child branch": (child, Role.ORGANISER),
    }
    if kind in roles:
        where, role = roles[kind]
        RoleAssignment.objects.create(
            user=user, group=where, role=role, assigned_at=timezone.now()
        )
        if role == Role.ADMIN:  # admins must have a second factor to use any page
            Authenticator.objects.create(
                user=user, type=Authenticator.Type.TOTP, data={"secret": "x"}
            )
    return user


@pytest.mark.parametrize("is_public", [True, False], ids=["public", "private"])
@pytest.mark.parametrize("kind", list(PRIVATE_ANSWERS))
def test_every_role_sees_the_same_answer_from_rule_selector_link_and_page(
    client, kind, is_public
):
    parent = make_group(name="National")
    group = make_group(parent=parent, name="Region", is_public=is_public)
    child = make_group(parent=group, name="Branch")
    user = _viewer_user(kind, group, child, parent)
    # A public group's decisions are public, to anonymous visitors too.
    expected = True if is_public else PRIVATE_ANSWERS[kind]

    viewer = viewer_for(user, group)
    assert rules.can_see_group_decisions(viewer) is expected
    assert (selectors.visible_group(user, group) is not None) is expected
    link_keys = {link["key"] for link in group_links_for(group, viewer)}
    assert ("decisions" in link_keys) is expected

    if kind != "anonymous":
        client.force_login(user)
    response = client.get(reverse("decisions:group_decisions", args=[group.slug]))
    assert response.status_code == (200 if expected else 404)


def test_taking_part_still_needs_an_active_membership():
    group = make_group()
    stranger = UserFactory()
    member = make_member(group)
    assert rules.can_see_group_decisions(viewer_for(stranger, group))
    assert not rules.can_take_part(viewer_for(stranger, group))
    assert rules.can_take_part(viewer_for(member, group))


@pytest.mark.parametrize("is_public", [True, False], ids=["public", "private"])
@pytest.mark.parametrize("kind", [k for k in PRIVATE_ANSWERS if k != "anonymous"])
def test_the_cast_lookup_in_one_statement_gives_the_rules_answer(
    kind, is_public, django_assert_num_queries
):
    from django.http import Http404
    from django.test import RequestFactory

    from commonground.decisions.models import Election
    from commonground.decisions.views.lookups import election_for_cast

    parent = make_group(name="National")
    group = make_group(parent=parent, name="Region", is_public=is_public)
    child = make_group(parent=group, name="Branch")
    # A sibling group, so that not every group's path starts another's.
    make_group(parent=parent, name="Region 2")
    user = _viewer_user(kind, group, child, parent)
    expected = True if is_public else PRIVATE_ANSWERS[kind]
    election = Election.objects.create(
        group=group,
        title="Cast",
        kind="question",
        method="irv",
        created_at=timezone.now(),
    )
    request = RequestFactory().post("/")
    request.user = user
    assert (selectors.visible_group(user, group) is not None) is expected
    with django_assert_num_queries(1):
        try:
            found = election_for_cast(request, election.pk)
        except Http404:
            found = None
    assert (found is not None) is expected
    if found is not None:
        assert found.pk == election.pk and found.group.path == group.path
