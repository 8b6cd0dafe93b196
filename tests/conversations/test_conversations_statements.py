"""Statements: adding (the author agrees, as in Pol.is), the length limit, duplicates,
the rate limit, who may write, moderation before and after, reports, all of it in
the audit log."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from commonground.audit.models import AuditEntry
from commonground.conversations import services
from commonground.conversations.models import (
    STATEMENT_MAX_LENGTH,
    Statement,
    StatementReport,
    Vote,
)
from commonground.conversations.services.statements import RATE_COUNT, text_key

from .conftest import vote

pytestmark = pytest.mark.django_db


def test_a_participant_adds_a_statement_and_agrees_with_it(members, open_conversation):
    conversation = open_conversation()
    statement = services.statement_add(
        author=members[0], conversation=conversation, text="  A  new idea.  "
    )
    assert statement.text == "A new idea." and statement.number == 3
    assert statement.is_visible and not statement.is_seed
    own = Vote.objects.get(statement=statement)
    assert own.value == 1 and own.participant.user == members[0]
    entry = AuditEntry.objects.get(action="statement.added")
    assert entry.actor_id == members[0].pk and entry.data["held"] is False


def test_statements_longer_than_the_limit_are_refused(members, open_conversation):
    conversation = open_conversation()
    with pytest.raises(ValidationError):
        services.statement_add(
            author=members[0],
            conversation=conversation,
            text="x" * (STATEMENT_MAX_LENGTH + 1),
        )
    with pytest.raises(ValidationError):
        services.statement_add(author=members[0], conversation=conversation, text=" ")


@pytest.mark.parametrize(
    "again",
    [
        "the branch should meet every month",
        "The  branch should meet EVERY month!!",
        "Thé branch should meet every month.",
    ],
)
def test_near_duplicates_are_refused(members, open_conversation, again):
    conversation = open_conversation()
    with pytest.raises(services.ConversationRefused):
        services.statement_add(author=members[0], conversation=conversation, text=again)
    assert conversation.statements.count() == 3


def test_text_key_folds_case_accents_punctuation_and_spacing():
    assert text_key("Café,  OPEN!") == text_key("cafe open") == "cafe open"


def test_the_rate_limit_refuses_the_next_statement(members, open_conversation):
    conversation = open_conversation()
    for index in range(RATE_COUNT):
        services.statement_add(
            author=members[0], conversation=conversation, text=f"Idea {index}."
        )
    with pytest.raises(services.StatementRateLimited) as refused:
        services.statement_add(
            author=members[0], conversation=conversation, text="One too many."
        )
    assert refused.value.status == 429
    services.statement_add(  # others are not limited by it
        author=members[1], conversation=conversation, text="Someone else's idea."
    )


def test_rate_limited_statement_answers_with_retry_after(
    client, members, open_conversation
):
    conversation = open_conversation()
    client.force_login(members[0])
    url = reverse("conversations:statement_new", args=[conversation.pk])
    for index in range(RATE_COUNT):
        client.post(url, {"text": f"Idea {index}."})
    response = client.post(url, {"text": "One too many."})
    assert response.status_code == 302 and response["Retry-After"]
    assert conversation.statements.count() == 3 + RATE_COUNT


def test_moderators_only_policy(members, moderator, open_conversation):
    conversation = open_conversation(statement_policy="moderators")
    with pytest.raises(PermissionDenied):
        services.statement_add(
            author=members[0], conversation=conversation, text="Mine."
        )
    services.statement_add(author=moderator, conversation=conversation, text="Theirs.")


def test_outsiders_cannot_add_statements(outsider, open_conversation):
    conversation = open_conversation()
    with pytest.raises(PermissionDenied):
        services.statement_add(author=outsider, conversation=conversation, text="Hi.")


def test_held_statement_waits_for_a_moderator_then_counts(
    client, members, moderator, open_conversation
):
    conversation = open_conversation(moderation="pre")
    statement = services.statement_add(
        author=members[0], conversation=conversation, text="Held for review."
    )
    assert statement.status == Statement.Status.PENDING
    assert not Vote.objects.filter(statement=statement).exists()
    with pytest.raises(services.ConversationRefused):
        vote(members[1], conversation, statement)
    with pytest.raises(PermissionDenied):
        services.statement_accept(moderator=members[1], statement=statement)
    client.force_login(moderator)
    queue = client.get(reverse("conversations:moderation", args=[conversation.pk]))
    assert b"Held for review." in queue.content
    client.post(
        reverse("conversations:statement_moderate", args=[statement.pk]),
        {"decision": "accept"},
    )
    statement.refresh_from_db()
    assert (
        statement.status == Statement.Status.ACCEPTED and statement.moderator_accepted
    )
    assert Vote.objects.get(statement=statement).value == 1  # the author's agree
    assert AuditEntry.objects.filter(action="statement.accepted").count() == 1
    vote(members[1], conversation, statement)


def test_moderators_statements_are_visible_at_once(moderator, open_conversation):
    conversation = open_conversation(moderation="pre")
    statement = services.statement_add(
        author=moderator, conversation=conversation, text="From the chair."
    )
    assert statement.is_visible


def test_rejected_statement_is_logged_and_no_longer_answerable(
    members, moderator, open_conversation
):
    conversation = open_conversation()
    statement = services.statement_add(
        author=members[0], conversation=conversation, text="Something rude."
    )
    services.statement_reject(moderator=moderator, statement=statement, reason="Rude")
    entry = AuditEntry.objects.get(action="statement.rejected")
    assert entry.reason == "Rude" and entry.actor_id == moderator.pk
    with pytest.raises(services.ConversationRefused):
        vote(members[1], conversation, statement)
    with pytest.raises(ValidationError):
        services.statement_reject(moderator=moderator, statement=statement)
    services.statement_accept(moderator=moderator, statement=statement)
    assert AuditEntry.objects.filter(action="statement.restored").count() == 1


def test_three_reports_hide_a_statement_and_one_member_counts_once(
    members, moderator, open_conversation
):
    conversation = open_conversation()
    statement = conversation.statements.first()
    services.statement_report(reporter=members[0], statement=statement)
    services.statement_report(reporter=members[0], statement=statement, reason="Again")
    statement.refresh_from_db()
    assert statement.report_count == 1
    services.statement_report(reporter=members[1], statement=statement)
    services.statement_report(reporter=members[2], statement=statement)
    statement.refresh_from_db()
    assert statement.status == Statement.Status.HIDDEN
    assert AuditEntry.objects.filter(action="statement.auto_hidden").count() == 1
    with pytest.raises(services.ConversationRefused):
        vote(members[3], conversation, statement)
    services.statement_accept(moderator=moderator, statement=statement)
    statement.refresh_from_db()
    assert statement.is_visible and statement.report_count == 0
    assert not StatementReport.objects.filter(resolved_at__isnull=True).exists()


def test_dismissing_reports_keeps_the_statement(members, moderator, open_conversation):
    conversation = open_conversation()
    statement = conversation.statements.first()
    services.statement_report(reporter=members[0], statement=statement)
    services.statement_accept(moderator=moderator, statement=statement)
    assert AuditEntry.objects.filter(action="statement.reports_dismissed").count() == 1
    with pytest.raises(ValidationError):
        services.statement_accept(moderator=moderator, statement=statement)


def test_outsiders_cannot_report(outsider, open_conversation):
    conversation = open_conversation()
    with pytest.raises(PermissionDenied):
        services.statement_report(
            reporter=outsider, statement=conversation.statements.first()
        )


def test_author_is_told_when_a_held_statement_is_rejected(
    members, moderator, open_conversation
):
    from commonground.notifications.models import Notification

    conversation = open_conversation(moderation="pre")
    statement = services.statement_add(
        author=members[0], conversation=conversation, text="Maybe not."
    )
    services.statement_reject(
        moderator=moderator, statement=statement, reason="Off topic"
    )
    notice = Notification.objects.get(
        recipient=members[0], kind="conversations.statement_moderated"
    )
    assert "Off topic" in notice.body


def test_adding_through_the_page(client, members, open_conversation):
    conversation = open_conversation()
    client.force_login(members[0])
    response = client.post(
        reverse("conversations:statement_new", args=[conversation.pk]),
        {"text": "From the form."},
    )
    assert response.status_code == 302
    assert conversation.statements.filter(text="From the form.").exists()
