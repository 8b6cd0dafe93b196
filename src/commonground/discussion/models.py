"""Threaded comments attachable to any object.

A comment points at its target through a content type and the target's primary key
as text (so targets with integer or UUID keys both work). Replies point at their
parent; ``depth`` is stored so display can cap indentation without walking the tree.
Removed or hidden comments keep their place in the thread; only their body is
withheld.

Visitors (no account) may comment where the target's rule allows it: such a comment
has no ``author`` but a name and an email address. The address is never shown to
anyone; it proves the comment came from someone who reads that mailbox (the comment
stays ``unconfirmed``, seen by nobody, until the emailed link is followed) and, if
the visitor asks, it is where replies are sent. A confirmed comment may be ``held``
for a moderator before it appears (a visitor's first comment, or all of them when
the site says so).
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
VISITOR_NAME_MAX_LENGTH = 80


class HouseRule(models.TextChoices):
    """The rules a removed comment broke, shown in the thread and the public
    moderation log (never the removed words)."""

    ABUSE = "abuse", _("Personal attack or harassment")
    HATE = "hate", _("Hate speech or discrimination")
    SPAM = "spam", _("Spam or advertising")
    PRIVACY = "privacy", _("Someone's personal data")
    OFF_TOPIC = "off_topic", _("Off topic")
    ILLEGAL = "illegal", _("Unlawful content")
    MISINFORMATION = "misinformation", _("Deliberately false information")
    OTHER = "other", _("Another rule of the movement")


class Comment(models.Model):
    class Status(models.TextChoices):
        VISIBLE = "visible", _("Visible")
        HIDDEN = "hidden", _("Hidden after reports, waiting for a moderator")
        REMOVED = "removed", _("Removed by a moderator")
        UNCONFIRMED = "unconfirmed", _("Waiting for the visitor to confirm by email")
        HELD = "held", _("Held for a moderator before it appears")

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
    # Null for a visitor's comment (then visitor_name and visitor_email are set).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="comments",
    )
    visitor_name = models.CharField(max_length=VISITOR_NAME_MAX_LENGTH, blank=True)
    # Never shown, never exported to anyone but its owner, cleared on erasure.
    visitor_email = models.EmailField(blank=True)
    # A keyed fingerprint of the address (visitors.email_digest): links and limits
    # name the visitor by it, so no URL or cache key carries the address.
    visitor_key = models.CharField(max_length=24, blank=True)
    visitor_confirmed_at = models.DateTimeField(null=True, blank=True)
    # The visitor asked to be emailed replies (one-click unsubscribe in each email).
    notify_replies = models.BooleanField(default=False)
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
    # The house rule a removed comment broke, and the role its moderator acted in
    # ("moderator", "editor", ...): what the public moderation log shows.
    moderation_rule = models.CharField(
        max_length=24, choices=HouseRule.choices, blank=True
    )
    moderated_as = models.CharField(max_length=24, blank=True)

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
            models.Index(fields=["visitor_key"], name="comment_visitor_key_idx"),
            models.Index(fields=["status", "moderated_at"], name="comment_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(parent__isnull=True, depth=0)
                | models.Q(parent__isnull=False, depth__gt=0),
                name="comment_depth_matches_parent",
            ),
            # A member's comment carries no visitor name or address.
            models.CheckConstraint(
                condition=models.Q(author__isnull=True)
                | models.Q(visitor_name="", visitor_email="", visitor_key=""),
                name="comment_member_or_visitor",
            ),
        ]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.content_type_id}:{self.object_id}"

    @property
    def is_visible(self) -> bool:
        return self.status == self.Status.VISIBLE

    @property
    def is_visitor(self) -> bool:
        return self.author_id is None

    @property
    def display_name(self) -> str:
        """The name the thread shows: the member's public name, or the name the
        visitor gave (never their address)."""
        if self.author is not None:
            return str(self.author.public_name)
        return self.visitor_name or str(_("Former visitor"))

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
