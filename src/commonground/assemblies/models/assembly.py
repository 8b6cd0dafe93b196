"""Assemblies, their quotas, their pool of registrants, their draws and their panel.

An ``Assembly`` belongs to the group that convenes it; the group's organisers run
it. Its quotas are ``Feature`` rows (an attribute such as age band) each with
``Category`` rows (a value with the minimum and maximum number of panel seats).

A ``Registrant`` is one person in the pool: a member registering while signed in
(``user`` set) or anyone answering the open call (no account). What is published
about a registrant is their ``pseudonym`` only: random, unique within the assembly,
never derived from anything about the person.

A ``Draw`` is one public lottery: the organiser commits it (the pool is frozen and
the canonical pool and quotas files with their SHA-256 are published, with the
algorithm and where the random number will come from); then the random number is
typed in, the draw runs in the background and publishes the lottery file, every
pool member's probability by pseudonym and the panel. A replacement draw fills the
seats of people who dropped out, from the remaining pool, the same way.

``PanelSeat`` is a registrant's seat on the panel (at most one per assembly).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from commonground.members.models import Group

TITLE_MAX_LENGTH = 200
QUESTION_MAX_LENGTH = 500
DESCRIPTION_MAX_LENGTH = 10_000
KEY_MAX_LENGTH = 64
LABEL_MAX_LENGTH = 120


class Kind(models.TextChoices):
    MEMBERS = "members", _("Members' assembly (drawn from the group's members)")
    CITIZENS = "citizens", _("Citizens' assembly (drawn from the public)")


class Recruitment(models.TextChoices):
    OPEN_CALL = "open_call", _("Open call: anyone may register")
    INVITATION = "invitation", _("Invitation of a random sample of members")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RECRUITING = "recruiting", _("Recruiting")
    POOL_FROZEN = "pool_frozen", _("Pool frozen (draw committed)")
    DRAWN = "drawn", _("Panel drawn")
    DELIBERATING = "deliberating", _("Deliberating")
    CONCLUDED = "concluded", _("Concluded")


class Algorithm(models.TextChoices):
    LEXIMIN = "leximin", _("LEXIMIN (fairest, recommended)")
    MAXIMIN = "maximin", _("MAXIMIN")
    LEGACY = "legacy", _("Legacy (greedy, as most panels were drawn before)")


class Assembly(models.Model):
    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="assemblies"
    )
    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH)
    slug = models.SlugField(_("short address"), max_length=80, unique=True)
    question = models.CharField(_("question"), max_length=QUESTION_MAX_LENGTH)
    description = models.TextField(
        _("description"), blank=True, max_length=DESCRIPTION_MAX_LENGTH
    )
    # The sanitised HTML of ``description`` (discussion.richtext), rendered on write.
    description_html = models.TextField(blank=True)
    panel_size = models.PositiveIntegerField(_("panel size"))
    kind = models.CharField(
        _("kind"), max_length=16, choices=Kind.choices, default=Kind.MEMBERS
    )
    recruitment = models.CharField(
        _("recruitment"),
        max_length=16,
        choices=Recruitment.choices,
        default=Recruitment.OPEN_CALL,
    )
    # For an invitation: how many members to invite, the published seed the sample
    # is drawn from, and when it was drawn.
    invitation_size = models.PositiveIntegerField(_("members to invite"), default=0)
    invitation_seed = models.CharField(max_length=200, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    one_per_household = models.BooleanField(
        _("one person per household"), default=False
    )
    # Who may not register, one rule per line, shown on the registration page.
    exclusions = models.TextField(_("who is excluded"), blank=True, max_length=2_000)
    recruitment_closes_at = models.DateTimeField(
        _("recruitment closes at"), null=True, blank=True
    )
    draw_at = models.DateTimeField(_("public draw at"), null=True, blank=True)
    deliberation_starts_at = models.DateTimeField(
        _("deliberation starts"), null=True, blank=True
    )
    deliberation_ends_at = models.DateTimeField(
        _("deliberation ends"), null=True, blank=True
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    algorithm = models.CharField(
        _("selection algorithm"),
        max_length=16,
        choices=Algorithm.choices,
        default=Algorithm.LEXIMIN,
    )
    # Where the random number of the public draw will come from, announced before.
    seed_source = models.TextField(_("source of the random number"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["group", "status"])]

    def __str__(self) -> str:
        return self.title


class Feature(models.Model):
    assembly = models.ForeignKey(
        Assembly, on_delete=models.CASCADE, related_name="features"
    )
    key = models.SlugField(_("key"), max_length=KEY_MAX_LENGTH)
    label = models.CharField(_("label"), max_length=LABEL_MAX_LENGTH)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assembly", "key"], name="assemblies_feature_unique_key"
            )
        ]

    def __str__(self) -> str:
        return self.label


class Category(models.Model):
    feature = models.ForeignKey(
        Feature, on_delete=models.CASCADE, related_name="categories"
    )
    value = models.SlugField(_("value"), max_length=KEY_MAX_LENGTH)
    label = models.CharField(_("label"), max_length=LABEL_MAX_LENGTH)
    minimum = models.PositiveIntegerField(_("minimum"))
    maximum = models.PositiveIntegerField(_("maximum"))
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["feature", "value"], name="assemblies_category_unique_value"
            ),
            models.CheckConstraint(
                condition=Q(minimum__lte=models.F("maximum")),
                name="assemblies_category_min_le_max",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class Registrant(models.Model):
    assembly = models.ForeignKey(
        Assembly, on_delete=models.CASCADE, related_name="registrants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assembly_registrations",
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email address"))
    # Normalised address or postcode (services.households), for one per household.
    household_key = models.CharField(max_length=200, blank=True)
    # {feature key: category value}
    features = models.JSONField(default=dict)
    consent_to_draw = models.BooleanField(default=False)
    consent_publish_name = models.BooleanField(default=False)
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    # Random, unique within the assembly: the only thing published about a person.
    pseudonym = models.CharField(max_length=32)
    # Invited members (invitation recruitment) before they register.
    invited = models.BooleanField(default=False)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assembly", "email"], name="assemblies_registrant_unique_email"
            ),
            models.UniqueConstraint(
                fields=["assembly", "pseudonym"],
                name="assemblies_registrant_unique_pseudonym",
            ),
        ]
        indexes = [models.Index(fields=["assembly", "household_key"])]

    def __str__(self) -> str:
        return self.pseudonym


class DrawKind(models.TextChoices):
    INITIAL = "initial", _("Initial draw")
    REPLACEMENT = "replacement", _("Replacement draw")


class DrawStatus(models.TextChoices):
    COMMITTED = "committed", _("Committed: waiting for the random number")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Draw(models.Model):
    assembly = models.ForeignKey(
        Assembly, on_delete=models.CASCADE, related_name="draws"
    )
    kind = models.CharField(max_length=16, choices=DrawKind.choices)
    # 1 for the initial draw, then 2, 3 ... for replacement draws.
    number = models.PositiveIntegerField()
    seat_count = models.PositiveIntegerField()
    pool_sha256 = models.CharField(max_length=64)
    pool_file = models.BinaryField()
    quotas_sha256 = models.CharField(max_length=64)
    quotas_file = models.BinaryField()
    algorithm = models.CharField(max_length=16, choices=Algorithm.choices)
    seed_source = models.TextField(blank=True)
    random_number = models.CharField(max_length=200, blank=True)
    committed_at = models.DateTimeField()
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        max_length=16, choices=DrawStatus.choices, default=DrawStatus.COMMITTED
    )
    progress = models.FloatField(default=0.0)
    progress_message = models.CharField(max_length=300, blank=True)
    # {"probabilities": {pseudonym: p}, "panel": [pseudonym], "gap": ..., ...}
    result = models.JSONField(null=True, blank=True)
    lottery_file = models.BinaryField(null=True, blank=True)
    lottery_sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["assembly", "number"], name="assemblies_draw_unique_number"
            ),
            # One initial draw per assembly, whatever the race.
            models.UniqueConstraint(
                fields=["assembly"],
                condition=Q(kind="initial"),
                name="assemblies_draw_one_initial",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assembly_id}#{self.number}"


class SeatStatus(models.TextChoices):
    SEATED = "seated", _("Seated")
    DROPPED_OUT = "dropped_out", _("Dropped out")


class PanelSeat(models.Model):
    assembly = models.ForeignKey(
        Assembly, on_delete=models.CASCADE, related_name="seats"
    )
    registrant = models.ForeignKey(
        Registrant, on_delete=models.CASCADE, related_name="seats"
    )
    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="panel_seats")
    status = models.CharField(
        max_length=16, choices=SeatStatus.choices, default=SeatStatus.SEATED
    )
    # The seat that took this one's place after a drop-out.
    replaced_by = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaces",
    )
    seated_at = models.DateTimeField(auto_now_add=True)
    dropped_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["draw__number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assembly", "registrant"],
                name="assemblies_seat_once_per_assembly",
            )
        ]

    def __str__(self) -> str:
        return f"{self.assembly_id}:{self.registrant_id}"
