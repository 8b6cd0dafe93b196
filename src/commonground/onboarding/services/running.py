"""Running an import in the background: the dry run (check) and the apply.

Both read the stored file row by row and work in batches of ``job.batch_size`` rows
(1,000 by default), so memory holds one batch, the emails seen so far (to name
duplicates) and at most ``MAX_REPORTED_ERRORS`` errors.

Batch semantics:

- The check runs every row and records the counts (created, updated, unchanged,
  skipped) and every failing row with its line, column and reason. The apply refuses
  to start while the check found any error: an import is applied whole or not at all.
- The apply commits one transaction per batch: the members of the batch, their
  register entries and the job's cursor (``next_row``) and counts move together. A
  worker that dies loses only its open batch; the task, queued again (Celery
  ``acks_late``) or resumed by the admin, skips the committed batches. Each batch
  locks the job row and checks the cursor first, so two workers never apply the same
  batch, and enrolling an email that already has an account updates it instead of
  creating another: no member is ever created twice.
- The apply checks each batch again (the organisation's groups may have changed
  since the check). A batch with an error is not applied at all; the import stops
  there with the errors reported, and the batches before it stay applied.
- One audit entry ("register.imported", with the counts) is written with the last
  batch's completion, once per import; a run that finds the job done writes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from celery import shared_task
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from commonground.audit.services import audit_record
from commonground.members.services import (
    EnrolResult,
    EnrolRow,
    enrolment_accounts,
    enrolment_directory,
    members_enrol,
    members_enrol_plan,
)

from .. import postcodes
from ..columns import CUSTOM
from ..models import ImportJob, PostcodeArea, RegisterEntry, RegisterSettings
from ..parsing import ParsedRow, RowError, RowParser
from ..reading import FileRefused, records

logger = logging.getLogger(__name__)
Status = ImportJob.Status
MAX_REPORTED_ERRORS = 500
Record = tuple[int, list[str]]


class _BatchRefused(Exception):
    def __init__(self, errors: list[RowError], batch: list[Record]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors
        self.first_line, self.last_line = batch[0][0], batch[-1][0]


@dataclass
class _Run:
    """One run over a job's file: the job, its row parser, what its columns cover."""

    job: ImportJob
    parser: RowParser
    mapped: set[str]
    custom_headers: set[str]

    @classmethod
    def of(cls, job: ImportJob) -> _Run:
        return cls(
            job=job,
            parser=_parser(job),
            mapped=set(job.mapping),
            custom_headers={
                header
                for header, key in zip(job.headers, job.mapping, strict=False)
                if key == CUSTOM
            },
        )


def _parser(job: ImportJob) -> RowParser:
    return RowParser(
        headers=job.headers,
        mapping=job.mapping,
        directory=enrolment_directory(organisation=job.organisation),
        areas=dict(
            PostcodeArea.objects.filter(organisation=job.organisation).values_list(
                "prefix", "group_id"
            )
        ),
        postcode_pattern=postcodes.pattern_for(job.postcode_rule, job.postcode_pattern),
        day_first=job.day_first,
    )


def _content(job: ImportJob) -> bytes:
    return bytes(
        ImportJob.objects.filter(pk=job.pk).values_list("content", flat=True).get()
    )


def _batches(job: ImportJob, content: bytes) -> Iterator[tuple[int, list[Record]]]:
    """(index of the batch's first data row, its rows), in file order."""
    rows = records(content, job.file_format, job.delimiter)
    start = 0
    while batch := list(islice(rows, job.batch_size)):
        yield start, batch
        start += len(batch)


def _parse_batch(
    parser: RowParser, batch: list[Record]
) -> tuple[list[ParsedRow], list[RowError], int]:
    """The batch's good rows, its errors, and how many rows were blank."""
    good: list[ParsedRow] = []
    errors: list[RowError] = []
    blank = 0
    for line, cells in batch:
        parsed = parser.parse(line, cells)
        if parsed is None:
            blank += 1
        elif isinstance(parsed, list):
            errors += parsed
        else:
            good.append(parsed)
    return good, errors, blank


