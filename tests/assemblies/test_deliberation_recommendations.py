"""Recommendations: drafted by the panel, voted on in secret by the panel only (one
ballot each), settled by the adoption rule, published, and sent to the whole
membership as a proposal or a ballot, linked both ways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from assemblies.deliberation_support import at, later, make_panel
from commonground.assemblies.models import (
    Recommendation,
    RecommendationStatus,
    Status,
)
from commonground.assemblies.services import deliberation as panel_services
from commonground.assemblies.services.errors import AssemblyRefused
from commonground.audit.models import AuditEntry
from commonground.decisions import services as decisions
from commonground.decisions.models import Ballot, EligibleVoter, Participation
from commonground.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _drafts(setup, count=2):
    return [
        panel_services.recommendation_draft(
            actor=setup.panel[index % len(setup.panel)],
            assembly=setup.assembly,
            title=f"Recommendation about buses {index}",
            text=f"Run buses every **{10 + index}** minutes.",
        )
        for index in range(count)
    ]


def _open_vote(setup):
    return panel_services.panel_vote_open(
        actor=setup.organiser,
        assembly=setup.assembly,
        closes_at=timezone.now() + timedelta(days=2),
    )


def test_the_panel_drafts_and_its_members_acts_carry_no_name_in_the_log():
    setup = make_panel()
    first, second = _drafts(setup)
    assert (first.number, second.number) == (1, 2)
    entries = AuditEntry.objects.filter(action="assembly.recommendation_drafted")
    assert entries.count() == 2
    assert set(entries.values_list("actor_id", flat=True)) == {None}
    with pytest.raises(PermissionDenied):
        panel_services.recommendation_draft(
            actor=setup.member, assembly=setup.assembly, title="Mine", text="No."
        )


def test_opening_the_vote_puts_each_draft_to_a_ballot_of_the_panel_alone():
    setup = make_panel()
    _drafts(setup)
    voting = _open_vote(setup)
    panel_ids = {user.pk for user in setup.panel}
    for recommendation in voting:
        assert recommendation.status == RecommendationStatus.VOTING
        roll = set(
            EligibleVoter.objects.filter(election=recommendation.election).values_list(
                "member_id", flat=True
            )
        )
        assert roll == panel_ids  # not the dropped-out, the undrawn or the group
        assert recommendation.election.group == setup.assembly.group
    told = set(
        Notification.objects.filter(kind="assemblies.panel_vote_opened").values_list(
            "recipient_id", flat=True
        )
    )
    assert told == panel_ids
    with pytest.raises(AssemblyRefused):
        _open_vote(setup)  # nothing left to vote on
    with pytest.raises(PermissionDenied):
        panel_services.recommendation_edit(
            actor=setup.member, recommendation=voting[0], title="x", text="y"
        )
    with pytest.raises(AssemblyRefused):
        panel_services.recommendation_edit(
            actor=setup.panel[0], recommendation=voting[0], title="x", text="y"
        )


def test_only_organisers_open_the_vote():
    setup = make_panel()
    _drafts(setup)
    with pytest.raises(PermissionDenied):
        panel_services.panel_vote_open(
            actor=setup.panel[0], assembly=setup.assembly, closes_at=later()
        )


def test_a_panel_member_votes_once_and_a_revote_replaces_the_ballot(client):
    setup = make_panel()
    _drafts(setup, 1)
    (recommendation,) = _open_vote(setup)
    url = reverse(
        "assemblies:panel_ballot", args=[setup.assembly.slug, recommendation.pk]
    )
    client.force_login(setup.panel[0])
    assert client.post(url, {"choice": "yes"}).status_code == 302
    assert client.post(url, {"choice": "no"}).status_code == 302
    election = recommendation.election
    assert Participation.objects.filter(election=election).count() == 1
    assert Ballot.objects.filter(election=election).count() == 1
    page = client.get(reverse("assemblies:panel", args=[setup.assembly.slug]))
    assert "You have voted" in page.content.decode()


@pytest.mark.parametrize("who", ["member", "not_drawn", "dropped", "organiser"])
def test_anyone_not_on_the_panel_voting_is_refused_and_nothing_is_recorded(client, who):
    setup = make_panel()
    _drafts(setup, 1)
    (recommendation,) = _open_vote(setup)
    url = reverse(
        "assemblies:panel_ballot", args=[setup.assembly.slug, recommendation.pk]
    )
    client.force_login(getattr(setup, who))
    response = client.post(url, {"choice": "yes"})
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        panel_services.panel_ballot_cast(
            member=getattr(setup, who), recommendation=recommendation, choice="yes"
        )
    # The decisions app refuses them too: they are not on the ballot's roll.
    with pytest.raises(decisions.DecisionRefused) as refused:
        decisions.ballot_cast(
            member=getattr(setup, who),
            election=recommendation.election,
            marks={"choice": "0"},
        )
    assert refused.value.status == 403
    assert not Participation.objects.filter(election=recommendation.election).exists()
    assert not Ballot.objects.filter(election=recommendation.election).exists()


def test_publishing_waits_for_the_close_then_settles_by_the_adoption_rule(client):
    setup = make_panel()
    adopted, rejected, no_quorum = _drafts(setup, 3)
    _open_vote(setup)
    votes = {
        adopted.pk: ["yes", "yes", "no", "abstain"],
        rejected.pk: ["no", "no", "yes", "abstain"],
        no_quorum.pk: ["yes"],  # one of four: below the quorum of half the panel
    }
    for recommendation_id, choices in votes.items():
        recommendation = Recommendation.objects.get(pk=recommendation_id)
        for member, choice in zip(setup.panel, choices, strict=False):
            panel_services.panel_ballot_cast(
                member=member, recommendation=recommendation, choice=choice
            )
    with pytest.raises(AssemblyRefused):
        panel_services.recommendations_publish(
            actor=setup.organiser, assembly=setup.assembly
        )
    with at(later()):
        with pytest.raises(PermissionDenied):
            panel_services.recommendations_publish(
                actor=setup.panel[0], assembly=setup.assembly
            )
        published = panel_services.recommendations_publish(
            actor=setup.organiser, assembly=setup.assembly
        )
    statuses = {r.pk: r.status for r in published}
    assert statuses == {
        adopted.pk: RecommendationStatus.ADOPTED,
        rejected.pk: RecommendationStatus.NOT_ADOPTED,
        no_quorum.pk: RecommendationStatus.NOT_ADOPTED,
    }
    setup.assembly.refresh_from_db()
    assert setup.assembly.status == Status.CONCLUDED
    page = client.get(
        reverse("assemblies:recommendations", args=[setup.assembly.slug])
    ).content.decode()
    assert "Recommendation about buses 0" in page
    assert "Adopted by the panel" in page and "Not adopted by the panel" in page
    assert "2 yes, 1 no, 1 abstain" in page
    entry = AuditEntry.objects.get(action="assembly.recommendations_published")
    assert entry.data["adopted"] == [adopted.number]


def _published(setup, choices=("yes", "yes", "yes", "no")):
    (recommendation,) = _drafts(setup, 1)
    _open_vote(setup)
    for member, choice in zip(setup.panel, choices, strict=True):
        panel_services.panel_ballot_cast(
            member=member, recommendation=recommendation, choice=choice
        )
    with at(later()):
        panel_services.recommendations_publish(
            actor=setup.organiser, assembly=setup.assembly
        )
    recommendation.refresh_from_db()
    return recommendation


def test_an_adopted_recommendation_becomes_a_proposal_linked_both_ways(client):
    setup = make_panel()
    recommendation = _published(setup)
    client.force_login(setup.organiser)
    response = client.post(
        reverse(
            "assemblies:recommendation_send",
            args=[setup.assembly.slug, recommendation.pk],
        ),
        {"send_as": "proposal"},
    )
    recommendation.refresh_from_db()
    proposal = recommendation.proposal
    assert proposal is not None
    assert response["Location"] == reverse(
        "decisions:proposal_detail", args=[proposal.pk]
    )
    assert proposal.group == setup.assembly.group
    assert proposal.author == setup.organiser
    page = client.get(
        reverse("decisions:proposal_detail", args=[proposal.pk])
    ).content.decode()
    assert (
        "From the citizens&#x27; assembly" in page
        or "From the citizens' assembly" in page
    )
    link = reverse("assemblies:recommendations", args=[setup.assembly.slug])
    assert f'href="{link}#recommendation-1"' in page
    back = client.get(link).content.decode()
    assert reverse("decisions:proposal_detail", args=[proposal.pk]) in back
    with pytest.raises(AssemblyRefused):
        panel_services.recommendation_to_proposal(
            actor=setup.organiser, recommendation=recommendation
        )
    assert AuditEntry.objects.filter(action="assembly.recommendation_proposed").exists()


def test_an_adopted_recommendation_can_go_to_a_membership_ballot():
    setup = make_panel()
    recommendation = _published(setup)
    election = panel_services.recommendation_to_ballot(
        actor=setup.organiser, recommendation=recommendation, closes_at=later(9)
    )
    recommendation.refresh_from_db()
    assert recommendation.ballot == election
    assert "From the citizens' assembly" in election.description
    assert election.phase_at(timezone.now()) == "open"


def test_only_organisers_send_and_only_adopted_recommendations(client):
    setup = make_panel()
    recommendation = _published(setup, choices=("no", "no", "no", "yes"))
    with pytest.raises(AssemblyRefused):
        panel_services.recommendation_to_proposal(
            actor=setup.organiser, recommendation=recommendation
        )
    other = make_panel(slug="housing")
    adopted = _published(other)
    with pytest.raises(PermissionDenied):
        panel_services.recommendation_to_proposal(
            actor=other.panel[0], recommendation=adopted
        )
    client.force_login(other.member)
    response = client.post(
        reverse(
            "assemblies:recommendation_send", args=[other.assembly.slug, adopted.pk]
        ),
        {"send_as": "proposal"},
    )
    assert response.status_code == 404
    adopted.refresh_from_db()
    assert adopted.proposal is None


def test_a_vote_closing_in_the_past_opens_nothing():
    from django.core.exceptions import ValidationError

    setup = make_panel()
    _drafts(setup)
    with pytest.raises(ValidationError):
        panel_services.panel_vote_open(
            actor=setup.organiser,
            assembly=setup.assembly,
            closes_at=timezone.now() - timedelta(minutes=5),
        )
    assert not Recommendation.objects.exclude(status=RecommendationStatus.DRAFT)
    assert not Recommendation.objects.exclude(election=None).exists()


def test_the_dashboard_shows_my_panels_and_the_votes_waiting_for_me(client):
    setup = make_panel()
    _drafts(setup, 2)
    (first, _second) = _open_vote(setup)
    panel_services.panel_ballot_cast(
        member=setup.panel[0], recommendation=first, choice="yes"
    )
    client.force_login(setup.panel[0])
    page = client.get(reverse("core:dashboard")).content.decode()
    assert "Leeds transport assembly" in page
    assert "1 recommendation waits for your vote" in page
    client.force_login(setup.panel[1])
    assert "2 recommendations wait for your vote" in (
        client.get(reverse("core:dashboard")).content.decode()
    )
    client.force_login(setup.member)
    page = client.get(reverse("core:dashboard")).content.decode()
    assert "Leeds transport assembly" not in page
    assert "You do not sit on an assembly panel" in page


def test_sending_as_a_ballot_from_the_page_links_both_ways(client):
    setup = make_panel()
    recommendation = _published(setup)
    client.force_login(setup.organiser)
    url = reverse(
        "assemblies:recommendation_send", args=[setup.assembly.slug, recommendation.pk]
    )
    refused = client.post(url, {"send_as": "ballot"})  # no closing time
    assert refused.status_code == 302
    recommendation.refresh_from_db()
    assert recommendation.ballot is None
    closes = (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"send_as": "ballot", "closes_at": closes})
    recommendation.refresh_from_db()
    election = recommendation.ballot
    assert election is not None
    assert response["Location"] == reverse(
        "decisions:election_detail", args=[election.pk]
    )
    ballot_page = client.get(response["Location"]).content.decode()
    assert "#recommendation-1" in ballot_page
    back = client.get(
        reverse("assemblies:recommendations", args=[setup.assembly.slug])
    ).content.decode()
    assert reverse("decisions:election_detail", args=[election.pk]) in back
    assert AuditEntry.objects.filter(action="assembly.recommendation_balloted").exists()
