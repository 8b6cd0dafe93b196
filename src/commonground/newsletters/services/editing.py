"""Writing a newsletter: drafts, a test copy, scheduling, unscheduling, cancelling.

Every function checks that the actor organises the newsletter's group (or a group
above it), and every change that matters to members (scheduled, unscheduled,
cancelled) is audit-logged in its transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import make_msgid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record
from commonground.members.models import Group, Role

from .. import emails, locks, selectors
from ..models import Newsletter, Recipient
from ._shared import require_manager
from .sending import start_sending

SUBJECT_MAX = 200
BODY_MAX = 100_000
ROLE_CHOICES = tuple(value for value in Role.values if value != Role.MEMBER)


def _clean(
    *,
    group: Group,
    subject: str,
    body: str,
    audience_group: Group,
    statuses: Sequence[str],
    roles: Sequence[str],
) -> dict[str, Any]:
    """The fields as stored; ``ValidationError`` naming each field that is wrong."""
    errors: dict[str, str] = {}
    subject = " ".join(subject.split())
    if not subject or len(subject) > SUBJECT_MAX:
        errors["subject"] = _("Give a subject of up to 200 characters.")
    if not body.strip() or len(body) > BODY_MAX:
        errors["body"] = _("Write the newsletter (up to 100,000 characters).")
    if (
        not audience_group.path.startswith(group.path)
        or audience_group.archived_at is not None
    ):
        errors["audience_group"] = _(
            "Choose this group or a group inside it that is not archived."
        )
    if not statuses or not set(statuses) <= set(selectors.AUDIENCE_STATUSES):
        errors["statuses"] = _("Choose at least one of the offered statuses.")
    if not set(roles) <= set(ROLE_CHOICES):
        errors["roles"] = _("Choose among the offered roles.")
    if errors:
        raise ValidationError(errors)
    return {
        "subject": subject,
        "body": body.strip() + "\n",
        "audience_group": audience_group,
        "statuses": sorted(set(statuses)),
        "roles": sorted(set(roles)),
    }


def newsletter_create(
    *,
    actor: Any,
    group: Group,
    subject: str,
    body: str,
    audience_group: Group,
    statuses: Sequence[str],
    roles: Sequence[str] = (),
) -> Newsletter:
    """A draft newsletter of ``group``."""
    require_manager(actor, group)
    fields = _clean(
        group=group,
        subject=subject,
        body=body,
        audience_group=audience_group,
        statuses=statuses,
        roles=roles,
    )
    now = timezone.now()
    return Newsletter.objects.create(
        group=group, author=actor, created_at=now, updated_at=now, **fields
    )


def _locked_editable(actor: Any, newsletter: Newsletter) -> Newsletter:
    locked = locks.newsletter_for_update(newsletter.pk)
    if locked is None:
        raise ValidationError(_("This newsletter no longer exists."), code="gone")
    require_manager(actor, locked.group)
    if not locked.is_editable:
        raise ValidationError(
            _("This newsletter has gone out already; it can no longer change."),
            code="not_editable",
        )
    return locked


def newsletter_update(
    *,
    actor: Any,
    newsletter: Newsletter,
    subject: str,
    body: str,
    audience_group: Group,
    statuses: Sequence[str],
    roles: Sequence[str] = (),
) -> Newsletter:
    """Change a draft or a scheduled newsletter (it stays scheduled)."""
    with transaction.atomic():
        locked = _locked_editable(actor, newsletter)
        fields = _clean(
            group=locked.group,
            subject=subject,
            body=body,
            audience_group=audience_group,
            statuses=statuses,
            roles=roles,
        )
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.updated_at = timezone.now()
        locked.save(update_fields=[*fields, "updated_at"])
    return locked


def newsletter_send_test(*, actor: Any, newsletter: Newsletter) -> str:
    """Email a test copy to the actor alone; the address it went to."""
    require_manager(actor, newsletter.group)
    if not actor.email:
        raise ValidationError(_("Your account has no email address."))
    prepared = emails.prepare(newsletter)
    message = emails.newsletter_message(
        prepared,
        to=actor.email,
        links=emails.test_copy_links(
            prepared, member_id=actor.pk, group_slug=newsletter.group.slug
        ),
        message_id=make_msgid(idstring="newsletter-test", domain=prepared.domain),
        test=True,
    )
    get_connection().send_messages([message])
    return str(actor.email)


def _audit(actor: Any, action: str, newsletter: Newsletter, **data: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        target=newsletter,
        group=newsletter.group,
        data={"newsletter": newsletter.pk, "subject": newsletter.subject, **data},
    )


def newsletter_schedule(
    *, actor: Any, newsletter: Newsletter, send_at: datetime | None = None
) -> Newsletter:
    """Schedule the newsletter for ``send_at``, or (None) send it now: sending
    starts once this commits, in the background."""
    now = timezone.now()
    if send_at is not None and send_at <= now:
        raise ValidationError(
            {"send_at": _("Choose a time in the future, or send it now.")}
        )
    with transaction.atomic():
        locked = _locked_editable(actor, newsletter)
        locked.status = Newsletter.Status.SCHEDULED
        locked.scheduled_for = send_at or now
        locked.updated_at = now
        locked.save(update_fields=["status", "scheduled_for", "updated_at"])
        _audit(
            actor,
            "newsletter.scheduled",
            locked,
            scheduled_for=locked.scheduled_for.isoformat(),
        )
        if send_at is None:
            transaction.on_commit(lambda: start_sending.delay(locked.pk))
    return locked


def newsletter_unschedule(*, actor: Any, newsletter: Newsletter) -> Newsletter:
    """Take a scheduled newsletter back to a draft."""
    with transaction.atomic():
        locked = _locked_editable(actor, newsletter)
        if locked.status != Newsletter.Status.SCHEDULED:
            raise ValidationError(_("This newsletter is not scheduled."))
        locked.status = Newsletter.Status.DRAFT
        locked.scheduled_for = None
        locked.updated_at = timezone.now()
        locked.save(update_fields=["status", "scheduled_for", "updated_at"])
        _audit(actor, "newsletter.unscheduled", locked)
    return locked


def newsletter_cancel(*, actor: Any, newsletter: Newsletter) -> int:
    """Cancel a draft, a scheduled newsletter, or one going out (the members not
    sent it yet get nothing); the number of emails that will not go."""
    with transaction.atomic():
        locked = locks.newsletter_for_update(newsletter.pk)
        if locked is None:
            raise ValidationError(_("This newsletter no longer exists."), code="gone")
        require_manager(actor, locked.group)
        if locked.status in (Newsletter.Status.SENT, Newsletter.Status.CANCELLED):
            raise ValidationError(_("This newsletter can no longer be cancelled."))
        stopped = Recipient.objects.filter(
            newsletter=locked, status=Recipient.Status.PENDING
        ).update(status=Recipient.Status.SKIPPED, skip_reason="cancelled")
        now = timezone.now()
        locked.status = Newsletter.Status.CANCELLED
        locked.cancelled_at = now
        locked.updated_at = now
        locked.save(update_fields=["status", "cancelled_at", "updated_at"])
        _audit(actor, "newsletter.cancelled", locked, not_sent=stopped)
    return stopped
