"""Open data: export in the Pol.is openData layout (read back by the engine's reader),
import such an export into a new conversation, export-import-export gives the same
files, and a malformed export is refused naming the file, line and field, leaving
nothing behind."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from commonground.audit.models import AuditEntry
from commonground.conversations import services
from commonground.conversations.models import (
    Conversation,
    Participant,
    Statement,
    Vote,
    VoteEvent,
)
from commonground.engines.opinion import read_polis_export
from support import shared_data

from .conftest import vote

pytestmark = pytest.mark.django_db

FILES = ("comments.csv", "votes.csv", "participants-votes.csv", "summary.csv")


@pytest.fixture
def answered(members, moderator, open_conversation):
    conversation = open_conversation(context="Some *context*.")
    statements = list(conversation.statements.order_by("number"))
    extra = services.statement_add(
        author=members[0], conversation=conversation, text="A member's idea."
    )
    rude = services.statement_add(
        author=members[1], conversation=conversation, text="Something rude."
    )
    for index, member in enumerate(members):
        for statement in [*statements, extra, rude]:
            value = ("agree", "disagree", "pass")[(index + statement.number) % 3]
            vote(member, conversation, statement, value)
    vote(members[0], conversation, statements[0], "disagree")  # a changed answer
    services.statement_reject(moderator=moderator, statement=rude, reason="Rude")
    services.map_refresh(conversation_id=conversation.pk)
    return conversation


def _export(actor, conversation, folder: Path) -> dict[str, bytes]:
    services.conversation_export(
        actor=actor, conversation=conversation, directory=folder
    )
    return {name: (folder / name).read_bytes() for name in FILES}


def test_export_is_readable_by_the_engines_reader(tmp_path, members, answered):
    files = _export(members[0], answered, tmp_path)
    assert set(files) == set(FILES)
    votes, statements = read_polis_export(tmp_path)
    assert len(votes) == VoteEvent.objects.filter(conversation=answered).count()
    assert set(statements.ids) == {
        str(n) for n in answered.statements.values_list("number", flat=True)
    }
    moderated = dict(zip(statements.ids, statements.moderated.tolist(), strict=True))
    rejected = answered.statements.get(text="Something rude.")
    assert moderated[str(rejected.number)] == -1
    summary = files["summary.csv"].decode()
    assert "How should the branch meet?" in summary
    names = {m.email for m in members} | {m.display_name for m in members}
    for body in files.values():
        assert not any(name.encode() in body for name in names)  # numbers, not names


def test_export_import_export_gives_the_same_files(
    tmp_path, group, organiser, members, answered
):
    first = _export(members[0], answered, tmp_path / "first")
    imported = services.conversation_import(
        actor=organiser, group=group, directory=tmp_path / "first"
    )
    assert imported.origin == "polis-import"
    assert imported.question == answered.question
    assert imported.context == answered.context
    assert (
        Vote.objects.filter(conversation=imported).count()
        == Vote.objects.filter(conversation=answered).count()
    )
    assert VoteEvent.objects.filter(conversation=imported).count() == (
        VoteEvent.objects.filter(conversation=answered).count()
    )
    services.map_refresh(conversation_id=imported.pk)
    second = _export(organiser, imported, tmp_path / "second")
    for name in FILES:
        assert first[name] == second[name], name
    assert AuditEntry.objects.filter(action="conversation.imported").count() == 1


def test_import_of_a_pol_is_export_keeps_ids_times_and_moderation(
    tmp_path, group, organiser
):
    source = shared_data("polis", "opendata", "15-per-hour-seattle")
    conversation = services.conversation_import(
        actor=organiser, group=group, directory=source
    )
    votes, statements = read_polis_export(source)
    assert conversation.question == "$15/hour"
    assert conversation.statements.count() == len(statements.ids)
    assert conversation.statements.filter(
        status=Statement.Status.REJECTED
    ).count() == int((statements.moderated == -1).sum())
    assert VoteEvent.objects.filter(conversation=conversation).count() == len(votes)
    numbers = set(
        Participant.objects.filter(conversation=conversation).values_list(
            "number", flat=True
        )
    )
    assert {int(p) for p in votes.participant_ids} <= numbers
    first = VoteEvent.objects.filter(conversation=conversation).order_by("id").first()
    assert first.at_ms == int(votes.timestamp.min())
    # New participants get numbers after the imported ones.
    conversation.refresh_from_db()
    assert conversation.next_participant_number == max(numbers) + 1


def _broken_copy(tmp_path: Path, name: str, line: int, text: str) -> Path:
    source = shared_data("polis", "opendata", "brexit-consensus")
    folder = tmp_path / "broken"
    shutil.copytree(source, folder)
    path = folder / name
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = text
    path.write_text("\n".join(lines), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("name", "line", "text", "field"),
    [
        ("votes.csv", 3, "1550000000000,Tue,0,1,maybe", "vote"),
        ("votes.csv", 4, "1550000000000,Tue,0,abc,1", "voter-id"),
        ("votes.csv", 5, "1550000000000,Tue,999,1,1", "comment-id"),
        ("comments.csv", 2, "1550000000000,Tue,x7,0,1,0,1,Hello", "comment-id"),
    ],
)
def test_a_malformed_export_is_refused_naming_file_line_and_field_and_nothing_is_left(
    tmp_path, group, organiser, name, line, text, field
):
    folder = _broken_copy(tmp_path, name, line, text)
    before = (
        Conversation.objects.count(),
        Statement.objects.count(),
        Participant.objects.count(),
        VoteEvent.objects.count(),
        AuditEntry.objects.count(),
    )
    with pytest.raises(services.ImportRefused) as refused:
        services.conversation_import(actor=organiser, group=group, directory=folder)
    error = refused.value
    assert Path(error.path).name == name
    assert error.field == field
    assert str(error.line) == str(line), str(error)
    after = (
        Conversation.objects.count(),
        Statement.objects.count(),
        Participant.objects.count(),
        VoteEvent.objects.count(),
        AuditEntry.objects.count(),
    )
    assert after == before


def test_a_failure_while_writing_leaves_nothing_behind(
    tmp_path, group, organiser, monkeypatch
):
    from commonground.conversations.services import polis

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(polis, "_history", fail)
    source = shared_data("polis", "opendata", "brexit-consensus")
    with pytest.raises(RuntimeError):
        services.conversation_import(actor=organiser, group=group, directory=source)
    assert not Conversation.objects.exists() and not Statement.objects.exists()
    assert not Participant.objects.exists()


def test_only_organisers_import(tmp_path, group, members):
    source = shared_data("polis", "opendata", "brexit-consensus")
    with pytest.raises(PermissionDenied):
        services.conversation_import(actor=members[0], group=group, directory=source)


def test_import_page_uploads_the_files_and_shows_a_refusal(
    client, tmp_path, group, organiser
):
    folder = _broken_copy(tmp_path, "votes.csv", 3, "1550000000000,Tue,0,1,maybe")
    client.force_login(organiser)
    url = reverse("conversations:import", args=[group.slug])
    data = {
        "participation": "members",
        "statement_policy": "everyone",
        "moderation": "post",
        "map_visibility": "participants",
        "engine_mode": "polis",
    }
    uploads = {
        "comments": SimpleUploadedFile(
            "comments.csv", (folder / "comments.csv").read_bytes()
        ),
        "votes": SimpleUploadedFile("votes.csv", (folder / "votes.csv").read_bytes()),
    }
    response = client.post(url, {**data, **uploads})
    assert response.status_code == 400
    assert "votes.csv:3: vote:" in response.content.decode()
    assert not Conversation.objects.exists()
    source = shared_data("polis", "opendata", "brexit-consensus")
    uploads = {
        "comments": SimpleUploadedFile(
            "comments.csv", (source / "comments.csv").read_bytes()
        ),
        "votes": SimpleUploadedFile("votes.csv", (source / "votes.csv").read_bytes()),
        "summary": SimpleUploadedFile(
            "summary.csv", (source / "summary.csv").read_bytes()
        ),
    }
    response = client.post(url, {**data, **uploads})
    conversation = Conversation.objects.get()
    assert response.status_code == 302
    assert conversation.engine_mode == "polis"
    assert conversation.question == "Can there be consensus on Brexit?"


def test_download_is_a_zip_of_the_four_files(client, members, answered):
    client.force_login(members[0])
    response = client.get(reverse("conversations:export", args=[answered.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert sorted(n.split("/")[-1] for n in names) == sorted(FILES)
