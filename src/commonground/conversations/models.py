"""Conversations, their statements, participants and votes, and the opinion map.

A conversation asks one question. Participants answer statements with agree (+1),
disagree (-1) or pass (0); ``Vote`` holds each participant's current answer to each
statement (one row, a unique constraint, written by an upsert) and ``VoteEvent`` is
the append-only history of every answer ever given, in the order the database
committed them, so the whole conversation can be replayed.

Statements and participants carry a ``number`` within their conversation: the ids a
Pol.is openData export uses (``comment-id``, ``voter-id``), kept on import and
written on export. Participants are pseudonymous in every map and export: a number,
never a name. Vote times are integer milliseconds since the epoch, like Pol.is.

``ConversationMap`` is the last opinion map computed for a conversation (by a
background task, see ``services.maps``): the engine's result without the per-person
points (``result_json``), what the results page shows (``page_json``), every
participant's position as compact arrays (``positions``) and, in Pol.is mode, the
engine's state so the next update continues it after a restart (``polis_state``).

A conversation's phase follows from its times (``is_open_at``): no stored "open"
flag that a dead worker could leave stale.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from commonground.members.models import Group

QUESTION_MAX_LENGTH = 300
CONTEXT_MAX_LENGTH = 5_000
# What a participant may write; imported Pol.is statements may be longer.
STATEMENT_MAX_LENGTH = 280
STATEMENT_STORED_MAX_LENGTH = 2_000
REASON_MAX_LENGTH = 500
# Pol.is's priority of a statement nobody has answered yet (A = D = S = 0, no
# extremity): ((1 - 1/2) · 1 · 1/2 · (1 + 8))² ≈ 5.06, so new statements come up
# early; seed statements come before any other (the map's priority is added to it).
NEW_STATEMENT_PRIORITY = ((1 - 1 / 2) * 1 * (1 / 2) * 9) ** 2
SEED_PRIORITY = 1e6


class Participation(models.TextChoices):
    MEMBERS = "members", _("Active members of the group and the groups below it")
    VERIFIED = "verified", _("Anyone signed in with a verified email address")


class StatementPolicy(models.TextChoices):
    EVERYONE = "everyone", _("Every participant")
    MODERATORS = "moderators", _("Moderators and organisers only")


class Moderation(models.TextChoices):
    POST = "post", _("Visible at once; participants can report a statement")
    PRE = "pre", _("Held until a moderator accepts it")


class MapVisibility(models.TextChoices):
    PARTICIPANTS = "participants", _("Participants, moderators and organisers")
    PUBLIC = "public", _("Anyone, without signing in")


class EngineMode(models.TextChoices):
    IMPROVED = "improved", _("Improved (deterministic, recommended)")
    POLIS = "polis", _("Pol.is-faithful (comparable with Pol.is reports)")


class Conversation(models.Model):
    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="conversations"
    )
    question = models.CharField(_("question"), max_length=QUESTION_MAX_LENGTH)
    context = models.TextField(_("context"), blank=True, max_length=CONTEXT_MAX_LENGTH)
    # The sanitised HTML of ``context`` (discussion.richtext), rendered on write.
    context_html = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField()
    participation = models.CharField(
        _("who may take part"),
        max_length=16,
        choices=Participation.choices,
        default=Participation.MEMBERS,
    )
    statement_policy = models.CharField(
        _("who may add statements"),
        max_length=16,
        choices=StatementPolicy.choices,
        default=StatementPolicy.EVERYONE,
    )
    moderation = models.CharField(
        _("moderation"),
        max_length=8,
        choices=Moderation.choices,
        default=Moderation.POST,
    )
    map_visibility = models.CharField(
        _("who sees the map"),
        max_length=16,
        choices=MapVisibility.choices,
        default=MapVisibility.PARTICIPANTS,
    )
    engine_mode = models.CharField(
        _("opinion map method"),
        max_length=16,
        choices=EngineMode.choices,
        default=EngineMode.IMPROVED,
    )
    seed = models.PositiveIntegerField(default=0)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    # Set when an organiser closes it early, or by the sweep once ``closes_at`` passed.
    closed_at = models.DateTimeField(null=True, blank=True)
    # The next numbers to hand out (a row-locked counter: one UPDATE ... RETURNING).
    next_statement_number = models.PositiveIntegerField(default=0)
    next_participant_number = models.PositiveIntegerField(default=0)
    # Bumped by every statement change that moves the map (moderation, new statement).
    statements_version = models.PositiveIntegerField(default=0)
    # "polis-import" for a conversation brought in from a Pol.is export, and the
    # address it had there (kept in its own exports).
    origin = models.CharField(max_length=32, blank=True)
    source_url = models.CharField(max_length=500, blank=True)
    closed_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["group", "closed_at"])]

    def __str__(self) -> str:
        return self.question

    def is_open_at(self, now: datetime) -> bool:
        if self.closed_at is not None and self.closed_at <= now:
            return False
        return self.closes_at is None or now < self.closes_at

    def closed_time(self, now: datetime) -> datetime | None:
        """When it closed (None while open)."""
        if self.is_open_at(now):
            return None
        if self.closed_at is not None:
            return self.closed_at
        return self.closes_at


class Statement(models.Model):
    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Visible")
        PENDING = "pending", _("Waiting for a moderator")
        HIDDEN = "hidden", _("Hidden after reports, waiting for a moderator")
        REJECTED = "rejected", _("Rejected by a moderator")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="statements"
    )
    number = models.PositiveIntegerField()
    author = models.ForeignKey(
        "Participant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="statements",
    )
    text = models.CharField(max_length=STATEMENT_STORED_MAX_LENGTH)
    # The text folded for duplicate detection ("" for imported statements, which may
    # repeat each other as Pol.is allowed).
    text_key = models.CharField(max_length=STATEMENT_STORED_MAX_LENGTH, blank=True)
    is_seed = models.BooleanField(default=False)
    # A statement about the conversation itself (Pol.is "meta"): left out of the map.
    is_meta = models.BooleanField(default=False)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.ACCEPTED
    )
    # A moderator accepted it explicitly (Pol.is ``moderated = 1``).
    moderator_accepted = models.BooleanField(default=False)
    created_at_ms = models.BigIntegerField()
    # How much the next participant should see it (Pol.is priority), from the last map.
    priority = models.FloatField(default=0.0)
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
    # The proposal an organiser turned it into (decisions), if any.
    proposal = models.ForeignKey(
        "decisions.Proposal",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "number"], name="one_statement_number"
            ),
            models.UniqueConstraint(
                fields=["conversation", "text_key"],
                condition=~Q(text_key=""),
                name="no_duplicate_statement",
            ),
        ]
        indexes = [
            models.Index(
                fields=["conversation", "status", "priority"],
                name="statement_next_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_visible(self) -> bool:
        return self.status == self.Status.ACCEPTED


class Participant(models.Model):
    """Someone who took part: a member, or (``user`` null) a person imported from a
    Pol.is export or a member who deleted their account."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants"
    )
    number = models.PositiveIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    joined_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "number"], name="one_participant_number"
            ),
            models.UniqueConstraint(
                fields=["conversation", "user"], name="one_participant_per_member"
            ),
        ]

    def __str__(self) -> str:
        return f"participant {self.number} of {self.conversation_id}"


