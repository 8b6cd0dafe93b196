"""People, organisations, coalitions, groups, memberships and roles.

An Organisation holds a tree of Groups. A coalition is an Organisation whose
``affiliates`` are other organisations: each keeps its own members, and the
coalition's groups are open to members of every affiliate. Membership is per
group; roles are per group and apply to the group's whole subtree.
"""

from __future__ import annotations

import functools
import zoneinfo

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

# The accent every page had before organisations chose their own.
DEFAULT_ACCENT = "#0b5c3b"


@functools.cache
def known_time_zones() -> frozenset[str]:
    """Every IANA time zone name the installed tz database knows (read once)."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    """An IANA name ("Europe/Berlin"); the empty string means "not chosen yet"."""
    if value and value not in known_time_zones():
        raise ValidationError(
            _("“%(zone)s” is not a time zone we know; choose one from the list."),
            code="invalid_time_zone",
            params={"zone": value},
        )


validate_hex_colour = RegexValidator(
    r"^#[0-9a-f]{6}$",
    _("Give the colour as # and six hexadecimal digits, e.g. #0b5c3b."),
    code="invalid_colour",
)


class MemberManager(UserManager["User"]):
    use_in_migrations = True

    def _create_user(self, username, email, password, **extra_fields):  # type: ignore[no-untyped-def,override]
        if not email:
            raise ValueError("an email address is required")
        email = self.normalize_email(email)
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, **extra_fields):  # type: ignore[no-untyped-def,override]
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(None, email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):  # type: ignore[no-untyped-def,override]
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(None, email, password, **extra_fields)


class User(AbstractUser):
    class Visibility(models.TextChoices):
        MEMBERS = "members", _("Show my name to fellow members of my groups")
        HIDDEN = "hidden", _("Hide my name from member lists")

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(max_length=80, blank=True)
    visibility = models.CharField(
        _("who sees my name in member lists"),
        max_length=16,
        choices=Visibility.choices,
        default=Visibility.MEMBERS,
    )
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        default="",
        validators=[validate_time_zone],
        help_text=_("An IANA name such as Europe/Berlin; empty until chosen."),
    )
    # Set when mail to the address bounced for good (a hard bounce or a complaint);
    # cleared when the member changes or confirms the address. Newsletters and
    # invitations skip a bounced address; organisers see it on the member list.
    email_bounced_at = models.DateTimeField(null=True, blank=True, editable=False)
    email_bounce_reason = models.CharField(max_length=200, blank=True, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []  # noqa: RUF012 - Django reads it as a plain class attribute
    objects = MemberManager()  # type: ignore[misc,assignment]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="member_email_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.public_name

    @property
    def public_name(self) -> str:
        if self.deleted_at is not None:
            return "Deleted member"
        return self.display_name or "Member"


class Verification(models.TextChoices):
    EMAIL = "email", _("A confirmed email address is enough")
    POSTAL_CODE = "postal_code", _("A code sent by post to the registered address")
    ORGANISER_CHECK = (
        "organiser_check",
        _("An organiser checks them against the register"),
    )


class Organisation(models.Model):
    class Kind(models.TextChoices):
        ORGANISATION = "organisation", _("Organisation")
        COALITION = "coalition", _("Coalition")

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(
        max_length=16, choices=Kind.choices, default=Kind.ORGANISATION
    )
    description = models.TextField(blank=True)
    affiliates = models.ManyToManyField(
        "self",
        symmetrical=False,
        related_name="coalitions",
        blank=True,
        help_text=_("For a coalition: the organisations that federate in it."),
    )
    accent_colour = models.CharField(
        _("accent colour"),
        max_length=7,
        default=DEFAULT_ACCENT,
        validators=[validate_hex_colour],
    )
    # The cleaned source (metadata stripped, re-encoded as PNG); pages use the
    # renditions, never this file.
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    # [{"width": 64, "height": 32, "name": "logos/npp-1a2b3c4d-64.png"}, ...], widest
    # last; written with the logo by members.services.organisation_branding_update.
    logo_renditions = models.JSONField(default=list, blank=True, editable=False)
    # How a member is verified before they may vote in this organisation's ballots.
    verification = models.CharField(
        _("how members are verified before they vote"),
        max_length=16,
        choices=Verification.choices,
        default=Verification.EMAIL,
    )

    def __str__(self) -> str:
        return self.name


class Group(models.Model):
    class Kind(models.TextChoices):
        NATIONAL = "national", _("National")
        REGION = "region", _("Region")
        BRANCH = "branch", _("Local branch")
        WORKING_GROUP = "working_group", _("Working group")
        COALITION = "coalition", _("Coalition-wide group")

    class JoinPolicy(models.TextChoices):
        OPEN = "open", _("Anyone eligible can join")
        APPROVAL = "approval", _("Organisers approve each application")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="groups"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    description = models.TextField(blank=True)
    join_policy = models.CharField(
        max_length=16, choices=JoinPolicy.choices, default=JoinPolicy.APPROVAL
    )
    is_public = models.BooleanField(
        default=True, help_text=_("Non-members can see the group's page.")
    )
    # Materialised path of ancestor ids, e.g. "/1/4/9/" for group 9 under 4 under 1:
    # subtree and ancestor queries are single indexed queries.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    # An archived group keeps its members, history and records, takes no new
    # members and opens nothing new; it drops out of navigation.
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]

    @property
    def depth(self) -> int:
        return len(self.ancestor_ids) - 1


class Membership(models.Model):
    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        LAPSED = "lapsed", _("Lapsed")
        LEFT = "left", _("Left")
        REJECTED = "rejected", _("Application declined")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="memberships"
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    since = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "group"], name="one_membership_per_group"
            ),
        ]
        indexes = [models.Index(fields=["group", "status"])]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}: {self.status}"


class MembershipChange(models.Model):
    """The full history of a membership's status, one row per transition."""

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="history"
    )
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class Role(models.TextChoices):
    MEMBER = "member", _("Member")
    ORGANISER = "organiser", _("Organiser")
    MODERATOR = "moderator", _("Moderator")
    RETURNING_OFFICER = "returning_officer", _("Returning officer")
    WRITER = "writer", _("Writer")
    EDITOR = "editor", _("Editor")
    ADMIN = "admin", _("Admin")


class RoleAssignment(models.Model):
    """A role held in a group; it applies to the group's whole subtree.

    The ``member`` role is implied by an active membership and never stored.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=24, choices=Role.choices)
    assigned_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "group", "role"], name="one_role_assignment"
            ),
            models.CheckConstraint(
                condition=~models.Q(role="member"), name="member_role_is_implied"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.group_id}"


class MemberVerification(models.Model):
    """That a member was verified for an organisation's ballots, and how.

    One row per member and organisation. ``verified_at`` null means pending: a postal
    code was sent (its hash kept here, the code itself never stored) or an organiser
    check is awaited.
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="verifications"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="verifications"
    )
    method = models.CharField(max_length=16, choices=Verification.choices)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    code_hash = models.CharField(max_length=128, blank=True)
    code_issued_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="one_verification_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.organisation_id}: {self.method}"


class Invitation(models.Model):
    """An invitation to claim an account created for a member (an imported register).

    The link carries a signed token naming this row; it expires after
    ``INVITATION_DAYS`` and is spent once claimed. Resending issues a new token for
    the same row (the old link still works until it expires).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    last_sent_at = models.DateTimeField(null=True, blank=True)
    send_count = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="one_invitation_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"invitation {self.pk} for {self.user_id}"
