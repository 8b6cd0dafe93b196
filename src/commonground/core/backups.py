"""Backups of a whole site: the database and the uploaded files, in one archive.

A backup is an uncompressed tar file (``commonground-<UTC time>.tar``, mode 0600: it
holds personal data) with

- ``manifest.json``: the format, when and from what it was made, the SHA-256 of every
  file, and the latest applied migration of each app;
- ``database.pgdump``: ``pg_dump --format=custom`` of PostgreSQL (already compressed;
  ``pg_restore`` can restore single tables from it), or ``database.sqlite3``: a copy
  made with SQLite's online backup API, consistent while the site runs;
- ``media/``: every uploaded file (organisations' logos).

``restore_archive`` checks the manifest and every checksum before touching anything,
restores into an empty database (or, with ``replace``, over an existing one) and then
the uploaded files. The management commands ``backup`` and ``restore`` are thin
layers over these two functions; docs/deploy.md says how to schedule and test them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

FORMAT = "commonground-backup/1"
MANIFEST = "manifest.json"
DATABASE_FILES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    vendor: str
    media_files: int
    size: int


@dataclass(frozen=True)
class RestoreReport:
    vendor: str
    created_at: str
    media_files: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _media_files(root: Path) -> Iterator[Path]:
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                yield path


def _vendor(alias: str) -> str:
    vendor = connections[alias].vendor
    if vendor not in DATABASE_FILES:
        raise BackupError(f"backups support PostgreSQL and SQLite, not {vendor}")
    return vendor


def _postgres_command(alias: str, program: str) -> tuple[list[str], dict[str, str]]:
    """``program`` (pg_dump, pg_restore) with the connection's host, user, password."""
    connection = connections[alias]
    arguments, env = connection.client.settings_to_cmd_args_env(
        connection.settings_dict, []
    )
    # psql's arguments are [-U user] [-h host] [-p port] dbname: keep the options,
    # pass the database name with --dbname (pg_restore needs it that way).
    dbname = arguments[-1]
    options = arguments[1:-1]
    if shutil.which(program) is None:
        raise BackupError(
            f"{program} is not installed: install PostgreSQL's client programs "
            "(Debian: apt-get install postgresql-client)"
        )
    return [program, *options, f"--dbname={dbname}"], {**os.environ, **(env or {})}


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(  # noqa: S603 - fixed programs, arguments from settings
        command, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def _applied_migrations(alias: str) -> dict[str, str]:
    recorder = MigrationRecorder(connections[alias])
    latest: dict[str, str] = {}
    for app, name in sorted(recorder.applied_migrations()):
        latest[app] = max(latest.get(app, ""), name)
    return latest


def _distribution_version() -> str:
    try:
        return version("commonground")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def create_backup(
    destination: Path, *, alias: str = "default", include_media: bool = True
) -> BackupReport:
    """Write a backup archive to ``destination`` (a directory or a ``.tar`` path)."""
    vendor = _vendor(alias)
    created = datetime.now(UTC)
    if destination.suffix != ".tar":
        destination = destination / f"commonground-{created:%Y%m%dT%H%M%SZ}.tar"
    destination.parent.mkdir(parents=True, exist_ok=True)
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="commonground-backup-") as scratch:
        work = Path(scratch)
        database_file = work / DATABASE_FILES[vendor]
        if vendor == "postgresql":
            command, env = _postgres_command(alias, "pg_dump")
            _run(
                [*command, "--format=custom", "--no-owner", "--no-privileges",
                 f"--file={database_file}"],
                env,
            )  # fmt: skip
        else:
            connection = connections[alias]
            connection.ensure_connection()
            with sqlite3.connect(database_file) as copy:
                connection.connection.backup(copy)
            copy.close()
        media = list(_media_files(media_root)) if include_media else []
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": created.isoformat(),
            "commonground_version": _distribution_version(),
            "database": {
                "vendor": vendor,
                "file": database_file.name,
                "sha256": _sha256(database_file),
            },
            "migrations": _applied_migrations(alias),
            "media": {
                str(path.relative_to(media_root)): _sha256(path) for path in media
            },
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        partial = destination.with_name(destination.name + ".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with (
            os.fdopen(descriptor, "wb") as raw,
            tarfile.open(fileobj=raw, mode="w") as archive,
        ):
            archive.add(work / MANIFEST, arcname=MANIFEST)
            archive.add(database_file, arcname=database_file.name)
            for path in media:
                archive.add(path, arcname=f"media/{path.relative_to(media_root)}")
        partial.replace(destination)
    return BackupReport(
        path=destination,
        vendor=vendor,
        media_files=len(media),
        size=destination.stat().st_size,
    )


def read_manifest(archive_path: Path, work: Path) -> dict[str, Any]:
    """Unpack the archive into ``work`` and check its manifest and every checksum."""
    if not archive_path.is_file():
        raise BackupError(f"no backup archive at {archive_path}")
    try:
        with tarfile.open(archive_path, mode="r") as archive:
            archive.extractall(work, filter="data")  # no links out, no absolute paths
    except (tarfile.TarError, OSError) as error:
        raise BackupError(
            f"{archive_path} is not a readable backup: {error}"
        ) from error
    try:
        manifest = json.loads((work / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{archive_path} has no valid {MANIFEST}") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    database = manifest["database"]
    if _sha256(work / database["file"]) != database["sha256"]:
        raise BackupError("the database file does not match its checksum")
    for name, digest in manifest["media"].items():
        if _sha256(work / "media" / name) != digest:
            raise BackupError(f"uploaded file {name} does not match its checksum")
    return dict(manifest)


def database_is_empty(alias: str = "default") -> bool:
    return not connections[alias].introspection.table_names()


def restore_archive(
    archive_path: Path, *, alias: str = "default", replace: bool = False
) -> RestoreReport:
    """Restore the database and uploaded files of ``archive_path``.

    Refuses a database that already has tables unless ``replace`` (then PostgreSQL's
    objects are dropped and re-created by pg_restore, and SQLite's file is
    overwritten). PostgreSQL restores in one transaction: it succeeds whole or
    leaves the database as it was.
    """
    vendor = _vendor(alias)
    with tempfile.TemporaryDirectory(prefix="commonground-restore-") as scratch:
        work = Path(scratch)
        manifest = read_manifest(archive_path, work)
        if manifest["database"]["vendor"] != vendor:
            raise BackupError(
                f"this backup is of a {manifest['database']['vendor']} database; "
                f"the configured database is {vendor}"
            )
        if not replace and not database_is_empty(alias):
            raise BackupError(
                "the configured database is not empty: restore into a new, empty "
                "database (or pass --replace to overwrite this one)"
            )
        database_file = work / manifest["database"]["file"]
        connection = connections[alias]
        if vendor == "postgresql":
            connection.close()
            command, env = _postgres_command(alias, "pg_restore")
            options = ["--clean", "--if-exists"] if replace else []
            _run(
                [*command, *options, "--no-owner", "--no-privileges",
                 "--exit-on-error", "--single-transaction", str(database_file)],
                env,
            )  # fmt: skip
        else:
            connection.ensure_connection()
            with sqlite3.connect(database_file) as source:
                source.backup(connection.connection)
            source.close()
        media_root = Path(settings.MEDIA_ROOT)
        for name in manifest["media"]:
            target = (media_root / name).resolve()
            if not target.is_relative_to(media_root.resolve()):
                raise BackupError(
                    f"uploaded file {name!r} would land outside MEDIA_ROOT"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / "media" / name, target)
    return RestoreReport(
        vendor=vendor,
        created_at=str(manifest["created_at"]),
        media_files=len(manifest["media"]),
    )
