"""The audit log: hash chain, verification, append-only."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from commonground.audit.hashing import canonical_content, chain_hash
from commonground.audit.models import GENESIS_HASH, AuditEntry
from commonground.audit.services import audit_record, audit_verify_chain

pytestmark = pytest.mark.django_db


def _record(n: int, group=None) -> list[AuditEntry]:
    entries = []
    for index in range(n):
        with transaction.atomic():
            entries.append(
                audit_record(
                    actor=None,
                    action="test.action",
                    group=group,
                    reason=f"r{index}",
                    data={"i": index},
                )
            )
    return entries


def test_each_entry_hashes_previous_hash_and_its_own_content():
    first, second = _record(2)
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.entry_hash
    content = canonical_content(
        created_at=second.created_at,
        actor_id=None,
        action="test.action",
        target_type="",
        target_id="",
        group_id=None,
        reason="r1",
        data={"i": 1},
    )
    assert second.entry_hash == chain_hash(first.entry_hash, content)


@pytest.mark.django_db(transaction=True)
def test_audit_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        audit_record(actor=None, action="test.action")


def test_verify_passes_on_an_intact_chain(capsys):
    _record(5)
    call_command("audit_verify")
    assert "5 entries verified" in capsys.readouterr().out


def _tamper(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # As someone with raw database access would: bypass the trigger.
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_verify_names_the_first_entry_whose_content_was_changed():
    entries = _record(4)
    _tamper(
        "UPDATE audit_auditentry SET reason = %s WHERE id = %s",
        ["rewritten", entries[2].pk],
    )
    report = audit_verify_chain()
    assert report.first_broken_id == entries[2].pk
    with pytest.raises(CommandError, match=f"#{entries[2].pk}"):
        call_command("audit_verify")


def test_verify_detects_a_removed_entry_in_the_middle():
    entries = _record(4)
    _tamper("DELETE FROM audit_auditentry WHERE id = %s", [entries[1].pk])
    assert audit_verify_chain().first_broken_id == entries[2].pk


def test_verify_detects_removed_entries_at_the_end():
    entries = _record(3)
    _tamper("DELETE FROM audit_auditentry WHERE id = %s", [entries[2].pk])
    report = audit_verify_chain()
    assert not report.ok
    assert report.first_broken_id == entries[1].pk


def test_entries_cannot_be_changed_or_deleted_through_the_application():
    (entry,) = _record(1)
    entry.reason = "changed"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="x")
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).delete()


@pytest.mark.postgres_only
def test_postgresql_refuses_raw_updates_of_audit_entries():
    (entry,) = _record(1)
    from django.db import DatabaseError

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE audit_auditentry SET reason = 'x' WHERE id = %s", [entry.pk]
        )


def test_admin_gives_no_way_to_change_or_delete_entries(client):
    from factories import UserFactory

    staff = UserFactory(is_staff=True, is_superuser=True)
    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(
        user=staff, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    client.force_login(staff)
    (entry,) = _record(1)
    assert client.get(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code in {
        403,
        302,
    }
    response = client.post(
        f"/admin/audit/auditentry/{entry.pk}/change/", {"reason": "x"}
    )
    assert response.status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).reason == "r0"
