"""Proposals: drafts, publication, amendments, support thresholds and outcomes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from commonground.audit.models import AuditEntry
from commonground.decisions import services
from commonground.decisions.models import Amendment, Election, Proposal
from commonground.decisions.tasks import decisions_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal(members, organiser):
    # 7 members (organiser + 6): 30% needs ceil(2.1) = 3 supporters.
    draft = services.proposal_create(
        author=members[0],
        group=members[0].memberships.get().group,
        title="Rent caps now",
        text="We **campaign** for rent caps.",
        coauthors=[members[1]],
        support_share_percent=30,
        support_period_days=14,
    )
    return services.proposal_publish(actor=members[0], proposal=draft)


def test_a_member_drafts_and_publishes_with_coauthors(members, group):
    draft = services.proposal_create(
        author=members[0], group=group, title="T", text="x", coauthors=[members[1]]
    )
    assert draft.status == Proposal.Status.DRAFT
    services.proposal_update(
        actor=members[1], proposal=draft, title="T2", text="y", coauthors=[members[1]]
    )
    published = services.proposal_publish(actor=members[1], proposal=draft)
    assert published.status == Proposal.Status.DISCUSSION
    assert published.supporters_needed == 1  # 10% of 7, rounded up
    assert AuditEntry.objects.filter(action="proposal.published").count() == 1


def test_a_non_member_cannot_propose_and_a_non_author_cannot_publish(
    group, members, outsider
):
    with pytest.raises(PermissionDenied):
        services.proposal_create(author=outsider, group=group, title="T", text="x")
    draft = services.proposal_create(
        author=members[0], group=group, title="T", text="x"
    )
    with pytest.raises(PermissionDenied):
        services.proposal_publish(actor=members[2], proposal=draft)


def test_enough_supporters_send_it_to_a_ballot_automatically(proposal, members):
    services.proposal_support(member=members[2], proposal=proposal)
    services.proposal_support(member=members[3], proposal=proposal)
    services.proposal_support(member=members[3], proposal=proposal)  # counted once
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.DISCUSSION
    services.proposal_support(member=members[4], proposal=proposal)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.BALLOT
    election = Election.objects.get(proposal=proposal, kind=Election.Kind.PROPOSAL)
    assert election.method == "yes_no" and election.seal.roll_size == 7
    assert AuditEntry.objects.get(action="proposal.sent_to_ballot").actor_id is None


def test_the_periodic_check_is_idempotent_and_lapses_unsupported_proposals(
    proposal, members, group
):
    services.proposal_support(member=members[2], proposal=proposal)
    decisions_sweep.delay().get()
    decisions_sweep.delay().get()
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.DISCUSSION
    with time_machine.travel(proposal.support_closes_at + timedelta(seconds=1)):
        assert services.proposals_check_support() == {"sent": 0, "lapsed": 1}
        assert services.proposals_check_support() == {"sent": 0, "lapsed": 0}
        with pytest.raises(services.DecisionRefused):
            services.proposal_support(member=members[3], proposal=proposal)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.LAPSED


def test_periodic_check_sends_a_proposal_whose_threshold_was_reached(proposal, members):
    from commonground.decisions.models import ProposalSupport

    for member in members[2:5]:
        ProposalSupport.objects.create(
            proposal=proposal, member=member, created_at=proposal.published_at
        )
    assert services.proposals_check_support()["sent"] == 1
    assert services.proposals_check_support()["sent"] == 0
    assert Election.objects.filter(proposal=proposal).count() == 1


def test_organisers_send_to_a_ballot_and_members_cannot(proposal, members, organiser):
    with pytest.raises(PermissionDenied):
        services.proposal_send_to_ballot(actor=members[2], proposal=proposal)
    services.proposal_send_to_ballot(actor=organiser, proposal=proposal)
    with pytest.raises(services.DecisionRefused):
        services.proposal_send_to_ballot(actor=organiser, proposal=proposal)


def test_authors_accept_an_amendment_or_it_goes_to_the_vote_alongside(
    proposal, members, organiser
):
    accepted = services.amendment_propose(
        member=members[3], proposal=proposal, title="Add heat", text="And heating."
    )
    contested = services.amendment_propose(
        member=members[4], proposal=proposal, title="Drop caps", text="No caps."
    )
    ignored = services.amendment_propose(
        member=members[5], proposal=proposal, title="Later", text="Later."
    )
    with pytest.raises(PermissionDenied):
        services.amendment_decide(actor=members[5], amendment=accepted, accept=True)
    services.amendment_decide(actor=members[1], amendment=accepted, accept=True)
    services.amendment_decide(actor=members[0], amendment=contested, accept=False)
    proposal.refresh_from_db()
    assert "And heating." in proposal.text
    services.proposal_send_to_ballot(actor=organiser, proposal=proposal)
    elections = Election.objects.filter(proposal=proposal)
    assert elections.filter(kind=Election.Kind.PROPOSAL).count() == 1
    assert set(
        elections.filter(kind=Election.Kind.AMENDMENT).values_list(
            "amendment_id", flat=True
        )
    ) == {
        contested.pk,
        ignored.pk,
    }
    assert Amendment.objects.get(pk=accepted.pk).status == Amendment.Status.ACCEPTED


def test_outcome_is_recorded_on_the_proposal_and_its_amendments(
    proposal, members, organiser
):
    amendment = services.amendment_propose(
        member=members[3], proposal=proposal, title="A", text="a"
    )
    services.proposal_send_to_ballot(actor=organiser, proposal=proposal)
    main = Election.objects.get(proposal=proposal, kind=Election.Kind.PROPOSAL)
    side = Election.objects.get(amendment=amendment)
    for member in members[:4]:
        services.ballot_cast(member=member, election=main, marks={"choice": "0"})
        services.ballot_cast(member=member, election=side, marks={"choice": "1"})
    services.ballot_cast(member=members[4], election=main, marks={"choice": "1"})
    with time_machine.travel(main.closes_at + timedelta(seconds=1)):
        services.election_count(election_id=main.pk)
        services.election_count(election_id=side.pk)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PASSED
    assert proposal.outcome.startswith("Passed: 4 yes, 1 no, 0 abstain")
    assert Amendment.objects.get(pk=amendment.pk).status == Amendment.Status.DEFEATED


def test_a_proposal_ballot_nobody_voted_in_fails(proposal, organiser):
    services.proposal_send_to_ballot(actor=organiser, proposal=proposal)
    main = Election.objects.get(proposal=proposal)
    with time_machine.travel(main.closes_at + timedelta(seconds=1)):
        tally = services.election_count(election_id=main.pk)
    proposal.refresh_from_db()
    assert tally.ballot_count == 0 and proposal.status == Proposal.Status.FAILED


def test_coauthors_must_be_members_of_the_group(group, members, outsider):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Co-authors"):
        services.proposal_create(
            author=members[0], group=group, title="T", text="x", coauthors=[outsider]
        )
    assert not Proposal.objects.exists()
