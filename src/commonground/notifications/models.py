"""Notifications, their deliveries, members' preferences and follows.

A ``Delivery`` is unique per notification and channel: that constraint is what makes
sending exactly once (the task locks the row, sends and marks it sent in one
transaction).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("Every time, by email")
    DAILY = "daily", _("Daily digest")
    WEEKLY = "weekly", _("Weekly digest")
    IN_APP = "in_app", _("In the notification centre only")
    NONE = "none", _("Nothing")


DIGEST_CHANNELS = (Channel.DAILY, Channel.WEEKLY)


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(max_length=80)
    group_id = models.PositiveBigIntegerField(null=True, blank=True)
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE
    )
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    url = models.CharField(max_length=500, blank=True)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    html = models.TextField(blank=True)
    # False for what must not show in the centre (a ballot receipt's tracker).
    in_app = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient", "read_at"], name="notification_unread_idx"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not sent")

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="delivery_once_per_channel"
            )
        ]
        indexes = [
            models.Index(fields=["channel", "status"], name="delivery_pending_idx")
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {self.status}"


class Preference(models.Model):
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    # Null: the member's choice for this kind in every group.
    group_id = models.PositiveBigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=80)
    channel = models.CharField(max_length=16, choices=Channel.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "group_id", "kind"],
                name="preference_once_per_group_kind",
            ),
            models.UniqueConstraint(
                fields=["member", "kind"],
                condition=models.Q(group_id__isnull=True),
                name="preference_once_per_kind_everywhere",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.channel}"


class Follow(models.Model):
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows"
    )
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    target_id = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "target_type", "target_id"], name="follow_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.target_type_id}:{self.target_id}"
