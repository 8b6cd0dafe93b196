"""An import's steps as the admin takes them: upload, map the columns (which queues
the check), apply (which queues the import), resume a stopped import.

Each checks that the actor administers the organisation and queues its background
work after commit, so a worker never looks for a job that is not saved yet.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import rules
from ..columns import guess_mapping, mapping_problems
from ..models import ImportJob, PostcodeRule, RegisterSettings
from ..reading import FileRefused, inspect_upload
from .running import apply_import_task, check_import_task

Status = ImportJob.Status
# A running job that has not moved for this long is taken to be stuck (its worker
# died without the broker noticing); the admin may then resume it.
STALLED_AFTER = timedelta(minutes=10)


def batch_size() -> int:
    return int(getattr(settings, "COMMONGROUND_IMPORT_BATCH_SIZE", 1000))


def max_upload_bytes() -> int:
    return int(getattr(settings, "COMMONGROUND_IMPORT_MAX_BYTES", 50 * 1024 * 1024))


def is_stalled(job: ImportJob) -> bool:
    moved = job.progress_at or job.created_at
    return job.is_running and timezone.now() - moved > STALLED_AFTER


@transaction.atomic
def import_upload(
    *, actor: Any, organisation: Any, group: Any, file_name: str, content: bytes
) -> ImportJob:
    """Keep an uploaded register and guess its column mapping.

    Raises ``ValidationError`` (for the form) when the file is too big or unreadable.
    """
    rules.require_register_admin(actor, organisation)
    if len(content) > max_upload_bytes():
        raise ValidationError(
            _("The file is larger than %(mb)d MB; split it into several files.")
            % {"mb": max_upload_bytes() // (1024 * 1024)}
        )
    try:
        upload = inspect_upload(file_name, content)
    except FileRefused as refused:
        raise ValidationError(str(refused)) from None
    register_settings = RegisterSettings.objects.filter(
        organisation=organisation
    ).first()
    return ImportJob.objects.create(
        organisation=organisation,
        group=group,
        created_by=actor,
        created_at=timezone.now(),
        file_name=file_name[:255],
        file_format=upload.file_format,
        delimiter=upload.delimiter,
        content=content,
        content_sha256=hashlib.sha256(content).hexdigest(),
        headers=upload.headers,
        samples=upload.samples,
        mapping=guess_mapping(upload.headers),
        postcode_rule=getattr(register_settings, "postcode_rule", PostcodeRule.GENERIC),
        postcode_pattern=getattr(register_settings, "postcode_pattern", ""),
        batch_size=batch_size(),
    )


def can_change_mapping(job: ImportJob) -> bool:
    """Before anything is applied, and not while a check runs."""
    return job.next_row == 0 and job.status in {
        Status.UPLOADED,
        Status.CHECKED,
        Status.FAILED,
    }


@transaction.atomic
def import_mapping_save(
    *,
    actor: Any,
    job: ImportJob,
    mapping: list[str],
    postcode_rule: str,
    postcode_pattern: str,
    day_first: bool,
) -> ImportJob:
    """Save the column mapping and the rules, and queue the check (the dry run)."""
    rules.require_register_admin(actor, job.organisation)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if not can_change_mapping(job):
        raise ValidationError(_("This import can no longer be changed."))
    problems = mapping_problems(mapping)
    if len(mapping) != len(job.headers):
        problems.append(_("Choose what each column holds."))
    if postcode_rule == PostcodeRule.CUSTOM:
        try:
            re.compile(postcode_pattern)
        except re.error as error:
            problems.append(_("The postcode pattern is not valid: %s") % error)
    if problems:
        raise ValidationError(problems)
    job.mapping = mapping
    job.postcode_rule = postcode_rule
    job.postcode_pattern = postcode_pattern if postcode_rule == "custom" else ""
    job.day_first = day_first
    job.status = Status.CHECKING
    job.rows_done, job.report, job.error_message = 0, {}, ""
    job.progress_at = timezone.now()
    job.save()
    RegisterSettings.objects.update_or_create(
        organisation=job.organisation,
        defaults={
            "postcode_rule": job.postcode_rule,
            "postcode_pattern": job.postcode_pattern,
        },
    )
    transaction.on_commit(lambda: check_import_task.delay(job.pk))
    return job


@transaction.atomic
def import_apply_start(*, actor: Any, job: ImportJob) -> ImportJob:
    """Queue the import of a checked file; refused while the check shows errors."""
    rules.require_register_admin(actor, job.organisation)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if not job.can_apply:
        raise ValidationError(_("Only a checked file without errors can be imported."))
    job.status = Status.APPLYING
    job.applied_by = actor
    job.started_at = job.progress_at = timezone.now()
    job.rows_done = 0
    job.save()
    transaction.on_commit(lambda: apply_import_task.delay(job.pk))
    return job


def can_resume(job: ImportJob) -> bool:
    stopped_apply = job.status == Status.FAILED and job.applied_by_id is not None
    return stopped_apply or is_stalled(job)


@transaction.atomic
def import_resume(*, actor: Any, job: ImportJob) -> ImportJob:
    """Queue a stopped or stuck import again; it goes on from its last batch."""
    rules.require_register_admin(actor, job.organisation)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if not can_resume(job):
        raise ValidationError(_("This import is not stopped."))
    checking = job.status == Status.CHECKING
    if not checking:
        job.status = Status.APPLYING
        job.applied_by = actor
        # The errors of a refused batch are checked again when it is retried.
        job.report = {**job.report, "errors": [], "errors_total": 0, "failed": 0}
    job.error_message = ""
    job.progress_at = timezone.now()
    job.save()
    task = check_import_task if checking else apply_import_task
    transaction.on_commit(lambda: task.delay(job.pk))
    return job
