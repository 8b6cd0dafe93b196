"""Platform-wide fixtures. Engine tests do not need Django and ignore these."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# No per-example deadline (the machine may be loaded); in CI the examples are
# derandomised so a run is reproducible and never flaky, while local runs explore.
hypothesis_settings.register_profile(
    "commonground",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=os.environ.get("CI", "").lower() == "true",
)
hypothesis_settings.load_profile("commonground")


@pytest.fixture
def password():
    from factories import PASSWORD

    return PASSWORD


@pytest.fixture
def user(db):
    from factories import UserFactory

    return UserFactory()


@pytest.fixture
def branch(db):
    from factories import make_group

    return make_group(name="Leeds branch")


def pytest_runtest_setup(item):
    """postgres_only tests need real PostgreSQL; `make test` deselects them on SQLite."""
    if item.get_closest_marker("postgres_only"):
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL (make test runs it on the PostgreSQL pass)")


def pytest_configure(config):
    """Fast password hashing in tests (the production hasher is deliberately slow)."""
    try:
        from django.conf import settings
    except ImportError:  # engine-only runs without Django
        return
    if settings.configured:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache(request):
    """Each platform test starts with an empty cache (rate limits, cached checks)."""
    if (
        "django_db_setup" not in request.fixturenames
        and not request.node.get_closest_marker("django_db")
    ):
        yield
        return
    from django.core.cache import cache

    cache.clear()
    yield


def pytest_sessionstart(session):
    """The global write throttle is tested on its own (tests/core/test_core_throttle.py);
    elsewhere it would make tests depend on how many POSTs they send."""
    try:
        from django.conf import settings
    except ImportError:
        return
    if settings.configured:
        settings.WRITE_THROTTLE_PER_MINUTE = 0
