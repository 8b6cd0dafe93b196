"""What the platform benchmarks that need a database of their own share: an admin
connection to PostgreSQL, dropping the benchmark's database, and fast bulk loading.

Each benchmark creates its own database (named by an environment variable), runs its
phases in child processes with DATABASE_URL pointing there, and drops it at the end.
"""

from __future__ import annotations

import os
from typing import Any

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")


def pg_connect(dbname: str = "postgres") -> Any:
    import psycopg

    return psycopg.connect(
        f"{PG_ADMIN_URL}/{dbname}", autocommit=True, connect_timeout=3
    )


def drop_database(url: str, name: str) -> None:
    """Drop the benchmark's PostgreSQL database (nothing to do for a SQLite file)."""
    if url.startswith("postgres"):
        with pg_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bulk_insert(model: Any, columns: list[str], rows: Any) -> None:
    """Rows (tuples in ``columns`` order) into ``model``'s table: COPY on PostgreSQL,
    batched ``executemany`` elsewhere."""
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == 10_000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
