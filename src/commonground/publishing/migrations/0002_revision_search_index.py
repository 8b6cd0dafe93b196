"""Full-text search index on PostgreSQL: a GIN index over the expression the search
selector queries (``to_tsvector(config, COALESCE(text, ''))``); nothing on SQLite,
whose fallback search needs none."""

from django.conf import settings
from django.db import migrations

INDEX = "publishing_revision_text_fts"


def _config() -> str:
    config = str(getattr(settings, "COMMONGROUND_SEARCH_CONFIG", "english"))
    if not config.replace("_", "").isalnum():
        raise ValueError("COMMONGROUND_SEARCH_CONFIG must be a text search configuration name")
    return config


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON publishing_revision USING gin "
        f"(to_tsvector('{_config()}'::regconfig, COALESCE(text, '')))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("publishing", "0001_articles_revisions_images_tags")]

    operations = [migrations.RunPython(create_index, drop_index)]