def _since(joined: dt.date | None) -> dt.datetime | None:
    if joined is None:
        return None
    return timezone.make_aware(
        dt.datetime.combine(joined, dt.time()), timezone.get_default_timezone()
    )


def _entries_by_email(job: ImportJob, rows: list[ParsedRow]) -> dict[str, Any]:
    """The register entries of these rows' emails, with their branch (two queries).

    The accounts come first, through the case-insensitive email index, then their
    entries through the (organisation, member) index: matching on the lower-cased
    email across the join would read the organisation's whole register per batch."""
    accounts = enrolment_accounts(emails=[row.email for row in rows])
    emails = {pk: email for email, pk in accounts.items()}
    entries = RegisterEntry.objects.filter(
        organisation=job.organisation, user_id__in=list(emails)
    ).annotate(branch_id=F("membership__group_id"))
    return {emails[entry.user_id]: entry for entry in entries}


def _entry_changes(
    run: _Run, row: ParsedRow, membership_id: int | None, entry: Any
) -> dict[str, Any]:
    """The register fields this row sets that differ from the entry's (all of them
    for a new entry). Columns the file does not have leave their fields as they are."""
    mapped = run.mapped
    wanted: dict[str, Any] = {"membership_id": membership_id}
    fields = {
        "postcode": ("postcode", row.postcode),
        "dues_tier": ("dues_tier", row.dues_tier),
        "external_id": ("external_id", row.external_id),
        "joined": ("joined_on", row.joined),
        "first_name": ("given_name", row.given_name),
        "last_name": ("family_name", row.family_name),
    }
    for key, (name, value) in fields.items():
        if key in mapped:
            wanted[name] = value
    if CUSTOM in mapped:
        current = entry.custom_fields if entry is not None else {}
        custom = {k: v for k, v in current.items() if k not in run.custom_headers}
        custom.update(row.custom)
        wanted["custom_fields"] = custom
    if entry is None:
        return wanted
    return {k: v for k, v in wanted.items() if getattr(entry, k) != v}


def _enrol_batch(run: _Run, rows: list[ParsedRow], *, apply: bool) -> Counter:
    """Plan (check) or write (apply) one batch's members and register entries."""
    job = run.job
    entries = _entries_by_email(job, rows)
    top = run.parser.directory.top_group
    enrol_rows = []
    for row in rows:
        previous = getattr(entries.get(row.email), "branch_id", None)
        enrol_rows.append(
            EnrolRow(
                line=row.line,
                email=row.email,
                name=row.name,
                # No branch named: the member stays where the register has them.
                group_id=row.group_id or previous or (top.pk if top else 0),
                status=row.status,
                since=_since(row.joined),
                previous_group_id=previous,
            )
        )
    organisation = job.organisation
    if apply:
        outcome = members_enrol(
            actor=job.applied_by,
            organisation=organisation,
            rows=enrol_rows,
            invited_by=job.applied_by,
        )
    else:
        outcome = members_enrol_plan(organisation=organisation, rows=enrol_rows)
    counts: Counter = Counter()
    new_entries, changed_entries = [], []
    now = timezone.now()
    for row in rows:
        line = outcome.lines[row.line]
        if line.result == EnrolResult.SKIPPED:
            counts["skipped"] += 1
            continue
        entry = entries.get(row.email)
        changes = _entry_changes(run, row, line.membership_id, entry)
        result = line.result
        if changes and result == EnrolResult.UNCHANGED:
            result = EnrolResult.UPDATED
        counts[str(result)] += 1
        if not changes or not apply:
            continue
        changes.update(updated_at=now, last_import_id=job.pk)
        if entry is None:
            assert line.user_id is not None  # the write gave every account its id
            new_entries.append(
                RegisterEntry(
                    organisation=organisation, user_id=line.user_id, **changes
                )
            )
        else:
            for name, value in changes.items():
                setattr(entry, name, value)
            changed_entries.append(entry)
    if apply:
        _write_entries(new_entries, changed_entries)
    return counts


