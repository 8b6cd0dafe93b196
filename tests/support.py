"""Helpers shared by the tests (import as ``from support import ...``).

Third-party conformance data lives in ``../shared/data`` beside the repository.
On a user's machine without it those tests skip; in CI (``CI=true``) they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
SHARED_DATA = (REPOSITORY / ".." / "shared" / "data").resolve()


def shared_data(*parts: str) -> Path:
    """Path to a third-party data folder; skip (or fail in CI) when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        message = f"third-party data not found: {path}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: conformance tests must run)")
        pytest.skip(message)
    return path
