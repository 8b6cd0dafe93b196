"""Inviting imported members and verifying members before they vote: invitation
links (signed, expiring, spent once, resend, bounced addresses), the three ways of
verifying, and ballot rolls that hold only verified members."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from commonground.audit.models import AuditEntry
from commonground.members import selectors, services
from commonground.members.models import (
    Invitation,
    MemberVerification,
    Role,
    User,
    Verification,
)
from factories import make_group, make_member, make_role

pytestmark = pytest.mark.django_db

STRONG = "a long enough passphrase 2026"  # noqa: S105


def with_second_factor(user):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    return user


@pytest.fixture
def national(db):
    return make_group(name="Northern People", kind="national")


@pytest.fixture
def admin(national):
    return with_second_factor(make_role(national, Role.ADMIN))


def imported(national, email="imported@example.org"):
    """A member as the register import leaves them: no password, address unconfirmed."""
    user = User.objects.create(email=email, display_name="Imani", password="!")
    EmailAddress.objects.create(user=user, email=email, verified=False, primary=True)
    make_member(national, user)
    return Invitation.objects.create(
        user=user, organisation=national.organisation, created_at=timezone.now()
    )


def claim_link(message):
    return re.search(r"https?://\S+/invite/\S+/|/invite/\S+/", message.body).group(0)


def test_invitations_go_once_and_the_link_claims_the_account(
    client, national, admin, django_capture_on_commit_callbacks
):
    invitation = imported(national)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            services.invitations_send(actor=admin, organisation=national.organisation)
            == 1
        )
        assert (
            services.invitations_send(actor=admin, organisation=national.organisation)
            == 0
        )
    assert [m.to for m in mail.outbox] == [["imported@example.org"]]
    link = claim_link(mail.outbox[0])
    path = link[link.index("/invite/") :]
    assert client.get(path).status_code == 200
    response = client.post(path, {"password": STRONG, "password_again": STRONG})
    assert response.url == reverse("core:dashboard")
    user = User.objects.get(email="imported@example.org")
    assert user.check_password(STRONG)
    assert EmailAddress.objects.get(user=user).verified
    invitation.refresh_from_db()
    assert invitation.claimed_at is not None
    # Spent: the same link no longer works.
    client.logout()
    again = client.get(path)
    assert again.status_code == 400 and "claimed already" in again.content.decode()
    assert AuditEntry.objects.filter(action="invitation.claimed").exists()


def test_an_invitation_link_expires_and_a_forged_one_is_refused(client, national):
    invitation = imported(national)
    token = services.invitations.invitation_token(invitation)
    with (
        time_machine.travel(timezone.now() + timedelta(days=22)),
        pytest.raises(ValidationError, match="expired"),
    ):
        services.invitation_from_token(token)
    response = client.get(reverse("members:invitation_claim", args=[token + "x"]))
    assert response.status_code == 400
    assert User.objects.get(pk=invitation.user_id).password == "!"


def test_resend_and_bounced_addresses(
    national, admin, django_capture_on_commit_callbacks
):
    invitation = imported(national)
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_resend(actor=admin, invitation=invitation)
        services.invitation_resend(actor=admin, invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.send_count == 2
    services.email_bounce_record(
        email="imported@example.org", reason="550 no such user"
    )
    invitation.refresh_from_db()
    with pytest.raises(ValidationError, match="bounced"):
        services.invitation_resend(actor=admin, invitation=invitation)
    other = imported(national, email="other@example.org")
    services.email_bounce_record(email="other@example.org", reason="550")
    assert (
        services.invitations_send(actor=admin, organisation=national.organisation) == 0
    )
    assert Invitation.objects.get(pk=other.pk).send_count == 0


def test_only_the_organisations_admins_invite(client, national):
    organiser = make_role(national, Role.ORGANISER)
    with pytest.raises(PermissionDenied):
        services.invitations_send(actor=organiser, organisation=national.organisation)
    client.force_login(organiser)
    url = reverse("members:invitations", args=[national.organisation.slug])
    assert client.get(url).status_code == 404
    other_admin = with_second_factor(make_role(make_group(name="Else"), Role.ADMIN))
    client.force_login(other_admin)
    assert client.get(url).status_code == 404


def test_the_invitations_page_shows_counts_and_sends(client, national, admin):
    imported(national)
    client.force_login(admin)
    url = reverse("members:invitations", args=[national.organisation.slug])
    page = client.get(url).content.decode()
    assert "Send 1 invitation" in page and "Imani" in page
    assert client.post(url).status_code == 302
    assert Invitation.objects.get().send_count == 1


# Verification and ballot rolls ---------------------------------------------------


def roll_ids(group, admin):
    from commonground.decisions import services as decisions
    from commonground.decisions.services.sealing import sealed_roll_member_ids

    now = timezone.now()
    election = decisions.election_create(
        actor=admin,
        group=group,
        kind="question",
        spec=decisions.ElectionSpec(
            title="Which day?",
            method="approval",
            options=["Mon", "Tue"],
            opens_at=now,
            closes_at=now + timedelta(days=1),
        ),
    )
    return set(sealed_roll_member_ids(election))


def test_by_email_an_unclaimed_imported_member_is_not_on_the_roll(national, admin):
    voter = make_member(national)
    invitation = imported(national)
    ids = roll_ids(national, admin)
    assert voter.pk in ids and invitation.user_id not in ids


def test_postal_codes_verify_members_and_wrong_codes_lock(national, admin):
    services.organisation_verification_set(
        actor=admin, organisation=national.organisation, method=Verification.POSTAL_CODE
    )
    national.organisation.refresh_from_db()
    member = make_member(national)
    assert member.pk not in roll_ids(national, admin)
    letters = services.verification_letters_issue(actor=admin, group=national)
    code = next(letter.code for letter in letters if letter.user == member)
    record = MemberVerification.objects.get(user=member)
    assert code.replace("-", "") not in record.code_hash  # only a keyed hash is kept
    with pytest.raises(ValidationError, match="4 tries left"):
        services.verification_code_redeem(
            user=member, organisation=national.organisation, code="WRONG-CODE0"
        )
    services.verification_code_redeem(
        user=member, organisation=national.organisation, code=code.lower()
    )
    assert selectors.is_verified(member, national.organisation)
    assert member.pk in roll_ids(national, admin)

    other = make_member(national)
    letters = services.verification_letters_issue(actor=admin, group=national)
    for _attempt in range(5):
        with pytest.raises(ValidationError):
            services.verification_code_redeem(
                user=other, organisation=national.organisation, code="AAAAA-AAAAA"
            )
    right = next(letter.code for letter in letters if letter.user == other)
    with pytest.raises(ValidationError, match="Too many"):
        services.verification_code_redeem(
            user=other, organisation=national.organisation, code=right
        )


def test_letters_download_as_a_pdf_for_organisers_only(client, national, admin):
    services.organisation_verification_set(
        actor=admin, organisation=national.organisation, method=Verification.POSTAL_CODE
    )
    make_member(national)
    url = reverse("members:verification_letters", args=[national.slug])
    client.force_login(make_member(national))
    assert client.post(url).status_code == 404
    client.force_login(admin)
    response = client.post(url)
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert AuditEntry.objects.filter(action="verification.letters_issued").exists()


def test_a_member_types_the_code_in_the_page(client, national, admin):
    services.organisation_verification_set(
        actor=admin, organisation=national.organisation, method=Verification.POSTAL_CODE
    )
    member = make_member(national)
    code = services.verification_letters_issue(actor=admin, group=national)
    code = next(letter.code for letter in code if letter.user == member)
    client.force_login(member)
    dashboard = client.get(reverse("core:dashboard")).content.decode()
    assert "sent you a letter with a code" in dashboard
    url = reverse("members:verify_code")
    assert "The letter came from" in client.get(url).content.decode()
    wrong = client.post(url, {"organisation": national.organisation.pk, "code": "x"})
    assert wrong.status_code == 400
    done = client.post(url, {"organisation": national.organisation.pk, "code": code})
    assert done.status_code == 302
    assert selectors.is_verified(member, national.organisation)


def test_an_organiser_checks_members_against_the_register(client, national, admin):
    services.organisation_verification_set(
        actor=admin,
        organisation=national.organisation,
        method=Verification.ORGANISER_CHECK,
    )
    branch = make_group(parent=national, name="Leeds")
    organiser = make_role(branch, Role.ORGANISER)
    member = make_member(branch)
    outsider = make_member(make_group(parent=national, name="York"))
    assert member in selectors.unverified_members(branch)
    client.force_login(organiser)
    page = client.get(reverse("members:group_verification", args=[branch.slug]))
    assert member.public_name in page.content.decode()
    client.post(reverse("members:member_verify", args=[branch.slug, member.pk]))
    assert selectors.is_verified(member, national.organisation)
    # Not a member of the organiser's subtree: refused, nothing recorded.
    with pytest.raises(ValidationError):
        services.member_verify(actor=organiser, member=outsider, group=branch)
    with pytest.raises(PermissionDenied):
        services.organisation_verification_set(
            actor=organiser, organisation=national.organisation, method="email"
        )
    assert not selectors.is_verified(outsider, national.organisation)
