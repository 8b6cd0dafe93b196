"""Request ids, JSON logs without ballots or personal data, and error reports (Sentry)."""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import time_machine
from django.db import OperationalError
from django.utils import timezone

from commonground.core.observability import JsonFormatter, RequestContextFilter
from commonground.decisions import services
from commonground.members.models import Role
from factories import make_group, make_member, make_role

pytestmark = pytest.mark.django_db

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_log():
    """Every logger at DEBUG into one JSON handler, as production writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter())
    root, requests = logging.getLogger(), logging.getLogger("commonground.request")
    previous = root.level, requests.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    requests.setLevel(logging.DEBUG)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(previous[0])
        requests.setLevel(previous[1])


def test_every_response_carries_a_request_id(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_well_formed_incoming_request_id_is_kept_and_a_bad_one_replaced(client):
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a9c21-0001")
    assert kept["X-Request-ID"] == "lb-7f3a9c21-0001"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="x\nforged log line")
    assert replaced["X-Request-ID"] != "x\nforged log line"
    assert len(replaced["X-Request-ID"]) == 32


@pytest.fixture
def electorate():
    """An open score ballot and three voters (made before the logs are captured)."""
    group = make_group(name="Logging branch")
    organiser = make_role(group, Role.ORGANISER)
    voters = [make_member(group) for _ in range(3)]
    now = timezone.now()
    election = services.election_create(
        actor=organiser,
        group=group,
        kind="question",
        spec=services.ElectionSpec(
            title="Sentinel question",
            method="score",
            options=["Alpha", "Beta"],
            opens_at=now,
            closes_at=now + timedelta(hours=1),
        ),
    )
    return election, organiser, voters


def test_a_whole_election_leaves_no_ballot_or_personal_data_in_the_logs(
    client, electorate, json_log
):
    """T8 for logs: every logger at DEBUG, JSON, through a full election."""
    election, organiser, voters = electorate
    sentinels = ["4", "3", "2"]  # distinct score marks
    for voter, score in zip(voters, sentinels, strict=True):
        client.force_login(voter)
        response = client.post(
            f"/decisions/ballots/{election.pk}/vote/",
            {"score_0": score, "score_1": "1"},
        )
        assert response.status_code == 201
    with time_machine.travel(election.closes_at + timedelta(seconds=1), tick=False):
        assert (
            client.get(f"/decisions/ballots/{election.pk}/results/").status_code == 200
        )
    lines = json_log()
    text = "\n".join(json.dumps(line) for line in lines)
    from commonground.decisions.models import Ballot

    for payload in Ballot.objects.values_list("payload", flat=True):
        assert payload not in text
        assert json.dumps(payload) not in text
    for person in [*voters, organiser]:
        assert person.email not in text
        assert person.display_name not in text
    casts = [
        line
        for line in lines
        if line["logger"] == "commonground.request"
        and line.get("view") == "decisions:election_vote"
    ]
    assert [line["user_id"] for line in casts] == [voter.pk for voter in voters]
    assert {line["route"] for line in casts} == {"decisions/ballots/<int:pk>/vote/"}
    assert all(line["status_code"] == 201 and line["request_id"] for line in casts)


def test_request_paths_with_tokens_are_withheld_from_django_warnings(client, json_log):
    client.get("/accounts/password/reset/key/zz-secret-token-123/nowhere/?email=a@b.c")
    text = json.dumps(json_log())
    assert "secret-token" not in text
    assert "a@b.c" not in text


def test_database_error_details_quoting_row_values_are_withheld(json_log):
    try:
        raise OperationalError(
            "duplicate key value\nDETAIL:  Key (email)=(ann@example.org) exists."
        )
    except OperationalError:
        logging.getLogger("commonground.test").exception("insert failed")
    (line,) = [line for line in json_log() if line["logger"] == "commonground.test"]
    assert "ann@example.org" not in json.dumps(line)
    assert "DETAIL: [withheld]" in line["exc_info"]


def test_string_extras_pass_only_by_name():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)
    record.route = "decisions/ballots/<int:pk>/vote/"
    record.email = "ann@example.org"
    record.count = 3
    RequestContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["route"] == "decisions/ballots/<int:pk>/vote/"
    assert line["count"] == 3
    assert "email" not in line


# --- error reports to a Sentry-compatible endpoint -------------------------------------

SENTRY_SCRIPT = r"""
import django, os
django.setup()
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path
import sentry_sdk

def cast(request):
    secret_marks = dict(request.POST)  # a local variable holding a ballot
    raise RuntimeError("ballot box exploded")

urlpatterns = [path("boom/", cast)]
with override_settings(
    ROOT_URLCONF="__main__",
    ALLOWED_HOSTS=["testserver"],
    SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
):
    response = Client(raise_request_exception=False).post(
        "/boom/?member=ann@example.org", {"choice": os.environ["BALLOT_SENTINEL"]},
        HTTP_COOKIE="sessionid=session-secret-value",
        HTTP_X_REQUEST_ID="req-0123456789",
    )
assert response.status_code == 500, response.status_code
sentry_sdk.flush(10)
"""


class _Envelopes(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


def test_errors_reach_a_sentry_compatible_endpoint_without_ballots_or_personal_data(
    tmp_path,
):
    server = HTTPServer(("127.0.0.1", 0), _Envelopes)
    _Envelopes.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sentinel = "SENTINEL-CANDIDATE-7c1e"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="commonground.site.settings",
        DJANGO_DEBUG="false",
        SENTRY_DSN=f"http://publickey@127.0.0.1:{server.server_port}/1",
        COMMONGROUND_HOME=str(tmp_path),
        BALLOT_SENTINEL=sentinel,
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", SENTRY_SCRIPT],
            cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr[-3000:]
    envelopes = b"\n".join(_Envelopes.received).decode()
    assert "ballot box exploded" in envelopes
    assert "req-0123456789" in envelopes  # the request id, to find the log lines
    for secret in (sentinel, "ann@example.org", "session-secret-value"):
        assert secret not in envelopes, secret
    assert '"vars"' not in envelopes  # no local variables of any frame
