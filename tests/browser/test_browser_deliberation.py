"""The panel's space in a real browser: a panel member votes on a recommendation
with the keyboard only; the panel page, a session and the published
recommendations pass axe-core (no serious or critical violation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from assemblies.deliberation_support import at, later, make_panel
from commonground.assemblies.services import deliberation as panel_services
from commonground.decisions.models import Participation
from factories import PASSWORD

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
        if page.evaluate("document.activeElement && document.activeElement.id") == (
            element_id
        ):
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def test_a_panel_member_votes_with_the_keyboard_only(page, axe_check):
    setup = make_panel()
    session = panel_services.session_schedule(
        actor=setup.organiser,
        assembly=setup.assembly,
        spec=panel_services.SessionSpec(
            title="Buses",
            starts_at=datetime(2030, 3, 2, 9, tzinfo=UTC),
            ends_at=datetime(2030, 3, 2, 12, tzinfo=UTC),
            materials="Read [the review](https://example.org/review).",
            speakers=[panel_services.SpeakerSpec(name="Dr Costa", role="Economist")],
        ),
    )
    recommendation = panel_services.recommendation_draft(
        actor=setup.panel[0],
        assembly=setup.assembly,
        title="Buses every ten minutes",
        text="On every **main road**.",
    )
    panel_services.panel_vote_open(
        actor=setup.organiser,
        assembly=setup.assembly,
        closes_at=timezone.now() + timedelta(days=1),
    )
    recommendation.refresh_from_db()
    _log_in(page, setup.panel[1].email)
    page.goto(f"/assemblies/{setup.assembly.slug}/panel/")
    axe_check(page)
    _tab_to(page, f"choice-{recommendation.pk}-yes")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # the radio group is one stop: on to the button
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")
    page.get_by_text("Your vote on recommendation 1 is recorded").wait_for()
    assert Participation.objects.filter(
        election=recommendation.election, member=setup.panel[1]
    ).exists()
    axe_check(page)
    page.goto(session.get_absolute_url())
    page.get_by_text("Dr Costa").wait_for()
    axe_check(page)


def test_the_published_recommendations_pass_axe(page, axe_check):
    setup = make_panel()
    recommendation = panel_services.recommendation_draft(
        actor=setup.panel[0], assembly=setup.assembly, title="Trams", text="Build."
    )
    panel_services.panel_vote_open(
        actor=setup.organiser, assembly=setup.assembly, closes_at=later(1)
    )
    recommendation.refresh_from_db()
    for member in setup.panel:
        panel_services.panel_ballot_cast(
            member=member, recommendation=recommendation, choice="yes"
        )
    with at(later(2)):
        panel_services.recommendations_publish(
            actor=setup.organiser, assembly=setup.assembly
        )
    _log_in(page, setup.organiser.email)
    page.goto(f"/assemblies/{setup.assembly.slug}/recommendations/")
    page.get_by_text("Adopted by the panel").first.wait_for()
    axe_check(page)
