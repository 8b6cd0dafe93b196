"""Prometheus metrics: a protected endpoint, casts, queue depth, task durations."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import redis
import time_machine
from django.test import override_settings
from django.utils import timezone

from celery_worker import redis_url
from commonground.core import metrics
from commonground.decisions import services, tasks
from commonground.members.models import Role
from factories import make_group, make_member, make_role

pytestmark = pytest.mark.django_db


def _sample(body: str, name: str, labels: str = "") -> float:
    pattern = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "")
    match = re.search(rf"^{pattern} (\S+)$", body, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def _scrape(client) -> str:
    with override_settings(METRICS_TOKEN="scrape-token-for-tests"):
        response = client.get(
            "/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-for-tests"
        )
    assert response.status_code == 200
    return response.content.decode()


def test_the_metrics_endpoint_is_not_public_by_default(client):
    assert client.get("/metrics").status_code == 404


@override_settings(METRICS_TOKEN="right-token")
def test_the_metrics_endpoint_wants_the_bearer_token(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer right-token")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "django_http_requests_total_by_method" in response.content.decode()


@override_settings(METRICS_ALLOWED_NETWORKS=["10.0.0.0/8", "127.0.0.1/32"])
def test_the_metrics_endpoint_answers_only_allowed_networks(client):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 404


@override_settings(METRICS_TOKEN="t", METRICS_ALLOWED_NETWORKS=["10.0.0.0/8"])
def test_with_both_set_the_scraper_needs_the_token_and_the_network(client):
    token = {"HTTP_AUTHORIZATION": "Bearer t"}
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.5", **token).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7", **token).status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.5").status_code == 404


@pytest.fixture
def ballot():
    group = make_group(name="Metrics branch")
    organiser = make_role(group, Role.ORGANISER)
    voters = [make_member(group) for _ in range(2)]
    now = timezone.now()
    election = services.election_create(
        actor=organiser,
        group=group,
        kind="question",
        spec=services.ElectionSpec(
            title="Counted",
            method="yes_no",
            options=["Yes", "No", "Abstain"],
            opens_at=now,
            closes_at=now + timedelta(hours=1),
            allow_revote=False,
        ),
    )
    return election, voters


def test_casts_are_counted_by_outcome(client, ballot):
    election, (voter, _) = ballot
    before = _scrape(client)
    client.force_login(voter)
    vote = f"/decisions/ballots/{election.pk}/vote/"
    assert client.post(vote, {"choice": "0"}).status_code == 201
    assert client.post(vote, {"choice": "1"}).status_code != 201  # no re-vote here
    after = _scrape(client)
    name = "commonground_ballot_casts_total"
    assert (
        _sample(after, name, 'outcome="recorded"')
        == _sample(before, name, 'outcome="recorded"') + 1
    )
    assert (
        _sample(after, name, 'outcome="not_recorded"')
        == _sample(before, name, 'outcome="not_recorded"') + 1
    )


def test_counting_tasks_are_timed(client, ballot):
    election, voters = ballot
    for voter in voters:
        services.ballot_cast(member=voter, election=election, marks={"choice": "0"})
    before = _scrape(client)
    with time_machine.travel(election.closes_at + timedelta(seconds=1), tick=False):
        tasks.count_election.apply(args=[election.pk]).get()
    after = _scrape(client)
    count = "commonground_count_duration_seconds_count"
    assert _sample(after, count) == _sample(before, count) + 1
    task = "commonground_task_duration_seconds_count"
    labels = 'outcome="success",task="decisions.count_election"'
    assert _sample(after, task, labels) == _sample(before, task, labels) + 1


def test_queue_depth_is_read_from_the_redis_broker():
    url = redis_url()  # skips without Redis (fails in CI)
    queue = f"commonground-metrics-test-{uuid.uuid4().hex}"
    with redis.Redis.from_url(url) as client:
        client.rpush(queue, "a", "b", "c")
        try:
            (family,) = metrics.QueueDepthCollector(url, [queue]).collect()
        finally:
            client.delete(queue)
    assert [(s.labels, s.value) for s in family.samples] == [({"queue": queue}, 3.0)]


def test_an_unreachable_broker_shows_as_minus_one_not_an_error():
    (family,) = metrics.QueueDepthCollector(
        "redis://127.0.0.1:9/0", ["celery"]
    ).collect()
    assert [s.value for s in family.samples] == [-1.0]


def test_a_broker_that_is_not_redis_reports_no_depth():
    assert (
        list(metrics.QueueDepthCollector("memory://localhost/", ["celery"]).collect())
        == []
    )
