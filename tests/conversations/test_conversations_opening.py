"""Opening a conversation: who may, what it records, settings changes and closing,
each in the audit log; a coalition's conversation is open to every affiliate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from commonground.audit.models import AuditEntry
from commonground.conversations import rules, selectors, services
from commonground.conversations.models import Conversation, Participation, Statement
from commonground.members.models import Organisation, Role
from factories import OrganisationFactory, make_group, make_member, make_role

from .conftest import SEEDS, vote

pytestmark = pytest.mark.django_db


def test_organiser_opens_a_conversation_with_seed_statements_and_it_is_logged(
    group, organiser, open_conversation
):
    conversation = open_conversation(context="Read **this** first.")
    statements = list(conversation.statements.order_by("number"))
    assert [s.text for s in statements] == list(SEEDS)
    assert [s.number for s in statements] == [0, 1, 2]
    assert all(s.is_seed and s.is_visible for s in statements)
    assert "<strong>this</strong>" in conversation.context_html
    entry = AuditEntry.objects.get(action="conversation.opened")
    assert entry.actor_id == organiser.pk and entry.group_id == group.pk
    assert entry.data["participation"] == "members" and entry.data["seeds"] == 3


def test_a_member_without_a_role_cannot_open_one(group, members):
    with pytest.raises(PermissionDenied):
        services.conversation_create(
            actor=members[0],
            group=group,
            settings=services.ConversationSettings(question="Why?"),
        )
    assert not Conversation.objects.exists()


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"question": "   "}, "question"),
        ({"question": "Q", "participation": "everyone"}, "participation"),
        ({"question": "Q", "closes_at": "past"}, "closes_at"),
    ],
)
def test_invalid_settings_are_refused(group, organiser, spec, field):
    if spec.get("closes_at") == "past":
        spec["closes_at"] = timezone.now() - timedelta(minutes=1)
    with pytest.raises(ValidationError) as error:
        services.conversation_create(
            actor=organiser,
            group=group,
            settings=services.ConversationSettings(**spec),
        )
    assert field in error.value.message_dict


def test_duplicate_seed_statements_are_refused(group, organiser):
    with pytest.raises(ValidationError):
        services.conversation_create(
            actor=organiser,
            group=group,
            settings=services.ConversationSettings(question="Q"),
            seeds=["Meet monthly.", "meet   MONTHLY!"],
        )
    assert not Statement.objects.exists()


def test_each_setting_change_is_logged_with_old_and_new_value(
    organiser, open_conversation
):
    conversation = open_conversation()
    services.conversation_update(
        actor=organiser,
        conversation=conversation,
        settings=services.ConversationSettings(
            question=conversation.question,
            moderation="pre",
            map_visibility="public",
        ),
    )
    changes = {
        e.data["setting"]: (e.data["from"], e.data["to"])
        for e in AuditEntry.objects.filter(action="conversation.setting_changed")
    }
    assert changes == {
        "moderation": ("post", "pre"),
        "map_visibility": ("participants", "public"),
    }


def test_only_organisers_change_settings(members, open_conversation):
    conversation = open_conversation()
    with pytest.raises(PermissionDenied):
        services.conversation_update(
            actor=members[0],
            conversation=conversation,
            settings=services.ConversationSettings(question="Hijacked"),
        )


def test_closing_stops_answers_and_is_logged(
    organiser, members, open_conversation, django_capture_on_commit_callbacks
):
    conversation = open_conversation()
    statement = conversation.statements.first()
    vote(members[0], conversation, statement)
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_close(actor=organiser, conversation=conversation)
    assert AuditEntry.objects.filter(action="conversation.closed").count() == 1
    with pytest.raises(services.ConversationRefused):
        vote(members[1], conversation, statement)
    conversation.refresh_from_db()
    assert conversation.closed_notified_at is not None  # the final map followed


def test_after_closing_only_map_visibility_may_change(organiser, open_conversation):
    conversation = open_conversation()
    services.conversation_close(actor=organiser, conversation=conversation)
    with pytest.raises(services.ConversationRefused):
        services.conversation_update(
            actor=organiser,
            conversation=conversation,
            settings=services.ConversationSettings(question="Changed after close"),
        )
    services.conversation_update(
        actor=organiser,
        conversation=conversation,
        settings=services.ConversationSettings(
            question=conversation.question, map_visibility="public"
        ),
    )


def test_coalition_conversation_is_open_to_members_of_every_affiliate(db):
    party = OrganisationFactory()
    union = OrganisationFactory()
    outside = OrganisationFactory()
    coalition = OrganisationFactory(kind=Organisation.Kind.COALITION)
    coalition.affiliates.set([party, union])
    assembly = make_group(organisation=coalition, kind="coalition")
    organiser = make_role(assembly, Role.ORGANISER)
    party_member = make_member(make_group(organisation=party))
    union_member = make_member(make_group(organisation=union))
    stranger = make_member(make_group(organisation=outside))
    conversation = services.conversation_create(
        actor=organiser,
        group=assembly,
        settings=services.ConversationSettings(question="Together on what?"),
        seeds=["Housing first."],
    )
    statement = conversation.statements.get()
    for user in (party_member, union_member):
        assert rules.can_take_part(selectors.access_for(user, conversation))
        vote(user, conversation, statement)
    assert not rules.can_take_part(selectors.access_for(stranger, conversation))
    with pytest.raises(PermissionDenied):
        vote(stranger, conversation, statement)


def test_verified_participation_lets_anyone_with_a_confirmed_address_take_part(
    outsider, open_conversation
):
    from allauth.account.models import EmailAddress

    conversation = open_conversation(participation=Participation.VERIFIED)
    statement = conversation.statements.first()
    vote(outsider, conversation, statement)
    EmailAddress.objects.filter(user=outsider).update(verified=False)
    with pytest.raises(PermissionDenied):
        vote(outsider, conversation, statement, "disagree")


def test_new_page_for_organisers_only(client, group, organiser, members):
    url = reverse("conversations:new", args=[group.slug])
    client.force_login(members[0])
    assert client.get(url).status_code == 404
    client.force_login(organiser)
    response = client.post(
        url,
        {
            "question": "Where next?",
            "participation": "members",
            "statement_policy": "everyone",
            "moderation": "post",
            "map_visibility": "participants",
            "engine_mode": "improved",
            "seeds": "First seed.\n\nSecond seed.\n",
        },
    )
    conversation = Conversation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "conversations:detail", args=[conversation.pk]
    )
    assert conversation.statements.count() == 2


def test_group_section_counts_open_conversations_and_lists_them(
    client, group, members, open_conversation
):
    open_conversation()
    client.force_login(members[0])
    response = client.get(reverse("conversations:group", args=[group.slug]))
    assert response.status_code == 200
    assert b"How should the branch meet?" in response.content
    assert selectors.group_open_count(group) == 1