class Vote(models.Model):
    """A participant's current answer to a statement: exactly one, the last."""

    AGREE, DISAGREE, PASS = 1, -1, 0

    # The vote path takes the conversation from the statement row it joins, so the
    # database need not check it again (a foreign-key check would share-lock the
    # one hot conversation row on every vote); its index is the Meta one below.
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    # Indexed by the unique constraint (statement first) and by vote_by_person.
    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="votes", db_index=False
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="votes", db_index=False
    )
    value = models.SmallIntegerField()
    at_ms = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "participant"], name="one_vote_per_statement"
            ),
            models.CheckConstraint(
                condition=Q(value__in=[-1, 0, 1]), name="vote_value_agree_disagree_pass"
            ),
        ]
        indexes = [
            models.Index(fields=["participant", "statement"], name="vote_by_person"),
            models.Index(fields=["conversation"], name="vote_conversation_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} on {self.statement_id}: {self.value}"


class VoteEvent(models.Model):
    """One answer as it was given; never changed or deleted (the replayable history)."""

    # Written in the same statement as the vote it records, from the row that
    # statement stored: no foreign-key checks (no share locks on hot rows), and
    # only the index replay needs.
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    statement = models.ForeignKey(
        Statement,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    participant = models.ForeignKey(
        Participant,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    value = models.SmallIntegerField()
    at_ms = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["conversation", "id"], name="vote_event_replay_idx")
        ]

    def __str__(self) -> str:
        return f"event {self.pk}: {self.participant_id} on {self.statement_id}"


class StatementReport(models.Model):
    """One participant's report of one statement; the unique constraint makes a
    repeated (or concurrent) report by the same member count once."""

    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="reports"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(max_length=REASON_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "reporter"], name="one_report_per_statement"
            )
        ]

    def __str__(self) -> str:
        return f"report of statement {self.statement_id} by {self.reporter_id}"


class ConversationMap(models.Model):
    """The latest opinion map of a conversation (one row, replaced by each update)."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="map", primary_key=True
    )
    mode = models.CharField(max_length=16)
    computed_at = models.DateTimeField()
    # The last VoteEvent the map includes, and the statements version it used.
    through_event = models.BigIntegerField(default=0)
    statements_version = models.PositiveIntegerField(default=0)
    votes = models.PositiveIntegerField(default=0)
    participants = models.PositiveIntegerField(default=0)
    groups = models.PositiveSmallIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    result_json = models.TextField()
    page_json = models.TextField()
    positions = models.BinaryField(blank=True, default=b"")
    polis_state = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"map of {self.conversation_id} through event {self.through_event}"
