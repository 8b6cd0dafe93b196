"""A secret ballot in a real browser: ranking with the keyboard only, the tracker,
the published result with the tracker in the list, and axe-core on both pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from commonground.decisions import services
from commonground.members.models import Role
from factories import PASSWORD, make_group, make_member, make_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(page, email):
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def _tab_to(page, element_id: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if (
            page.evaluate("document.activeElement && document.activeElement.id")
            == element_id
        ):
            return
    raise AssertionError(f"could not reach #{element_id} with the Tab key")


def _ballot(group):
    organiser = make_role(group, Role.ORGANISER)
    voters = [make_member(group) for _ in range(4)]
    member = make_member(group)
    now = timezone.now()
    election = services.election_create(
        actor=organiser,
        group=group,
        kind="question",
        spec=services.ElectionSpec(
            title="Who chairs the branch?",
            method="irv",
            options=["Ann", "Bo", "Cy", "Di"],
            opens_at=now,
            closes_at=now + timedelta(minutes=5),
        ),
    )
    for voter, order in zip(voters, [(0, 1), (1,), (2, 1), (3, 0)], strict=True):
        marks = {f"rank_{p}": str(rank) for rank, p in enumerate(order, start=1)}
        services.ballot_cast(member=voter, election=election, marks=marks)
    return election, member


def test_member_ranks_with_the_keyboard_casts_and_finds_the_tracker_after_close(
    page, axe_check
):
    group = make_group(name="Leeds branch")
    election, member = _ballot(group)
    _log_in(page, member.email)
    page.goto(f"/decisions/ballots/{election.pk}/")
    axe_check(page)

    # Keyboard only: Tab to each rank control and type the rank.
    for position, rank in ((0, "2"), (1, "1"), (2, "3")):
        _tab_to(page, f"id_rank_{position}")
        page.keyboard.type(rank)
    _tab_to(page, "id_rank_3")
    page.keyboard.press("Tab")
    assert (
        page.evaluate("document.activeElement.textContent.trim()") == "Cast my ballot"
    )
    page.keyboard.press("Enter")
    tracker = page.locator("#tracker")
    tracker.wait_for()
    code = tracker.inner_text().strip()
    assert len(code) == 16
    assert page.locator("#ballot").evaluate("node => node === document.activeElement")

    # Nobody sees a result before close.
    assert page.request.get(f"/decisions/ballots/{election.pk}/results/").status == 404

    with time_machine.travel(election.closes_at + timedelta(seconds=1), tick=True):
        response = page.goto(f"/decisions/ballots/{election.pk}/results/")
        assert response.status == 200
        assert code in page.locator("#tracker-list").inner_text()
        assert "Bo" in page.locator("#outcome").inner_text()
        page.locator("#result-bars svg").first.wait_for()
        page.locator("#result-sankey svg").first.wait_for()
        axe_check(page)


def test_ranked_ballot_works_without_javascript_and_shows_field_errors(new_page):
    group = make_group(name="Leeds branch")
    election, member = _ballot(group)
    page = new_page(java_script_enabled=False)
    _log_in(page, member.email)
    page.goto(f"/decisions/ballots/{election.pk}/")
    page.select_option("#id_rank_0", "1")
    page.select_option("#id_rank_1", "1")
    page.get_by_role("button", name="Cast my ballot").click()
    assert page.locator("#id_rank_0_error").is_visible()
    assert page.locator("#id_rank_1_error").is_visible()
    page.select_option("#id_rank_1", "2")
    page.get_by_role("button", name="Cast my ballot").click()
    assert len(page.locator("#tracker").inner_text().strip()) == 16


def test_election_with_statements_and_proposal_pages_pass_axe(page, axe_check):
    group = make_group(name="Leeds branch")
    officer = make_role(group, Role.RETURNING_OFFICER)
    nominees = [make_member(group) for _ in range(4)]
    member = make_member(group)
    now = timezone.now()
    election = services.election_create(
        actor=officer,
        group=group,
        kind="election",
        spec=services.ElectionSpec(
            title="Delegates",
            method="stv",
            seats=2,
            nominations_open_at=now - timedelta(minutes=5),
            nominations_close_at=now + timedelta(minutes=5),
            closes_at=None,
        ),
    )
    for nominee in nominees:
        nomination = services.nomination_submit(
            member=nominee, election=election, statement="I *will* listen."
        )
        services.nomination_second(member=member, nomination=nomination)
    proposal = services.proposal_publish(
        actor=member,
        proposal=services.proposal_create(
            author=member, group=group, title="Rent caps", text="## Why\n\n- homes"
        ),
    )
    _log_in(page, member.email)
    page.goto(f"/decisions/ballots/{election.pk}/")
    axe_check(page)
    page.goto(f"/decisions/proposals/{proposal.pk}/")
    axe_check(page)
    page.goto(f"/decisions/groups/{group.slug}/")
    axe_check(page)
