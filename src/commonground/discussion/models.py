"""Threaded comments attachable to any object.

A comment points at its target through a content type and the target's primary key
as text (so targets with integer or UUID keys both work). Replies point at their
parent; ``depth`` is stored so display can cap indentation without walking the tree.
Removed or hidden comments keep their place in the thread; only their body is
withheld.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

BODY_MAX_LENGTH = 10_000
REASON_MAX_LENGTH = 500


class Comment(models.Model):
    class Status(models.TextChoices):
        VISIBLE = "visible", _("Visible")
        HIDDEN = "hidden", _("Hidden after reports, waiting for a moderator")
        REMOVED = "removed", _("Removed by a moderator")

    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.CharField(max_length=64)
    target = GenericForeignKey("content_type", "object_id")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    depth = models.PositiveSmallIntegerField(default=0)
    # The group whose moderators look after this comment (the policy's group_for at
    # posting time), so a group's moderation queue is one indexed query.
    group = models.ForeignKey(
        "members.Group",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments"
    )
    body = models.TextField(max_length=BODY_MAX_LENGTH)
    # The sanitised HTML of ``body`` (richtext.render_markdown), rendered once on write.
    body_html = models.TextField()
    created_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.VISIBLE
    )
    report_count = models.PositiveIntegerField(default=0)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderation_reason = models.CharField(max_length=REASON_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "created_at"],
                name="comment_thread_idx",
            ),
            models.Index(fields=["author", "created_at"], name="comment_author_idx"),
            models.Index(
                fields=["group", "status", "report_count"],
                name="comment_moderation_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(parent__isnull=True, depth=0)
                | models.Q(parent__isnull=False, depth__gt=0),
                name="comment_depth_matches_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.content_type_id}:{self.object_id}"

    @property
    def is_visible(self) -> bool:
        return self.status == self.Status.VISIBLE

    @property
    def safe_body(self) -> SafeString:
        """The stored body HTML; it was produced by the nh3 sanitiser on write."""
        return mark_safe(self.body_html)  # noqa: S308


class CommentReport(models.Model):
    """One member's report of one comment; the unique constraint makes a repeated
    (or concurrent) report by the same member count once."""

    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, related_name="reports"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(max_length=REASON_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField()
    # Set when a moderator removes, restores or dismisses: the report is dealt with.
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["comment", "reporter"], name="one_report_per_member_per_comment"
            ),
        ]

    def __str__(self) -> str:
        return f"report of comment {self.comment_id} by {self.reporter_id}"
