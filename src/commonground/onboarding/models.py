"""A movement's membership register: import jobs, what the register holds that an
account does not, and the postcode-to-branch table.

An ``ImportJob`` is one uploaded file and its life: column mapping, dry run (the
check), apply in batches (one transaction each; ``next_row`` is the cursor of the
last committed batch, so a re-queued task resumes there). A ``RegisterEntry`` is one
member of one organisation's register: postcode, dues tier, custom fields, the id in
the system the register came from, the join date, and the membership that records
the member's status and branch.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PostcodeRule(models.TextChoices):
    GENERIC = "generic", _("Any postcode: 2 to 10 letters and digits")
    UK = "uk", _("UK postcodes only (such as LS1 4AB)")
    CUSTOM = "custom", _("My own pattern")


class RegisterSettings(models.Model):
    """An organisation's register settings, one row per organisation."""

    organisation = models.OneToOneField(
        "members.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    postcode_rule = models.CharField(
        max_length=8, choices=PostcodeRule.choices, default=PostcodeRule.GENERIC
    )
    postcode_pattern = models.CharField(max_length=200, blank=True)
    # Names of the custom fields imported so far, in first-seen order: the export's
    # last columns (so every member's row has the same columns).
    custom_field_names = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"register settings of {self.organisation_id}"


class PostcodeArea(models.Model):
    """A postcode prefix (a UK area, district or sector, or any leading part of a
    postcode) and the branch its members join. The longest matching prefix wins."""

    organisation = models.ForeignKey(
        "members.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    # Upper case without spaces: "LS", "LS6", "LS61" (the sector "LS6 1").
    prefix = models.CharField(max_length=10)
    group = models.ForeignKey(
        "members.Group", on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "prefix"], name="one_area_per_prefix"
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix} -> {self.group_id}"


class ImportJobManager(models.Manager["ImportJob"]):
    def get_queryset(self) -> models.QuerySet[ImportJob]:
        # The uploaded file can be megabytes: only the runs that read it load it.
        return super().get_queryset().defer("content")


class ImportJob(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Waiting for the column mapping")
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked")
        APPLYING = "applying", _("Importing")
        APPLIED = "applied", _("Imported")
        FAILED = "failed", _("Stopped")

    organisation = models.ForeignKey(
        "members.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    # The organisation's top-level group it was uploaded from: its log records it.
    group = models.ForeignKey(
        "members.Group", on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField()
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=8)  # "csv" or "xlsx"
    delimiter = models.CharField(max_length=1, blank=True)
    # Kept in the database (not on a web server's disk) so any worker can read it;
    # emptied once the import is applied.
    content = models.BinaryField(editable=False)
    content_sha256 = models.CharField(max_length=64, db_index=True)
    headers = models.JSONField(default=list)
    samples = models.JSONField(default=list)  # the first rows, for the mapping form
    mapping = models.JSONField(default=list)  # one field key per column ("" = ignore)
    postcode_rule = models.CharField(
        max_length=8, choices=PostcodeRule.choices, default=PostcodeRule.GENERIC
    )
    postcode_pattern = models.CharField(max_length=200, blank=True)
    day_first = models.BooleanField(default=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.UPLOADED
    )
    batch_size = models.PositiveIntegerField()
    total_rows = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # Data rows (after the header) whose batches are committed: the resume point.
    next_row = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    # The dry run: counts and the rows that fail (see services.running).
    report = models.JSONField(default=dict, blank=True)
    error_message = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)

    objects = ImportJobManager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"import {self.pk} of {self.file_name}"

    @property
    def is_running(self) -> bool:
        return self.status in {self.Status.CHECKING, self.Status.APPLYING}

    @property
    def error_count(self) -> int:
        return int(self.report.get("errors_total", 0))

    @property
    def can_apply(self) -> bool:
        return self.status == self.Status.CHECKED and not self.error_count

    def counts(self) -> dict[str, Any]:
        return {
            "created": self.created_count,
            "updated": self.updated_count,
            "unchanged": self.unchanged_count,
            "skipped": self.skipped_count,
        }


class RegisterEntry(models.Model):
    """One member in one organisation's register: what their account does not hold."""

    organisation = models.ForeignKey(
        "members.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # The membership that carries the member's status and branch in the register.
    membership = models.ForeignKey(
        "members.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    given_name = models.CharField(max_length=80, blank=True)
    family_name = models.CharField(max_length=80, blank=True)
    postcode = models.CharField(max_length=16, blank=True)
    dues_tier = models.CharField(max_length=60, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    joined_on = models.DateField(null=True, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField()
    last_import = models.ForeignKey(
        ImportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"], name="one_register_entry_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"register entry of {self.user_id} in {self.organisation_id}"
