"""How conversations plug into the platform: common ground becomes a proposal (linked
both ways), the group's overview and notifications, personal data export and erasure,
archiving, and the demo."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from commonground.audit.models import AuditEntry
from commonground.conversations import selectors, services
from commonground.conversations.models import Participant, Statement, StatementReport
from commonground.core import capabilities
from commonground.decisions.models import Proposal
from commonground.members.selectors import viewer_for

from .conftest import vote
from .test_conversations_maps import TWO_SIDES, _two_groups

pytestmark = pytest.mark.django_db


@pytest.fixture
def mapped(group, open_conversation):
    conversation = open_conversation(seeds=TWO_SIDES)
    _two_groups(group, conversation, size=10)
    services.map_refresh(conversation_id=conversation.pk)
    return conversation


def test_organiser_turns_a_consensus_statement_into_a_proposal(
    client, organiser, mapped
):
    statement = mapped.statements.get(number=8)
    client.force_login(organiser)
    map_url = reverse("conversations:map", args=[mapped.pk])
    page = client.get(map_url).content.decode()
    propose_url = reverse("conversations:statement_propose", args=[statement.pk])
    assert propose_url in page
    response = client.post(propose_url)
    proposal = Proposal.objects.get()
    assert response["Location"] == reverse(
        "decisions:proposal_detail", args=[proposal.pk]
    )
    assert proposal.author == organiser and proposal.group == mapped.group
    assert proposal.title == statement.text
    assert map_url in proposal.text and "every group" in proposal.text
    statement.refresh_from_db()
    assert statement.proposal == proposal
    entry = AuditEntry.objects.get(action="statement.proposed")
    assert entry.data["proposal"] == proposal.pk
    # Linked both ways: the map shows the proposal, the proposal page the map.
    assert (
        reverse("decisions:proposal_detail", args=[proposal.pk])
        in client.get(map_url).content.decode()
    )
    detail = client.get(reverse("decisions:proposal_detail", args=[proposal.pk]))
    assert map_url in detail.content.decode()
    with pytest.raises(services.ConversationRefused):
        services.statement_to_proposal(actor=organiser, statement=statement)


def test_only_organisers_turn_statements_into_proposals(client, members, mapped):
    statement = mapped.statements.get(number=8)
    with pytest.raises(PermissionDenied):
        services.statement_to_proposal(actor=members[0], statement=statement)
    client.force_login(members[0])
    url = reverse("conversations:statement_propose", args=[statement.pk])
    assert client.post(url).status_code == 404
    assert not Proposal.objects.exists()


def test_the_group_overview_asks_members_who_have_not_answered(
    group, members, open_conversation
):
    conversation = open_conversation()
    viewer = viewer_for(members[0], group)
    needs = selectors.group_overview(group, viewer).needs_you
    assert [n.url for n in needs] == [
        reverse("conversations:detail", args=[conversation.pk])
    ]
    vote(members[0], conversation, conversation.statements.first())
    assert selectors.group_overview(group, viewer).needs_you == []
    assert selectors.group_overview(group, viewer).activity


def test_the_group_section_is_registered_with_its_count(
    group, members, open_conversation
):
    open_conversation()
    viewer = viewer_for(members[0], group)
    links = capabilities.group_links_for(group, viewer, with_counts=True)
    section = next(link for link in links if link["key"] == "conversations")
    assert section["count"] == 1
    assert section["url"] == reverse("conversations:group", args=[group.slug])


def test_opening_tells_the_members_in_their_daily_digest(
    group, organiser, members, open_conversation
):
    from commonground.notifications.models import Delivery, Notification

    open_conversation()
    told = Notification.objects.filter(kind="conversations.opened")
    assert set(told.values_list("recipient_id", flat=True)) == {m.pk for m in members}
    assert set(
        Delivery.objects.filter(notification__in=told).values_list("channel", flat=True)
    ) == {"daily"}


def test_an_open_conversation_keeps_its_group_from_being_archived(
    group, organiser, open_conversation
):
    assert selectors.archive_blockers(group) == []
    conversation = open_conversation()
    assert capabilities.archive_blockers(group)
    services.conversation_close(actor=organiser, conversation=conversation)
    assert selectors.archive_blockers(group) == []


def test_personal_data_export_and_erasure(members, open_conversation):
    conversation = open_conversation()
    member = members[0]
    statement = services.statement_add(
        author=member, conversation=conversation, text="My own idea."
    )
    vote(member, conversation, conversation.statements.get(number=0), "disagree")
    services.statement_report(
        reporter=member, statement=conversation.statements.get(number=1)
    )
    exported = capabilities.exported_sections(member)["conversations"]
    assert [s["text"] for s in exported["statements"]] == ["My own idea."]
    assert {(v["statement"], v["vote"]) for v in exported["votes"]} == {
        (0, -1),
        (statement.number, 1),
    }
    assert exported["participations"][0]["question"] == conversation.question
    capabilities.erase_personal_data(member)
    participant = Participant.objects.get(conversation=conversation, number=1)
    assert participant.user is None  # the answers stay, under a number only
    assert participant.votes.count() == 2
    assert not StatementReport.objects.filter(reporter=member).exists()
    assert Statement.objects.get(pk=statement.pk).text == "My own idea."
    assert capabilities.exported_sections(member)["conversations"]["votes"] == []


def test_the_demo_adds_a_closed_coalition_map_and_an_open_branch_conversation(db):
    import json

    from commonground.conversations.models import Conversation, ConversationMap

    for seed in capabilities.demo_seeds():
        seed({})
    coalition = Conversation.objects.get(group__slug="coalition-assembly")
    branch = Conversation.objects.get(group__slug="npp-leeds")
    assert coalition.statements.count() == 40
    assert coalition.participants.filter(votes__isnull=False).distinct().count() >= 140
    assert coalition.closed_at is not None
    page = json.loads(ConversationMap.objects.get(conversation=coalition).page_json)
    assert page["k"] >= 2 and len(page["consensus"]) >= 3
    assert branch.is_open_at(coalition.created_at)
    assert branch.statements.filter(status="pending").count() == 1
    organisations = set(
        coalition.participants.filter(votes__isnull=False)
        .values_list("user__memberships__group__organisation__slug", flat=True)
        .distinct()
    )
    assert {"npp", "renters-union", "green-commons"} <= organisations
    counts = (Conversation.objects.count(), Statement.objects.count())
    for seed in capabilities.demo_seeds():
        seed({})
    assert (Conversation.objects.count(), Statement.objects.count()) == counts
