"""Admins must set up a second factor; the check is cached only when it passes."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator

from commonground.members import services
from commonground.members.models import Role
from factories import make_group, make_member

pytestmark = pytest.mark.django_db


def test_becoming_an_admin_requires_totp_from_the_next_request(client):
    group = make_group()
    member = make_member(group)
    client.force_login(member)
    assert (
        client.get("/dashboard/").status_code == 200
    )  # the "not needed" answer is cached
    services.role_grant_founding_admin(group=group, user=member, reason="test")
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/totp/activate")
    # Account pages stay reachable so the admin can set it up (allauth may first ask
    # for the password again: that is an account page too).
    set_up = client.get("/accounts/2fa/totp/activate/")
    assert set_up.status_code == 200 or set_up["Location"].startswith("/accounts/")
    Authenticator.objects.create(
        user=member, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    assert client.get("/dashboard/").status_code == 200


def test_organisers_do_not_need_a_second_factor(client):
    group = make_group()
    admin = make_member(group)
    services.role_grant_founding_admin(group=group, user=admin, reason="test")
    organiser = make_member(group)
    services.role_assign(actor=admin, group=group, user=organiser, role=Role.ORGANISER)
    client.force_login(organiser)
    assert client.get("/dashboard/").status_code == 200