_ENTRY_FIELDS = [
    "membership",
    "given_name",
    "family_name",
    "postcode",
    "dues_tier",
    "external_id",
    "joined_on",
    "custom_fields",
    "updated_at",
    "last_import",
]


def _write_entries(new: list[RegisterEntry], changed: list[RegisterEntry]) -> None:
    RegisterEntry.objects.bulk_create(new)
    RegisterEntry.objects.bulk_update(changed, _ENTRY_FIELDS)


# The check ------------------------------------------------------------------------


class _Report:
    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.errors: list[dict[str, Any]] = []
        self.errors_total = 0
        self.failed_lines: set[int] = set()
        self.rows = 0

    def add_errors(self, errors: list[RowError]) -> None:
        self.errors_total += len(errors)
        self.failed_lines |= {error.line for error in errors}
        room = MAX_REPORTED_ERRORS - len(self.errors)
        self.errors += [error.as_dict() for error in errors[: max(room, 0)]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.counts["created"],
            "updated": self.counts["updated"],
            "unchanged": self.counts["unchanged"],
            "skipped": self.counts["skipped"],
            "failed": len(self.failed_lines),
            "errors": self.errors,
            "errors_total": self.errors_total,
        }


def _file_error(message: str, line: int = 1) -> RowError:
    return RowError(line=line, column="", header="", message=message)


def import_check(*, job_id: int) -> None:
    """The dry run: count what the apply would do and find every failing row."""
    job = ImportJob.objects.select_related("organisation").get(pk=job_id)
    if job.status != Status.CHECKING:
        return  # checked already, or the mapping changed and a newer check runs
    run = _Run.of(job)
    report = _Report()
    if run.parser.directory.top_group is None:
        report.add_errors(
            [_file_error(_("The organisation has no top-level group to join."))]
        )
    try:
        for start, batch in _batches(job, _content(job)):
            rows, errors, blank = _parse_batch(run.parser, batch)
            report.add_errors(errors)
            report.counts.update(_enrol_batch(run, rows, apply=False))
            report.counts["skipped"] += blank
            report.rows = start + len(batch)
            ImportJob.objects.filter(pk=job.pk, status=Status.CHECKING).update(
                rows_done=report.rows, progress_at=timezone.now()
            )
    except FileRefused as refused:  # a line the CSV reader cannot read
        report.add_errors([_file_error(str(refused), refused.line)])
    ImportJob.objects.filter(pk=job.pk, status=Status.CHECKING).update(
        status=Status.CHECKED,
        report=report.as_dict(),
        total_rows=report.rows,
        rows_done=report.rows,
        checked_at=timezone.now(),
        progress_at=timezone.now(),
    )


# The apply ------------------------------------------------------------------------


def import_apply(*, job_id: int) -> None:
    """Apply the checked import from its cursor on, one transaction per batch."""
    job = ImportJob.objects.select_related("organisation", "applied_by").get(pk=job_id)
    if job.status != Status.APPLYING:
        return  # applied already, or stopped
    run = _Run.of(job)
    rows_in_file = 0
    try:
        for start, batch in _batches(job, _content(job)):
            rows_in_file = start + len(batch)
            if start < job.next_row or not _apply_batch(run, start, batch):
                # Committed before (by an earlier run or another worker).
                for line, cells in batch:
                    run.parser.remember(line, cells)
            if job.status != Status.APPLYING:
                return
    except _BatchRefused as refused:
        _stop(job, refused)
        return
    _finish(job, rows_in_file)


