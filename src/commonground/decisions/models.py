"""Proposals, amendments, elections and the secret ballot.

The secret-ballot data model (../shared/specs/reliability.md §4, docs/ballot-integrity.md):
``Participation`` answers *who voted*; ``Ballot`` holds *what was voted* and has no
foreign key, column or index that names a member, no timestamp and a random primary
key. The only link is ``Ballot.voter_token``, an HMAC of the member and the election
under ``settings.BALLOT_SECRET_KEY``, which lets a member's re-vote replace their
earlier ballot and lets a unique constraint keep one ballot per member.

An election's phase follows from its times (``Election.phase_at``): no stored "open"
flag exists that a dead worker could leave stale.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from commonground.members.models import Group


class Method(models.TextChoices):
    YES_NO = "yes_no", _("Yes / no / abstain")
    APPROVAL = "approval", _("Approval (tick every option you accept)")
    SCORE = "score", _("Score (give each option 0 to 5)")
    STAR = "star", _("STAR (score, then automatic runoff)")
    IRV = "irv", _("Ranked choice (instant runoff)")
    STV = "stv", _("Single transferable vote (several seats)")
    SCHULZE = "schulze", _("Schulze (ranked, Condorcet)")


RANKED_METHODS = frozenset({Method.IRV, Method.STV, Method.SCHULZE})
GRID_METHODS = frozenset({Method.YES_NO, Method.APPROVAL, Method.SCORE, Method.STAR})


class StvRules(models.TextChoices):
    SCOTTISH = "scottish", _("Scottish STV (SSI 2007/42)")
    MEEK = "meek", _("Meek STV")
    WIGM = "wigm", _("Weighted inclusive Gregory (WIGM)")


class Proposal(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        DISCUSSION = "discussion", _("Open for discussion and support")
        BALLOT = "ballot", _("Being voted on")
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Not passed")
        LAPSED = "lapsed", _("Lapsed (not enough support in time)")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="proposals")
    title = models.CharField(max_length=200)
    text = models.TextField(
        help_text=_("Markdown: headings, lists, links and emphasis.")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals"
    )
    coauthors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="coauthored_proposals"
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    support_share_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("share of members needed (%)"),
        default=10,
        help_text=_(
            "Goes to a ballot when this share of the group's members supports it."
        ),
    )
    support_period_days = models.PositiveSmallIntegerField(
        _("days to gather support"), default=30
    )
    voting_days = models.PositiveSmallIntegerField(_("days of voting"), default=7)
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    support_closes_at = models.DateTimeField(null=True, blank=True)
    supporters_needed = models.PositiveIntegerField(null=True, blank=True)
    sent_to_ballot_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["group", "status"])]

    def __str__(self) -> str:
        return self.title


class ProposalSupport(models.Model):
    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, related_name="supports"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "member"], name="one_support_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} supports {self.proposal_id}"


class Amendment(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACCEPTED = "accepted", _("Accepted by the authors")
        TO_VOTE = "to_vote", _("Goes to the vote alongside")
        CARRIED = "carried", _("Carried by the vote")
        DEFEATED = "defeated", _("Defeated by the vote")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, related_name="amendments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=200)
    text = models.TextField(help_text=_("What to change, in Markdown."))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PROPOSED
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.title


class Election(models.Model):
    """One vote: a question, a proposal's ballot or an election of candidates."""

    class Kind(models.TextChoices):
        QUESTION = "question", _("Question with options")
        ELECTION = "election", _("Election with nominations")
        PROPOSAL = "proposal", _("Vote on a proposal")
        AMENDMENT = "amendment", _("Vote on an amendment")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="elections")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.QUESTION)
    method = models.CharField(max_length=16, choices=Method.choices)
    seats = models.PositiveSmallIntegerField(default=1)
    rules = models.CharField(
        _("STV rule set"),
        max_length=16,
        choices=StvRules.choices,
        default=StvRules.SCOTTISH,
    )
    max_score = models.PositiveSmallIntegerField(default=5)
    quorum_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("quorum (% of eligible members who must vote)"),
        default=0,
    )
    majority_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("majority (% of yes among yes and no that must be exceeded)"),
        default=50,
    )
    allow_revote = models.BooleanField(
        _("members may change their vote until close (the last ballot counts)"),
        default=True,
    )
    required_seconds = models.PositiveSmallIntegerField(default=1)
    nominations_open_at = models.DateTimeField(null=True, blank=True)
    nominations_close_at = models.DateTimeField(null=True, blank=True)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField()
    proposal = models.ForeignKey(
        Proposal,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="elections",
    )
    amendment = models.OneToOneField(
        Amendment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="election",
    )
    # Written once, when the election is sealed at opening.
    seed = models.BigIntegerField(null=True, blank=True, editable=False)
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-opens_at", "-id"]
        indexes = [models.Index(fields=["group", "closes_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_ranked(self) -> bool:
        return self.method in RANKED_METHODS

    def phase_at(self, now: datetime) -> str:
        """draft, nominations, hustings, scheduled, open or closed: from the times alone."""
        if self.opens_at is None or self.closes_at is None:
            if self.nominations_open_at and self.nominations_close_at:
                if self.nominations_open_at <= now < self.nominations_close_at:
                    return "nominations"
                if now >= self.nominations_close_at:
                    return "hustings"
            return "draft"
        if now >= self.closes_at:
            return "closed"
        if now >= self.opens_at:
            return "open"
        if self.nominations_open_at and self.nominations_close_at:
            if self.nominations_open_at <= now < self.nominations_close_at:
                return "nominations"
            if now >= self.nominations_close_at:
                return "hustings"
        return "scheduled"


class Nomination(models.Model):
    class Status(models.TextChoices):
        STANDING = "standing", _("Standing")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        REJECTED = "rejected", _("Rejected by the returning officer")

    election = models.ForeignKey(
        Election, on_delete=models.CASCADE, related_name="nominations"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="nominations"
    )
    statement = models.TextField(
        help_text=_("Why members should choose you, in Markdown.")
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.STANDING
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "member"], name="one_nomination_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"Nomination {self.pk} in {self.election_id}"


class Second(models.Model):
    nomination = models.ForeignKey(
        Nomination, on_delete=models.CASCADE, related_name="seconds"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["nomination", "member"], name="one_second_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"Second {self.pk} of {self.nomination_id}"


class Option(models.Model):
    """A candidate or an answer, in ballot order (``position`` is its index on papers)."""

    election = models.ForeignKey(
        Election, on_delete=models.CASCADE, related_name="options"
    )
    position = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    nomination = models.OneToOneField(
        Nomination,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="option",
    )

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "position"], name="option_position_unique"
            ),
            models.UniqueConstraint(
                fields=["election", "label"], name="option_label_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class EligibleVoter(models.Model):
    """The electoral roll, frozen when the election opens."""

    election = models.ForeignKey(
        Election, on_delete=models.CASCADE, related_name="roll"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["election", "member"], name="one_roll_entry_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} on the roll of {self.election_id}"


class ElectionSeal(models.Model):
    """The frozen definition and its SHA-256, written once at opening."""

    election = models.OneToOneField(
        Election, on_delete=models.CASCADE, related_name="seal"
    )
    definition_json = models.TextField()
    definition_sha256 = models.CharField(max_length=64)
    roll_sha256 = models.CharField(max_length=64)
    roll_size = models.PositiveIntegerField()
    sealed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Seal of {self.election_id}: {self.definition_sha256[:12]}"


class Participation(models.Model):
    """Who voted (turnout). Holds no reference to any ballot."""

    election = models.ForeignKey(
        Election, on_delete=models.CASCADE, related_name="participations"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    cast_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["election", "member"], name="one_participation_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} voted in {self.election_id}"


class PendingCastReceipt(models.Model):
    """A cast's receipt email still to send: written in the cast's own transaction (so
    a rolled-back cast tells no one and a committed one is never forgotten), turned
    into the member's notification by the worker (``decisions.send_cast_receipts``)
    and then deleted. It holds what the email will say, the tracker, and no choice;
    the notification it becomes holds the same."""

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    tracker = models.CharField(max_length=16)

    def __str__(self) -> str:
        return f"Receipt for {self.member_id} in {self.election_id}"


def _new_ballot_id() -> uuid.UUID:
    return uuid.uuid4()


class Ballot(models.Model):
    """What was voted. No member, no participation, no time; a random primary key.

    ``voter_token`` is HMAC-SHA256(BALLOT_SECRET_KEY, election and member): without the
    server's key it names nobody; with it the service finds the ballot a re-vote
    replaces, and the unique constraint keeps one ballot per member.
    """

    id = models.UUIDField(primary_key=True, default=_new_ballot_id, editable=False)
    election = models.ForeignKey(
        Election, on_delete=models.CASCADE, related_name="ballots"
    )
    payload = models.TextField()
    voter_token = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "voter_token"], name="one_ballot_per_voter_token"
            )
        ]

    def __str__(self) -> str:
        return f"Ballot in {self.election_id}"


class TallyResult(models.Model):
    """The count: engine inputs and outputs, immutable, exactly one per seal and method."""

    election = models.ForeignKey(
        Election, on_delete=models.CASCADE, related_name="results"
    )
    seal_sha256 = models.CharField(max_length=64)
    method_version = models.CharField(max_length=40)
    ballots_sha256 = models.CharField(max_length=64)
    ballot_count = models.PositiveIntegerField()
    roll_size = models.PositiveIntegerField()
    engine_input = models.JSONField(
        help_text=_("Method, seats, rules, seed, candidates.")
    )
    ballots_text = models.TextField(
        help_text=_("Sorted canonical payloads, one per line.")
    )
    trackers_text = models.TextField(
        default="",
        help_text=_("Tracker codes of the counted ballots, sorted, one per line."),
    )
    result_json = models.TextField()
    result_sha256 = models.CharField(max_length=64)
    outcome = models.JSONField(default=dict)
    counted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["election", "seal_sha256", "method_version"],
                name="one_result_per_seal_and_method",
            )
        ]

    def __str__(self) -> str:
        return f"Result of {self.election_id}: {self.result_sha256[:12]}"
