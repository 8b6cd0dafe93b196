"""Health checks: /healthz (liveness, no dependencies) and /readyz (database, Redis)."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError
from django.test import override_settings

from celery_worker import redis_url

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = "redis://127.0.0.1:9/0"  # the discard port: nothing answers


def test_liveness_answers_without_touching_the_database(
    client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert (
        "no-cache" in response["Cache-Control"]
        or "max-age=0" in response["Cache-Control"]
    )


def test_readiness_is_ok_when_the_database_answers_and_redis_is_not_used(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert json.loads(response.content) == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "not configured"},
    }


def test_readiness_is_503_when_the_database_does_not_answer(client, monkeypatch):
    from commonground.core import views

    class LostConnection:
        def cursor(self):
            raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(views, "connection", LostConnection())
    response = client.get("/readyz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["checks"]["database"] == "unavailable"
    assert "server closed" not in response.content.decode()  # reasons stay in the log


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": UNREACHABLE_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    },
    CELERY_BROKER_URL=UNREACHABLE_REDIS,
)
def test_readiness_is_503_when_redis_does_not_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert json.loads(response.content)["checks"] == {
        "database": "ok",
        "redis": "unavailable",
    }


def test_readiness_checks_the_cache_and_the_broker_on_a_real_redis(client):
    url = redis_url()  # skips without Redis (fails in CI)
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
            }
        },
        CELERY_BROKER_URL=url,
    ):
        response = client.get("/readyz")
    assert response.status_code == 200
    assert json.loads(response.content)["checks"]["redis"] == "ok"


@override_settings(ALLOWED_HOSTS=["members.example.org"])
def test_the_container_health_check_script_asks_as_the_public_site(client):
    """deploy/healthcheck.py sends the site's host and X-Forwarded-Proto: https."""
    response = client.get(
        "/readyz", HTTP_HOST="members.example.org", HTTP_X_FORWARDED_PROTO="https"
    )
    assert response.status_code == 200
