"""Elections with nominations, seconds and hustings, then voting (open selection)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from commonground.audit.models import AuditEntry
from commonground.decisions import services
from commonground.decisions.models import Election, Nomination, Option
from commonground.members.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def election(group, organiser, members):
    now = timezone.now()
    return services.election_create(
        actor=organiser,
        group=group,
        kind=Election.Kind.ELECTION,
        spec=services.ElectionSpec(
            title="Candidate selection",
            method="stv",
            seats=2,
            nominations_open_at=now - timedelta(minutes=1),
            nominations_close_at=now + timedelta(days=2),
            opens_at=now + timedelta(days=3),
            closes_at=now + timedelta(days=5),
            required_seconds=1,
        ),
    )


def test_only_organisers_and_returning_officers_create_elections(group, members):
    from factories import make_role

    officer = make_role(group, Role.RETURNING_OFFICER)
    spec = services.ElectionSpec(
        title="Q",
        method="approval",
        options=["A", "B"],
        closes_at=timezone.now() + timedelta(days=1),
    )
    with pytest.raises(PermissionDenied):
        services.election_create(
            actor=members[0], group=group, spec=spec, kind="question"
        )
    created = services.election_create(
        actor=officer, group=group, spec=spec, kind="question"
    )
    assert AuditEntry.objects.filter(
        action="election.created", target_id=str(created.pk)
    ).exists()


def test_phases_follow_from_the_times(election):
    assert election.phase_at(timezone.now()) == "nominations"
    assert election.phase_at(election.nominations_close_at) == "hustings"
    assert election.phase_at(election.opens_at) == "open"
    assert election.phase_at(election.closes_at) == "closed"


def test_members_nominate_themselves_and_others_second_them(
    election, members, outsider
):
    nomination = services.nomination_submit(
        member=members[0], election=election, statement="I will listen."
    )
    with pytest.raises(services.DecisionRefused, match="already"):
        services.nomination_submit(
            member=members[0], election=election, statement="Again"
        )
    with pytest.raises(services.DecisionRefused, match="Another member"):
        services.nomination_second(member=members[0], nomination=nomination)
    with pytest.raises(PermissionDenied):
        services.nomination_second(member=outsider, nomination=nomination)
    services.nomination_second(member=members[1], nomination=nomination)
    services.nomination_second(member=members[2], nomination=nomination)
    assert nomination.seconds.count() == 2
    assert AuditEntry.objects.filter(action="nomination.accepted").count() == 1


def test_no_nominations_after_they_close(election, members):
    late = election.nominations_close_at + timedelta(seconds=1)
    with (
        time_machine.travel(late),
        pytest.raises(services.DecisionRefused, match="not open"),
    ):
        services.nomination_submit(
            member=members[0], election=election, statement="Late"
        )


def test_opening_makes_candidates_of_seconded_standing_nominations_only(
    election, members, organiser
):
    standing = services.nomination_submit(
        member=members[0], election=election, statement="A"
    )
    services.nomination_second(member=members[1], nomination=standing)
    services.nomination_submit(
        member=members[2], election=election, statement="B"
    )  # no second
    rejected = services.nomination_submit(
        member=members[3], election=election, statement="C"
    )
    services.nomination_second(member=members[1], nomination=rejected)
    withdrawn = services.nomination_submit(
        member=members[4], election=election, statement="D"
    )
    services.nomination_second(member=members[1], nomination=withdrawn)
    second_standing = services.nomination_submit(
        member=members[5], election=election, statement="E"
    )
    services.nomination_second(member=members[0], nomination=second_standing)
    services.nomination_second(member=members[1], nomination=second_standing)
    services.nomination_reject(
        actor=organiser, nomination=rejected, reason="Not a member in good standing"
    )
    services.nomination_withdraw(member=members[4], nomination=withdrawn)
    with time_machine.travel(election.opens_at + timedelta(seconds=1)):
        services.ballot_cast(
            member=members[1], election=election, marks={"rank_1": "1", "rank_0": "2"}
        )
    options = list(Option.objects.filter(election=election))
    assert {o.nomination_id for o in options} == {standing.pk, second_standing.pk}
    labels = [o.label for o in options]
    assert labels == sorted(labels, key=str.casefold)
    assert {o.description for o in options} == {"A", "E"}
    with (
        time_machine.travel(election.opens_at + timedelta(seconds=2)),
        pytest.raises(services.DecisionRefused, match="frozen"),
    ):
        services.nomination_withdraw(member=members[0], nomination=standing)
    assert Nomination.objects.get(pk=rejected.pk).status == Nomination.Status.REJECTED


def test_opening_by_hand_seals_and_emails_the_roll(
    group, organiser, members, django_capture_on_commit_callbacks
):
    spec = services.ElectionSpec(
        title="Q", method="approval", options=["A", "B"], closes_at=None
    )
    created = services.election_create(
        actor=organiser, group=group, spec=spec, kind="question"
    )
    assert created.phase_at(timezone.now()) == "draft"
    with django_capture_on_commit_callbacks(execute=True):
        opened = services.election_open_now(
            actor=organiser,
            election=created,
            closes_at=timezone.now() + timedelta(days=1),
        )
    assert opened.seal.roll_size == 7
    assert len([m for m in mail.outbox if "] Voting is open" in m.subject]) == 7
    assert all(len(m.to) == 1 for m in mail.outbox)


def test_reminders_go_once_to_members_who_have_not_voted(
    open_ballot, members, django_capture_on_commit_callbacks
):
    election = open_ballot("approval", ["A", "B"])
    services.ballot_cast(member=members[0], election=election, marks={"approve": ["0"]})
    mail.outbox.clear()
    with time_machine.travel(election.closes_at - timedelta(hours=23)):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.elections_send_reminders() == 6
        with django_capture_on_commit_callbacks(execute=True):
            assert services.elections_send_reminders() == 0
    reminded = {m.to[0] for m in mail.outbox}
    assert members[0].email not in reminded and len(reminded) == 6


def test_results_are_emailed_once_when_counted(
    open_ballot, members, django_capture_on_commit_callbacks
):
    election = open_ballot("approval", ["A", "B"])
    services.ballot_cast(member=members[0], election=election, marks={"approve": ["1"]})
    mail.outbox.clear()
    with time_machine.travel(election.closes_at + timedelta(seconds=1)):
        with django_capture_on_commit_callbacks(execute=True):
            services.election_count(election_id=election.pk)
        with django_capture_on_commit_callbacks(execute=True):
            services.election_count(election_id=election.pk)
    results = [m for m in mail.outbox if "Results" in m.subject]
    assert len(results) == 7
    assert "Chosen: B" in results[0].body


def test_nominations_stop_at_the_counting_methods_candidate_limit(
    election, members, monkeypatch
):
    """Issue 17.9: the platform refuses more candidates than the engine counts
    (STV counts at most 500; a limit of 2 here keeps the test small)."""
    from commonground.decisions.services import nominations

    monkeypatch.setattr(nominations, "candidate_limit", lambda method, rules: 2)
    for member in members[:2]:
        services.nomination_submit(member=member, election=election, statement="Me")
    with pytest.raises(services.DecisionRefused, match="the most its counting"):
        services.nomination_submit(
            member=members[2], election=election, statement="Me too"
        )
    assert Nomination.objects.filter(election=election).count() == 2


def test_question_options_follow_the_engines_candidate_limit(group, organiser):
    from django.core.exceptions import ValidationError

    from commonground.engines.tally import limits_for

    limit = limits_for("schulze").candidates

    def spec(count: int) -> services.ElectionSpec:
        return services.ElectionSpec(
            title="Many",
            method="schulze",
            options=[f"Option {i}" for i in range(count)],
            closes_at=timezone.now() + timedelta(days=1),
        )

    with pytest.raises(ValidationError, match=f"at most {limit} options"):
        services.election_create(
            actor=organiser, group=group, spec=spec(limit + 1), kind="question"
        )
    created = services.election_create(
        actor=organiser, group=group, spec=spec(limit), kind="question"
    )
    assert created.options.count() == limit
