#!/usr/bin/env bash
# Runs the whole suite: on SQLite, then on PostgreSQL when it is reachable.
# In CI (CI=true) PostgreSQL and the browser are required, never skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DJANGO_SETTINGS_MODULE=commonground.site.settings
export PYTHONHASHSEED=0
workers="${PYTEST_WORKERS:-auto}"

postgres_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/commonground}"
postgres_reachable() {
  "$BIN/python" - "$postgres_url" <<'PY'
import sys, psycopg
url = sys.argv[1].replace("postgres://", "postgresql://", 1)
try:
    psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=3).close()
except Exception as error:
    print(f"PostgreSQL not reachable at {url}: {error}", file=sys.stderr)
    sys.exit(1)
PY
}

echo "== Pass 1: whole suite on SQLite =="
env -u DATABASE_URL "$BIN/python" -m pytest -n "$workers" -m "not postgres_only" "$@"

if postgres_reachable; then
  echo "== Pass 2: platform tests on PostgreSQL ($postgres_url) =="
  DATABASE_URL="$postgres_url" "$BIN/python" -m pytest -n "$workers" \
    --ignore=tests/engines --ignore=tests/browser "$@"
else
  if [ "${CI:-}" = "true" ]; then
    echo "CI=true and PostgreSQL is not reachable: failing." >&2
    exit 1
  fi
  echo "NOTE: PostgreSQL is not reachable, so the PostgreSQL pass was skipped:" >&2
  echo "      the platform tests ran on SQLite only, and the tests marked" >&2
  echo "      postgres_only (real concurrent connections) did not run." >&2
fi
