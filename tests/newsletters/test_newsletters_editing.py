"""Writing, testing, scheduling, unscheduling and cancelling newsletters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from commonground.audit.models import AuditEntry
from commonground.members.models import Membership, Role
from commonground.newsletters import services
from commonground.newsletters.models import Newsletter, Recipient
from factories import make_group, make_role

pytestmark = pytest.mark.django_db


def test_an_organiser_writes_a_draft_for_their_group(draft, organiser, leeds):
    newsletter = draft(subject="  Branch\nnews  ")
    assert newsletter.status == Newsletter.Status.DRAFT
    assert newsletter.subject == "Branch news"  # one line, whatever was typed
    assert newsletter.author == organiser
    assert newsletter.group == leeds and newsletter.audience_group == leeds
    assert newsletter.statuses == ["active"] and newsletter.roles == []


def test_a_member_without_an_organising_role_cannot_write_one(draft, members):
    with pytest.raises(PermissionDenied):
        draft(actor=members[0])
    assert not Newsletter.objects.exists()


def test_an_organiser_of_another_branch_cannot_write_for_this_one(
    draft, york_organiser
):
    with pytest.raises(PermissionDenied):
        draft(actor=york_organiser)


def test_an_admin_of_the_national_group_writes_for_a_branch_below(draft, national):
    admin = make_role(national, Role.ADMIN)
    assert draft(actor=admin).author == admin


def test_the_audience_must_be_the_group_or_a_group_inside_it(
    draft, york, national, leeds
):
    with pytest.raises(ValidationError) as refused:
        draft(audience_group=york)
    assert "audience_group" in refused.value.message_dict
    with pytest.raises(ValidationError):
        draft(audience_group=national)  # above the group: not its members to write to
    working_group = make_group(parent=leeds, name="Leeds transport")
    assert draft(audience_group=working_group).audience_group == working_group


def test_statuses_roles_subject_and_body_are_checked(draft):
    with pytest.raises(ValidationError) as refused:
        draft(
            subject=" ",
            body="",
            statuses=[Membership.Status.LEFT],
            roles=[Role.MEMBER],
        )
    assert set(refused.value.message_dict) == {"subject", "body", "statuses", "roles"}
    with pytest.raises(ValidationError):
        draft(statuses=[])


def test_a_draft_can_be_edited_until_it_goes_out(draft, organiser, leeds, send_now):
    newsletter = draft()
    services.newsletter_update(
        actor=organiser,
        newsletter=newsletter,
        subject="Better subject",
        body="New body",
        audience_group=leeds,
        statuses=["active", "lapsed"],
        roles=["organiser"],
    )
    newsletter.refresh_from_db()
    assert newsletter.subject == "Better subject"
    assert newsletter.statuses == ["active", "lapsed"]
    assert newsletter.roles == ["organiser"]
    send_now(newsletter, organiser)
    with pytest.raises(ValidationError):
        services.newsletter_update(
            actor=organiser,
            newsletter=newsletter,
            subject="Too late",
            body="x",
            audience_group=leeds,
            statuses=["active"],
        )


def test_a_test_copy_goes_to_the_organiser_alone(draft, organiser, members):
    newsletter = draft()
    mail.outbox.clear()
    address = services.newsletter_send_test(actor=organiser, newsletter=newsletter)
    (message,) = mail.outbox
    assert address == organiser.email
    assert message.to == [organiser.email] and not message.cc and not message.bcc
    assert message.subject == "[Test] Branch news"
    assert "test copy" in message.body
    assert not Recipient.objects.exists()
    newsletter.refresh_from_db()
    assert newsletter.status == Newsletter.Status.DRAFT


def test_only_an_organiser_may_send_a_test_copy(draft, members):
    newsletter = draft()
    with pytest.raises(PermissionDenied):
        services.newsletter_send_test(actor=members[0], newsletter=newsletter)


def test_scheduling_is_audited_and_needs_a_time_in_the_future(draft, organiser):
    newsletter = draft()
    with pytest.raises(ValidationError) as refused:
        services.newsletter_schedule(
            actor=organiser,
            newsletter=newsletter,
            send_at=timezone.now() - timedelta(minutes=1),
        )
    assert "send_at" in refused.value.message_dict
    when = timezone.now() + timedelta(days=1)
    services.newsletter_schedule(actor=organiser, newsletter=newsletter, send_at=when)
    newsletter.refresh_from_db()
    assert newsletter.status == Newsletter.Status.SCHEDULED
    assert newsletter.scheduled_for == when
    entry = AuditEntry.objects.get(action="newsletter.scheduled")
    assert entry.actor_id == organiser.pk and entry.group_id == newsletter.group_id
    assert entry.data["newsletter"] == newsletter.pk


def test_a_scheduled_newsletter_goes_back_to_draft(draft, organiser):
    newsletter = draft()
    services.newsletter_schedule(
        actor=organiser,
        newsletter=newsletter,
        send_at=timezone.now() + timedelta(hours=2),
    )
    services.newsletter_unschedule(actor=organiser, newsletter=newsletter)
    newsletter.refresh_from_db()
    assert newsletter.status == Newsletter.Status.DRAFT
    assert newsletter.scheduled_for is None
    assert AuditEntry.objects.filter(action="newsletter.unscheduled").exists()
    with pytest.raises(ValidationError):  # a draft is not scheduled
        services.newsletter_unschedule(actor=organiser, newsletter=newsletter)


def test_cancelling_a_scheduled_newsletter_sends_nothing(draft, organiser, members):
    newsletter = draft()
    services.newsletter_schedule(
        actor=organiser,
        newsletter=newsletter,
        send_at=timezone.now() + timedelta(hours=2),
    )
    assert services.newsletter_cancel(actor=organiser, newsletter=newsletter) == 0
    newsletter.refresh_from_db()
    assert newsletter.status == Newsletter.Status.CANCELLED
    assert AuditEntry.objects.filter(action="newsletter.cancelled").exists()
    with pytest.raises(ValidationError):
        services.newsletter_cancel(actor=organiser, newsletter=newsletter)
    with pytest.raises(ValidationError):
        services.newsletter_schedule(actor=organiser, newsletter=newsletter)


def test_only_an_organiser_may_schedule_or_cancel(draft, members, york_organiser):
    newsletter = draft()
    for actor in (members[0], york_organiser):
        with pytest.raises(PermissionDenied):
            services.newsletter_schedule(actor=actor, newsletter=newsletter)
        with pytest.raises(PermissionDenied):
            services.newsletter_cancel(actor=actor, newsletter=newsletter)
    newsletter.refresh_from_db()
    assert newsletter.status == Newsletter.Status.DRAFT
    assert not AuditEntry.objects.filter(action__startswith="newsletter.").exists()
