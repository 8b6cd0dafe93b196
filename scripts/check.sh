#!/usr/bin/env bash
# Static checks: lint, format, types, migrations, import contract, deploy checks.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DJANGO_SETTINGS_MODULE=commonground.site.settings
echo "== ruff lint ==";   "$BIN/ruff" check src tests benchmarks
echo "== ruff format =="; "$BIN/ruff" format --check src tests benchmarks
echo "== mypy ==";        "$BIN/mypy" src
echo "== migrations =="; "$BIN/python" manage.py makemigrations --check --dry-run
echo "== import contract =="; "$BIN/lint-imports"
echo "== deploy check (production settings) =="
DJANGO_SETTINGS_MODULE=commonground.site.settings_production \
DJANGO_SECRET_KEY="check-deploy-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
DJANGO_ALLOWED_HOSTS=commonground.example.org \
  "$BIN/python" manage.py check --deploy --fail-level WARNING
