"""A question on an explicit roll (``election_open_with_roll``): exactly the named
members vote, members of the group or not; everyone else is refused."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from commonground.decisions import services
from commonground.decisions.models import EligibleVoter
from commonground.decisions.services import sealing

pytestmark = pytest.mark.django_db


def _spec(**changes):
    fields = {
        "title": "Adopt recommendation 1?",
        "method": "yes_no",
        "options": ["Yes", "No", "Abstain"],
        "closes_at": timezone.now() + timedelta(days=2),
    }
    fields.update(changes)
    return services.ElectionSpec(**fields)


def test_the_roll_is_exactly_the_named_members_and_only_they_vote(
    group, organiser, members, outsider
):
    chosen = [members[0], members[1], outsider]
    election = services.election_open_with_roll(
        actor=organiser,
        group=group,
        spec=_spec(),
        member_ids=[u.pk for u in chosen] + [members[0].pk],
    )
    assert election.phase_at(timezone.now()) == "open"
    assert set(sealing.sealed_roll_member_ids(election)) == {u.pk for u in chosen}
    assert election.seal.roll_size == 3
    receipt = services.ballot_cast(
        member=outsider, election=election, marks={"choice": "0"}
    )
    assert receipt.tracker
    with pytest.raises(services.DecisionRefused) as refused:
        services.ballot_cast(
            member=members[2], election=election, marks={"choice": "0"}
        )
    assert refused.value.status == 403
    assert EligibleVoter.objects.filter(election=election).count() == 3


def test_only_those_who_run_ballots_open_one_and_the_roll_is_not_empty(
    group, organiser, members
):
    with pytest.raises(PermissionDenied):
        services.election_open_with_roll(
            actor=members[0], group=group, spec=_spec(), member_ids=[members[1].pk]
        )
    with pytest.raises(ValidationError):
        services.election_open_with_roll(
            actor=organiser, group=group, spec=_spec(), member_ids=[]
        )
    with pytest.raises(ValidationError):
        services.election_open_with_roll(
            actor=organiser,
            group=group,
            spec=_spec(closes_at=timezone.now() - timedelta(minutes=1)),
            member_ids=[members[1].pk],
        )


def test_the_count_checks_the_explicit_roll_against_its_seal(group, organiser, members):
    election = services.election_open_with_roll(
        actor=organiser,
        group=group,
        spec=_spec(),
        member_ids=[members[0].pk, members[1].pk],
    )
    for member, choice in ((members[0], "0"), (members[1], "0")):
        services.ballot_cast(member=member, election=election, marks={"choice": choice})
    later = timezone.now() + timedelta(days=3)
    with mock.patch.object(services.elections.clock, "now", return_value=later):
        result = services.election_count(election_id=election.pk)
    assert result.roll_size == 2
    assert result.outcome["passed"] is True
