"""``commonground manage backup``: the database and uploaded files in one archive."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from commonground.core.backups import BackupError, create_backup


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump custom format, or SQLite's online backup) and "
        "the uploaded files into one .tar archive (mode 0600: it holds personal data)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            default=None,
            help="a directory (a timestamped file is made in it) or a .tar path; "
            "default $COMMONGROUND_BACKUP_DIR or var/backups",
        )
        parser.add_argument(
            "--no-media", action="store_true", help="leave the uploaded files out"
        )
        parser.add_argument("--database", default="default")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        output = options["output"] or Path(
            os.environ.get("COMMONGROUND_BACKUP_DIR", settings.VAR_DIR / "backups")
        )
        try:
            report = create_backup(
                output,
                alias=options["database"],
                include_media=not options["no_media"],
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"backup written: {report.path} ({report.vendor}, "
            f"{report.media_files} uploaded files, {report.size} bytes)"
        )
