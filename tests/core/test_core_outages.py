"""A lost database connection gives a 'please try again' page, never a 500.

These fake the failure in-process; tests/scale/test_scale_faults.py drops a real
PostgreSQL connection in the middle of a cast served by gunicorn.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from commonground.decisions import services
from commonground.decisions.models import Ballot
from commonground.members.models import Role
from factories import make_group, make_member, make_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast_url_and_voter():
    group = make_group(name="Outage branch")
    organiser = make_role(group, Role.ORGANISER)
    voter = make_member(group)
    now = timezone.now()
    election = services.election_create(
        actor=organiser,
        group=group,
        kind="question",
        spec=services.ElectionSpec(
            title="Outage",
            method="yes_no",
            options=["Yes", "No", "Abstain"],
            opens_at=now,
            closes_at=now + timedelta(hours=1),
        ),
    )
    return f"/decisions/ballots/{election.pk}/vote/", voter


@pytest.fixture
def lost_connection(monkeypatch):
    def fail(**kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(services, "ballot_cast", fail)


def test_a_cast_that_loses_the_database_asks_the_member_to_try_again(
    client, cast_url_and_voter, lost_connection
):
    url, voter = cast_url_and_voter
    client.force_login(voter)
    response = client.post(url, {"choice": "0"})
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert "Please try again" in page
    assert "voting again is safe" in page
    assert response["X-Request-ID"] in page  # the reference to give the organisers
    assert Ballot.objects.count() == 0


def test_htmx_casts_get_the_message_in_place_of_the_main_content(
    client, cast_url_and_voter, lost_connection
):
    url, voter = cast_url_and_voter
    client.force_login(voter)
    response = client.post(url, {"choice": "0"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert response["HX-Retarget"] == "#main"
    assert "<html" not in response.content.decode()
    assert "Please try again" in response.content.decode()


def test_a_lost_connection_outside_the_view_is_the_same_page(client, monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore

    def fail(self, *args, **kwargs):
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(SessionStore, "load", fail)
    client.raise_request_exception = False
    client.cookies["sessionid"] = "x" * 32
    response = client.get("/dashboard/")
    assert response.status_code == 503
    assert "reload the page" in response.content.decode()


def test_other_errors_still_give_the_error_page(
    client, cast_url_and_voter, monkeypatch
):
    url, voter = cast_url_and_voter

    def fail(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "ballot_cast", fail)
    client.raise_request_exception = False
    client.force_login(voter)
    assert client.post(url, {"choice": "0"}).status_code == 500
