"""The panel's deliberation: its sessions (with expert speakers), and the
recommendations it drafts, votes on and publishes.

A ``Session`` is one meeting of the panel: when (time-zone aware, shown in each
reader's zone), where (a place, an online link), its materials (safe Markdown,
rendered to ``materials_html`` on write) and the expert speakers heard.
The public sees the timetable, and the materials when ``materials_public``.

A ``Recommendation`` is drafted by panel members or organisers, then put to the
panel's private vote: a yes/no/abstain ballot of the decisions app whose roll is
exactly the seated panel members (``election_id``). Its count decides adoption
(``services.deliberation.ADOPTION_RULE``). Published recommendations are public;
an adopted one may be sent to the whole membership as a proposal
(``proposal_id``) or a ballot (``ballot_id``), linked both ways.

A ``PanelWelcome`` records that a seated panel member was told (once per seat):
a member with an account by a notification, someone from the open call without
one by an email inviting them to sign in or create an account and take their
seat (``claimed_at`` once they did).

The discussion of the panel (on the assembly and on each session) lives in the
discussion app; who may read and write it is decided by
``services.deliberation_discussion``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from commonground.assemblies.models.assembly import Assembly

__all__ = [
    "PanelWelcome",
    "Recommendation",
    "RecommendationStatus",
    "Session",
    "Speaker",
]

SESSION_TITLE_MAX_LENGTH = 200
MATERIALS_MAX_LENGTH = 20_000
RECOMMENDATION_TEXT_MAX_LENGTH = 10_000


class Session(models.Model):
    assembly = models.ForeignKey(
        Assembly, on_delete=models.CASCADE, related_name="sessions"
    )
    title = models.CharField(_("title"), max_length=SESSION_TITLE_MAX_LENGTH)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    place = models.CharField(_("place"), max_length=300, blank=True)
    online_url = models.URLField(_("online meeting link"), blank=True)
    materials = models.TextField(
        _("materials"),
        blank=True,
        max_length=MATERIALS_MAX_LENGTH,
        help_text=_("Markdown: headings, lists, links and emphasis."),
    )
    # The sanitised HTML of ``materials`` (discussion.richtext), rendered on write.
    materials_html = models.TextField(blank=True)
    materials_public = models.BooleanField(
        _("publish the materials"),
        default=False,
        help_text=_("Anyone may read them; otherwise only the panel and organisers."),
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="assemblies_session_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("assemblies:session", args=[self.assembly.slug, self.pk])


class Speaker(models.Model):
    """An expert the panel hears in a session."""

    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, related_name="speakers"
    )
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=200, blank=True)
    summary = models.TextField(_("summary"), blank=True, max_length=2_000)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class RecommendationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    VOTING = "voting", _("The panel is voting")
    ADOPTED = "adopted", _("Adopted by the panel")
    NOT_ADOPTED = "not_adopted", _("Not adopted by the panel")


class Recommendation(models.Model):
    assembly = models.ForeignKey(
        Assembly, on_delete=models.CASCADE, related_name="recommendations"
    )
    # 1, 2, 3 ... within the assembly, in drafting order.
    number = models.PositiveIntegerField()
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(
        _("text"),
        max_length=RECOMMENDATION_TEXT_MAX_LENGTH,
        help_text=_("Markdown: headings, lists, links and emphasis."),
    )
    text_html = models.TextField(blank=True)
    status = models.CharField(
        max_length=16,
        choices=RecommendationStatus.choices,
        default=RecommendationStatus.DRAFT,
    )
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # The panel's ballot (decisions), once the vote opened.
    election = models.OneToOneField(
        "decisions.Election",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # What the count said, copied when the result is settled (decisions' summary).
    outcome_summary = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Sent to the whole membership (decisions), once.
    proposal = models.OneToOneField(
        "decisions.Proposal",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ballot = models.OneToOneField(
        "decisions.Election",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["assembly", "number"],
                name="assemblies_recommendation_unique_number",
            )
        ]

    def __str__(self) -> str:
        return self.title


class PanelWelcome(models.Model):
    seat = models.OneToOneField(
        "assemblies.PanelSeat", on_delete=models.CASCADE, related_name="welcome"
    )
    sent_at = models.DateTimeField()
    # Set when someone without an account at the draw signed in and took the seat.
    claimed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"welcome of seat {self.seat_id}"
