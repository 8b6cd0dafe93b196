"""Reads of the membership register, each a fixed number of queries."""

from __future__ import annotations

from typing import Any

from .models import ImportJob, PostcodeArea, RegisterEntry

RECENT_IMPORTS = 20


def import_jobs(organisation: Any) -> list[ImportJob]:
    """The organisation's latest imports, newest first (one query)."""
    return list(
        ImportJob.objects.filter(organisation=organisation).select_related(
            "created_by"
        )[:RECENT_IMPORTS]
    )


def import_job(organisation: Any, job_id: int) -> ImportJob:
    """One of the organisation's imports; ``ImportJob.DoesNotExist`` for any other
    organisation's, so nobody reaches another organisation's job by its number."""
    return ImportJob.objects.select_related("organisation", "group").get(
        pk=job_id, organisation=organisation
    )


def earlier_import_of_same_file(job: ImportJob) -> ImportJob | None:
    """An applied import of a byte-identical file, if any (one query)."""
    return (
        ImportJob.objects.filter(
            organisation_id=job.organisation_id,
            content_sha256=job.content_sha256,
            status=ImportJob.Status.APPLIED,
        )
        .exclude(pk=job.pk)
        .first()
    )


def postcode_areas(organisation: Any) -> list[PostcodeArea]:
    return list(
        PostcodeArea.objects.filter(organisation=organisation)
        .select_related("group")
        .order_by("prefix")
    )


def register_size(organisation: Any) -> dict[str, int]:
    """How many members the register holds and how many postcode prefixes (2 queries)."""
    return {
        "members": RegisterEntry.objects.filter(
            organisation=organisation, user__deleted_at__isnull=True
        ).count(),
        "areas": PostcodeArea.objects.filter(organisation=organisation).count(),
    }


def register_for_export(user: Any) -> list[dict[str, Any]]:
    """A member's own register entries, for their personal data export (one query)."""
    return [
        {
            "organisation": entry.organisation.name,
            "postcode": entry.postcode,
            "dues_tier": entry.dues_tier,
            "external_id": entry.external_id,
            "joined_on": entry.joined_on.isoformat() if entry.joined_on else None,
            "custom_fields": entry.custom_fields,
        }
        for entry in RegisterEntry.objects.filter(user=user)
        .select_related("organisation")
        .order_by("organisation__name")
    ]
