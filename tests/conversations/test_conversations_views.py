"""The organisers' and moderators' pages over HTTP: settings, closing, the moderation
queue and its decisions, reports; each refused (404) to those it is not for."""

from __future__ import annotations

import pytest
from django.urls import reverse

from commonground.audit.models import AuditEntry
from commonground.conversations.models import Conversation, Statement, StatementReport

pytestmark = pytest.mark.django_db

SETTINGS = {
    "question": "How should the branch meet?",
    "participation": "members",
    "statement_policy": "everyone",
    "moderation": "pre",
    "map_visibility": "participants",
    "engine_mode": "polis",
}


def test_settings_page_saves_and_logs_each_change(client, organiser, open_conversation):
    conversation = open_conversation()
    url = reverse("conversations:edit", args=[conversation.pk])
    client.force_login(organiser)
    assert client.get(url).status_code == 200
    response = client.post(url, SETTINGS)
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert (conversation.moderation, conversation.engine_mode) == ("pre", "polis")
    assert AuditEntry.objects.filter(action="conversation.setting_changed").count() == 2


def test_settings_page_shows_field_errors(client, organiser, open_conversation):
    conversation = open_conversation()
    client.force_login(organiser)
    response = client.post(
        reverse("conversations:edit", args=[conversation.pk]),
        {**SETTINGS, "question": ""},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["question"]


@pytest.mark.parametrize("name", ["edit", "close", "moderation"])
def test_organiser_pages_are_404_for_members(client, members, open_conversation, name):
    conversation = open_conversation()
    client.force_login(members[0])
    url = reverse(f"conversations:{name}", args=[conversation.pk])
    response = client.post(url) if name == "close" else client.get(url)
    assert response.status_code == 404
    assert Conversation.objects.get().closed_at is None


def test_close_button_closes_and_goes_to_the_map(client, organiser, open_conversation):
    conversation = open_conversation()
    client.force_login(organiser)
    response = client.post(reverse("conversations:close", args=[conversation.pk]))
    assert response["Location"] == reverse("conversations:map", args=[conversation.pk])
    conversation.refresh_from_db()
    assert conversation.closed_at is not None
    again = client.post(reverse("conversations:close", args=[conversation.pk]))
    assert again.status_code == 302  # refused with a message, nothing changes


def test_moderator_rejects_with_a_reason_from_the_queue(
    client, members, moderator, open_conversation
):
    from commonground.conversations import services

    conversation = open_conversation(moderation="pre")
    statement = services.statement_add(
        author=members[0], conversation=conversation, text="Needs a look."
    )
    client.force_login(moderator)
    response = client.post(
        reverse("conversations:statement_moderate", args=[statement.pk]),
        {"decision": "reject", "reason": "Off topic"},
    )
    assert response.status_code == 302
    statement.refresh_from_db()
    assert statement.status == Statement.Status.REJECTED
    assert statement.moderation_reason == "Off topic"
    bad = client.post(
        reverse("conversations:statement_moderate", args=[statement.pk]),
        {"decision": "delete"},
    )
    assert bad.status_code == 404


def test_members_cannot_see_held_statements_or_moderate_them(
    client, members, open_conversation
):
    from commonground.conversations import services

    conversation = open_conversation(moderation="pre")
    statement = services.statement_add(
        author=members[0], conversation=conversation, text="Waiting."
    )
    client.force_login(members[1])
    page = client.get(reverse("conversations:detail", args=[conversation.pk]))
    assert b"Waiting." not in page.content
    response = client.post(
        reverse("conversations:statement_moderate", args=[statement.pk]),
        {"decision": "accept"},
    )
    assert response.status_code == 404
    assert (
        client.post(
            reverse("conversations:statement_report", args=[statement.pk])
        ).status_code
        == 404
    )


def test_report_from_the_card(client, members, open_conversation):
    conversation = open_conversation()
    statement = conversation.statements.first()
    client.force_login(members[0])
    response = client.post(
        reverse("conversations:statement_report", args=[statement.pk]),
        {"reason": "Misleading"},
    )
    assert response.status_code == 302
    assert StatementReport.objects.get().reason == "Misleading"


def test_author_sees_their_held_statement_waiting(client, members, open_conversation):
    from commonground.conversations import services

    conversation = open_conversation(moderation="pre")
    services.statement_add(author=members[0], conversation=conversation, text="Mine.")
    client.force_login(members[0])
    page = client.get(reverse("conversations:detail", args=[conversation.pk]))
    assert b"Mine." in page.content and b"Waiting for a moderator" in page.content


def test_public_group_conversation_is_readable_but_not_answerable_by_outsiders(
    client, outsider, open_conversation
):
    conversation = open_conversation()
    client.force_login(outsider)
    page = client.get(reverse("conversations:detail", args=[conversation.pk]))
    assert page.status_code == 200
    assert page.context["can_vote"] is False
    assert b"take part in this conversation" in page.content
    client.logout()
    anonymous = client.get(reverse("conversations:detail", args=[conversation.pk]))
    assert b"to take part" in anonymous.content


def test_conversation_page_runs_a_fixed_number_of_queries(
    client, group, members, open_conversation, django_assert_max_num_queries
):
    from factories import make_member

    from .conftest import vote

    conversation = open_conversation()
    vote(members[0], conversation, conversation.statements.last())
    client.force_login(members[0])
    url = reverse("conversations:detail", args=[conversation.pk])
    client.get(url)
    with django_assert_max_num_queries(40) as first:
        client.get(url)
    for _ in range(5):
        extra = make_member(group)
        for statement in conversation.statements.all():
            vote(extra, conversation, statement)
        vote(members[0], conversation, conversation.statements.first())
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get(url)
