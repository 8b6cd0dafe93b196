"""Backups: ``backup`` then ``restore`` into a fresh database gives the same site.

The backup is taken from the test database (PostgreSQL: pg_dump; SQLite: the online
backup API), restored by ``commonground manage restore`` in a subprocess pointed at
a new, empty database, and checked there: the audit chain verifies, every published
result recounts to the same bytes, and the uploaded files come back identical.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from commonground.audit.models import AuditEntry
from commonground.decisions import services
from commonground.decisions.models import TallyResult
from commonground.members.models import Role
from factories import make_group, make_member, make_role

pytestmark = pytest.mark.django_db(transaction=True)

REPOSITORY = Path(__file__).resolve().parents[2]
LOGO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4

RECOUNT = """
import hashlib, json
from commonground.decisions.models import Ballot, Option, TallyResult
from commonground.decisions.tally_adapter import count_ballots
out = []
for tally in TallyResult.objects.order_by("election_id"):
    election = tally.election
    candidates = list(Option.objects.filter(election=election)
                      .order_by("position").values_list("label", flat=True))
    payloads = list(Ballot.objects.filter(election=election)
                    .values_list("payload", flat=True))
    counted = count_ballots(election, candidates, payloads)
    out.append({
        "election": election.pk,
        "stored_result_sha256": tally.result_sha256,
        "recounted_result_sha256": hashlib.sha256(
            counted.result_json.encode()).hexdigest(),
        "same_result_json": counted.result_json == tally.result_json,
        "same_ballots": counted.ballots_sha256 == tally.ballots_sha256,
        "ballots": len(payloads),
    })
print(json.dumps(out))
"""


def ranks(*positions: int) -> dict[str, str]:
    return {f"rank_{p}": str(rank) for rank, p in enumerate(positions, start=1)}


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    (settings.MEDIA_ROOT / "logos").mkdir(parents=True)
    (settings.MEDIA_ROOT / "logos" / "movement.png").write_bytes(LOGO)
    return settings.MEDIA_ROOT


@pytest.fixture
def closed_counted_election():
    """An STV election with ballots, closed and counted (a published result)."""
    group = make_group(name="Backup branch")
    organiser = make_role(group, Role.ORGANISER)
    voters = [make_member(group) for _ in range(7)]
    now = timezone.now()
    election = services.election_create(
        actor=organiser,
        group=group,
        kind="question",
        spec=services.ElectionSpec(
            title="Committee",
            method="stv",
            options=["Ann", "Bo", "Cy", "Di"],
            seats=2,
            opens_at=now,
            closes_at=now + timedelta(hours=1),
        ),
    )
    orders = [(0, 1), (0, 2), (1,), (1, 0), (2, 3), (3, 2), (0,)]
    for voter, order in zip(voters, orders, strict=True):
        services.ballot_cast(member=voter, election=election, marks=ranks(*order))
    with time_machine.travel(election.closes_at + timedelta(seconds=1), tick=False):
        tally = services.election_count(election_id=election.pk)
    return election, tally


@pytest.fixture
def fresh_database(tmp_path):
    """The URL of a new, empty database of the test database's kind; dropped after."""
    settings_dict = connection.settings_dict
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    import psycopg

    name = f"cg_helper_ops_restore_{uuid.uuid4().hex[:12]}"
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or 5432
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    server = f"postgresql://{settings_dict['USER']}{password}@{host}:{port}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}".replace("postgresql://", "postgres://", 1)
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(
    database_url: str, home: Path, *arguments: str
) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="commonground.site.settings",
        DATABASE_URL=database_url,
        DJANGO_MEDIA_ROOT=str(home / "media"),
        COMMONGROUND_HOME=str(home),
    )
    return subprocess.run(
        [sys.executable, "-m", "commonground.cli", "manage", *arguments],
        cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_a_restored_backup_verifies_and_recounts_identically(
    closed_counted_election, media_root, fresh_database, tmp_path
):
    election, tally = closed_counted_election
    entries = AuditEntry.objects.count()
    assert entries > 0
    call_command("backup", output=tmp_path / "backups")
    (archive,) = (tmp_path / "backups").glob("commonground-*.tar")
    assert archive.stat().st_mode & 0o777 == 0o600

    home = tmp_path / "restored-site"
    home.mkdir()
    restored = _manage(fresh_database, home, "restore", str(archive), "--no-input")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert f"audit chain intact: {entries} entries verified" in restored.stdout
    assert "not applied yet" not in restored.stdout

    verified = _manage(fresh_database, home, "audit_verify")
    assert verified.returncode == 0, verified.stderr
    assert f"{entries} entries verified" in verified.stdout

    recount = _manage(fresh_database, home, "shell", "-c", RECOUNT)
    assert recount.returncode == 0, recount.stderr
    (result,) = json.loads(recount.stdout.strip().splitlines()[-1])
    assert result == {
        "election": election.pk,
        "stored_result_sha256": tally.result_sha256,
        "recounted_result_sha256": tally.result_sha256,
        "same_result_json": True,
        "same_ballots": True,
        "ballots": 7,
    }
    assert (home / "media" / "logos" / "movement.png").read_bytes() == LOGO


def test_restore_refuses_a_database_that_is_not_empty(
    closed_counted_election, media_root, tmp_path
):
    call_command("backup", output=tmp_path / "site.tar")
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(tmp_path / "site.tar"), no_input=True)
    assert TallyResult.objects.count() == 1  # untouched


def test_restore_refuses_an_archive_whose_files_do_not_match_the_manifest(
    media_root, tmp_path, fresh_database
):
    call_command("backup", output=tmp_path / "site.tar")
    tampered = tmp_path / "tampered.tar"
    with (
        tarfile.open(tmp_path / "site.tar") as source,
        tarfile.open(tampered, "w") as target,
    ):
        for member in source.getmembers():
            data = source.extractfile(member)
            if member.name == "media/logos/movement.png":
                member.size = 3
                target.addfile(member, fileobj=io.BytesIO(b"bad"))
            else:
                target.addfile(member, fileobj=data)
    home = tmp_path / "restored-site"
    home.mkdir()
    result = _manage(fresh_database, home, "restore", str(tampered), "--no-input")
    assert result.returncode != 0
    assert "does not match its checksum" in result.stderr
    assert not (home / "media" / "logos" / "movement.png").exists()
