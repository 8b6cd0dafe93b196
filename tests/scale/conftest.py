"""The ``stack`` fixture: the processes one scale or fault test starts and stops."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from scale.processes import Stack, ops_redis_url


@pytest.fixture
def stack(tmp_path) -> Iterator[Stack]:
    ops_redis_url()  # skips without Redis (fails in CI)
    running = Stack(queue=f"cg-helper-ops-{uuid.uuid4().hex[:12]}", workdir=tmp_path)
    try:
        yield running
    finally:
        running.close()
