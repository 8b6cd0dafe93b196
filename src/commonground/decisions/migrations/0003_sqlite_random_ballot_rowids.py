"""On SQLite, ballots get a random rowid, so storage order says nothing of casting order.

A SQLite table whose primary key is not an INTEGER keeps a hidden ``rowid`` that
counts up with each insert: ``SELECT rowid FROM decisions_ballot`` would list the
ballots in casting order (and an index scan returns them in that order), which
beside the participations' times links ballots to members. A trigger gives each
new ballot a random 64-bit rowid (SQLite allows updating it; the table's b-tree is
keyed on it, so physical order becomes random too). PostgreSQL has no such column;
its physical order is the storage side channel docs/ballot-integrity.md describes.
Django recreates a SQLite table when a later migration alters it, which drops
triggers: tests/decisions/test_decisions_casting.py checks the rowid order.
"""

from django.db import migrations

TRIGGER = "decisions_ballot_random_rowid"
CREATE = f"""
CREATE TRIGGER IF NOT EXISTS {TRIGGER} AFTER INSERT ON decisions_ballot
BEGIN
    UPDATE decisions_ballot SET rowid = random() WHERE rowid = NEW.rowid;
END
"""


def random_rowids(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute(CREATE)
    schema_editor.execute("UPDATE decisions_ballot SET rowid = random()")


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")


class Migration(migrations.Migration):
    dependencies = [("decisions", "0002_result_tracker_list")]

    operations = [migrations.RunPython(random_rowids, drop_trigger)]
