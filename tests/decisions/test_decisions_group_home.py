"""The decisions section on a group's home: its count, what needs the member, activity."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commonground.decisions import services

pytestmark = pytest.mark.django_db


def _publish(group, author, title):
    proposal = services.proposal_create(
        author=author, group=group, title=title, text="Why and how."
    )
    return services.proposal_publish(actor=author, proposal=proposal)


def test_open_ballots_and_proposals_are_counted_and_wait_for_the_member(
    client, group, members, open_ballot
):
    election = open_ballot(method="approval")
    _publish(group, members[0], "Community energy")
    client.force_login(members[1])
    page = client.get(f"/groups/{group.slug}/").content.decode()
    nav = page[page.index('class="group-nav"') :]
    decisions = nav[nav.index("Proposals and ballots") :].split("</a>")[0]
    assert decisions.endswith('<span class="badge">2</span>')
    needs = page[page.index("Needs you now") : page.index("Recent activity")]
    assert f"Vote: {election.title}" in needs
    assert "Community energy: " in needs and "more supporter" in needs
    activity = page[page.index("Recent activity") :]
    assert f"Ballot opened: {election.title}" in activity
    assert "Proposal published: Community energy" in activity


def test_a_ballot_already_voted_in_no_longer_needs_the_member(
    client, group, members, open_ballot
):
    election = open_ballot()
    services.ballot_cast(member=members[1], election=election, marks={"rank_0": "1"})
    client.force_login(members[1])
    page = client.get(f"/groups/{group.slug}/").content.decode()
    assert f"Vote: {election.title}" not in page


def _queries(client, path):
    client.get(path)
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


def test_group_home_runs_the_same_queries_whatever_the_number_of_items(
    client, group, members, organiser, open_ballot
):
    client.force_login(organiser)
    open_ballot()
    _publish(group, members[0], "First")
    few = _queries(client, f"/groups/{group.slug}/")
    for index in range(6):
        open_ballot(method="approval")
        _publish(group, members[index % len(members)], f"Proposal {index}")
    assert _queries(client, f"/groups/{group.slug}/") == few
