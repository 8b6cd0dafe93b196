"""``commonground manage restore ARCHIVE``: a backup into an empty database."""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from commonground.core.backups import BackupError, restore_archive


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup` into the configured (empty) database and "
        "MEDIA_ROOT, then verify the audit log's hash chain."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--replace",
            action="store_true",
            help="overwrite a database that already has tables (asks first)",
        )
        parser.add_argument("--no-input", action="store_true", dest="no_input")
        parser.add_argument("--database", default="default")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        alias = options["database"]
        if options["replace"] and not options["no_input"]:
            name = connections[alias].settings_dict["NAME"]
            answer = input(f"Overwrite every table of database {name}? Type 'yes': ")
            if answer.strip().lower() != "yes":
                raise CommandError("restore cancelled")
        try:
            report = restore_archive(
                options["archive"], alias=alias, replace=options["replace"]
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"restored the {report.vendor} database from {report.created_at} "
            f"and {report.media_files} uploaded files"
        )
        connections[alias].close()
        call_command("audit_verify", stdout=self.stdout)
        executor = MigrationExecutor(connections[alias])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            self.stdout.write(
                f"{len(pending)} migrations of this version are not applied yet: "
                "run `commonground manage migrate` before serving"
            )
