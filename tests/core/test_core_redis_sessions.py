"""The shared cache keeps one Redis client per pool, and an unchanged session is
refreshed with one EXPIRE instead of being rewritten (core.cache, core.sessions)."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.core.cache import caches
from django.test import override_settings

from celery_worker import redis_url
from commonground.core.sessions import SessionStore


@pytest.fixture
def redis_cache_settings():
    url = redis_url()  # skips without Redis (fails in CI)
    prefix = f"test-{uuid.uuid4().hex}"
    settings = {
        "CACHES": {
            "default": {
                "BACKEND": "commonground.core.cache.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": prefix,
            }
        },
        "SESSION_ENGINE": "commonground.core.sessions",
    }
    with override_settings(**settings):
        yield  # every key written has a lifetime of its own: nothing to clear


def _client_and_key(store: SessionStore):
    cache = caches["default"]
    key = cache.make_and_validate_key(store.cache_key)
    return cache._cache.get_client(key), key


def _ttl(store: SessionStore) -> int:
    client, key = _client_and_key(store)
    return int(client.ttl(key))


def test_the_cache_answers_like_djangos_and_reuses_one_client(redis_cache_settings):
    cache = caches["default"]
    assert cache.add("counter", 0, timeout=60)
    assert not cache.add("counter", 5, timeout=60)
    assert cache.incr("counter") == 1
    cache.set("thing", {"a": [1, 2]}, timeout=60)
    assert cache.get("thing") == {"a": [1, 2]}
    assert cache.touch("thing", timeout=120)
    assert cache._cache.get_client("thing") is cache._cache.get_client("counter")


def test_an_unchanged_session_gets_a_new_lifetime_and_keeps_its_data(
    redis_cache_settings,
):
    store = SessionStore()
    store["_auth_user_id"] = "7"
    store.set_expiry(60)
    store.create()
    assert _ttl(store) <= 60
    loaded = SessionStore(session_key=store.session_key)
    assert loaded["_auth_user_id"] == "7"
    loaded.set_expiry(None)  # modified: a real save
    loaded.save()
    client, key = _client_and_key(store)
    client.expire(key, 30)
    again = SessionStore(session_key=store.session_key)
    assert again["_auth_user_id"] == "7" and not again.modified
    again.save()  # unchanged: only the expiry moves
    assert _ttl(again) > 60
    assert SessionStore(session_key=store.session_key)["_auth_user_id"] == "7"


def test_a_session_that_vanished_is_refused_as_django_refuses_it(
    redis_cache_settings,
):
    store = SessionStore()
    store["_auth_user_id"] = "7"
    store.create()
    loaded = SessionStore(session_key=store.session_key)
    assert loaded["_auth_user_id"] == "7"
    caches["default"].delete(store.cache_key)
    with pytest.raises(UpdateError):
        loaded.save()
