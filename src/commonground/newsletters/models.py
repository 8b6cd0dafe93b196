"""Newsletters and the rows of their recipients.

A ``Newsletter`` belongs to the group whose organisers write it and goes to an
audience: the members of ``audience_group``'s subtree whose membership status is one
of ``statuses`` and (if ``roles`` is not empty) who hold one of those roles. When
sending starts the audience is materialised as one ``Recipient`` row per member,
unique per newsletter: that constraint, with the lock/send/mark pattern of
``services.sending``, is what makes each member's email go exactly once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from commonground.members.models import Group


class Newsletter(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="newsletters"
    )
    audience_group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="+"
    )
    # Membership statuses and roles (members.models.Membership.Status / Role values);
    # no roles means every member whose status is chosen.
    statuses = models.JSONField(default=list)
    roles = models.JSONField(default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()  # Markdown, rendered by discussion.richtext
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    scheduled_for = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Members in the audience when sending started, and how many of them got a row
    # (the rest had switched newsletters off or their address had bounced).
    audience_count = models.PositiveIntegerField(default=0)
    recipient_count = models.PositiveIntegerField(default=0)
    # When the last chunk is due to be sent at the configured rate: the next
    # newsletter queues behind it, and the sweep re-queues chunks overdue after it.
    queued_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "scheduled_for"], name="newsletter_due_idx"),
            models.Index(fields=["group", "status"], name="newsletter_group_idx"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.SCHEDULED)


class Recipient(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not sent")

    class Bounce(models.TextChoices):
        NONE = "", _("No bounce")
        HARD = "hard", _("Hard bounce")
        SOFT = "soft", _("Soft bounce")
        COMPLAINT = "complaint", _("Complaint")

    newsletter = models.ForeignKey(
        Newsletter, on_delete=models.CASCADE, related_name="recipients"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # Why a row was not sent: "left", "opted_out", "bounced", "no_address",
    # "cancelled".
    skip_reason = models.CharField(max_length=16, blank=True)
    # The Message-ID of the email sent, so a bounce report finds its newsletter.
    message_id = models.CharField(max_length=250, null=True, blank=True, unique=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    bounce = models.CharField(
        max_length=16, choices=Bounce.choices, blank=True, default=Bounce.NONE
    )
    bounced_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["newsletter", "member"], name="newsletter_recipient_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["newsletter", "status"], name="newsletter_recipient_status"
            )
        ]

    def __str__(self) -> str:
        return f"{self.newsletter_id}:{self.member_id} {self.status}"