def _apply_batch(run: _Run, start: int, batch: list[Record]) -> bool:
    """Apply one batch in one transaction; False if it was not this run's to apply."""
    job = run.job
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != Status.APPLYING or locked.next_row != start:
            # Another worker applied it (or the job stopped): follow its cursor.
            job.status, job.next_row = locked.status, locked.next_row
            return False
        rows, errors, blank = _parse_batch(run.parser, batch)
        if errors:
            raise _BatchRefused(errors, batch)
        counts = _enrol_batch(run, rows, apply=True)
        _remember_custom_names(run)
        job.next_row = start + len(batch)
        ImportJob.objects.filter(pk=job.pk).update(
            next_row=job.next_row,
            rows_done=job.next_row,
            created_count=F("created_count") + counts["created"],
            updated_count=F("updated_count") + counts["updated"],
            unchanged_count=F("unchanged_count") + counts["unchanged"],
            skipped_count=F("skipped_count") + counts["skipped"] + blank,
            progress_at=timezone.now(),
        )
    return True


def _remember_custom_names(run: _Run) -> None:
    """Add this file's custom fields to the organisation's list (the export's columns)."""
    settings, _created = RegisterSettings.objects.get_or_create(
        organisation=run.job.organisation
    )
    names = list(settings.custom_field_names)
    added = [
        header
        for header, key in zip(run.job.headers, run.job.mapping, strict=False)
        if key == CUSTOM and header not in names
    ]
    if added:
        RegisterSettings.objects.filter(pk=settings.pk).update(
            custom_field_names=names + added
        )


def _finish(job: ImportJob, rows_in_file: int) -> None:
    """Mark the import applied and record it, once: the job row is locked, and only
    the run that sees every row of the file committed may finish it."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != Status.APPLYING or locked.next_row != rows_in_file:
            return
        now = timezone.now()
        locked.status = Status.APPLIED
        locked.finished_at = locked.progress_at = now
        locked.content = b""  # the register now lives in the platform
        locked.save(update_fields=["status", "finished_at", "progress_at", "content"])
        audit_record(
            actor=locked.applied_by,
            action="register.imported",
            target=locked,
            group=locked.group,
            data={"rows": locked.next_row, **locked.counts()},
        )
    job.status = Status.APPLIED


def _stop(job: ImportJob, refused: _BatchRefused) -> None:
    """A batch failed its check: stop there, with its errors; nothing of it applied."""
    report = _Report()
    report.add_errors(refused.errors)
    errors = report.as_dict()
    message = _(
        "Rows %(first)d to %(last)d no longer pass the check (the organisation's "
        "groups or postcode table may have changed since): nothing of that batch was "
        "applied. The %(done)d rows before it are applied; fix the file and import "
        "it again."
    )
    ImportJob.objects.filter(pk=job.pk, status=Status.APPLYING).update(
        status=Status.FAILED,
        report={
            **job.report,
            **{key: errors[key] for key in ("errors", "errors_total", "failed")},
        },
        error_message=message
        % {
            "first": refused.first_line,
            "last": refused.last_line,
            "done": job.next_row,
        },
        progress_at=timezone.now(),
    )
    job.status = Status.FAILED


_FAILURES = {
    "check": gettext_lazy("The check stopped because of an error: %(error)s"),
    "apply": gettext_lazy("The import stopped because of an error: %(error)s"),
}


def _fail(job_id: int, phase: str, error: Exception) -> None:
    """An unexpected error: the job stops where its last batch committed."""
    logger.exception("register import %s stopped during the %s", job_id, phase)
    ImportJob.objects.filter(
        pk=job_id, status__in=[Status.CHECKING, Status.APPLYING]
    ).update(
        status=Status.FAILED,
        error_message=str(_FAILURES[phase]) % {"error": error},
        progress_at=timezone.now(),
    )


# The tasks (``tasks.py`` re-exports them for Celery's autodiscovery) -----------------


@shared_task(name="onboarding.check_import", acks_late=True, reject_on_worker_lost=True)
def check_import_task(job_id: int) -> None:
    try:
        import_check(job_id=job_id)
    except Exception as error:
        _fail(job_id, "check", error)


@shared_task(name="onboarding.apply_import", acks_late=True, reject_on_worker_lost=True)
def apply_import_task(job_id: int) -> None:
    try:
        import_apply(job_id=job_id)
    except Exception as error:
        _fail(job_id, "apply", error)
