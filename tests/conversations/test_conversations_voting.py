"""Taking part: one statement at a time, agree / disagree / pass by form or htmx,
seed statements first, changing an answer (the history keeps both), and every
refusal: outsiders (URL guessing included), anonymous visitors, statements that are
hidden, rejected, waiting or of another conversation, and closed conversations."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from commonground.conversations import selectors, services
from commonground.conversations.models import (
    Participant,
    Statement,
    Vote,
    VoteEvent,
)
from factories import make_group, make_member, make_role

from .conftest import vote

pytestmark = pytest.mark.django_db


def _post_vote(client, conversation, statement, value, **extra):
    return client.post(
        reverse("conversations:vote", args=[conversation.pk]),
        {"statement": statement.pk, "vote": value},
        **extra,
    )


def test_member_sees_a_seed_statement_first_and_answers_it_with_a_plain_form(
    client, members, open_conversation
):
    conversation = open_conversation()
    client.force_login(members[0])
    page = client.get(reverse("conversations:detail", args=[conversation.pk]))
    assert page.status_code == 200
    first = conversation.statements.get(number=0)
    assert page.context["card"].id == first.pk  # seeds come first, in order
    assert page.context["remaining"] == 3
    response = _post_vote(client, conversation, first, "agree")
    assert response.status_code == 302
    vote_row = Vote.objects.get()
    assert (vote_row.statement_id, vote_row.value) == (first.pk, 1)
    participant = Participant.objects.get(user=members[0])
    assert vote_row.participant_id == participant.pk and participant.number == 1
    assert VoteEvent.objects.count() == 1


def test_htmx_answer_swaps_in_the_next_statement_and_announces_it(
    client, members, open_conversation
):
    conversation = open_conversation()
    client.force_login(members[0])
    first, second = conversation.statements.order_by("number")[:2]
    response = _post_vote(
        client, conversation, first, "disagree", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="statement-card"' in body
    assert second.text in body and first.text not in body.split("vote-status")[0]
    assert 'hx-swap-oob="innerHTML"' in body and "you disagree" in body
    assert response.context["remaining"] == 2


def test_changing_an_answer_keeps_one_vote_and_the_whole_history(
    members, open_conversation
):
    conversation = open_conversation()
    statement = conversation.statements.first()
    for value in ("agree", "pass", "disagree"):
        vote(members[0], conversation, statement, value)
    assert list(Vote.objects.values_list("value", flat=True)) == [-1]
    assert list(VoteEvent.objects.order_by("id").values_list("value", flat=True)) == [
        1,
        0,
        -1,
    ]
    assert len(set(VoteEvent.objects.values_list("at_ms", flat=True))) >= 1


def test_changing_an_earlier_answer_from_the_list(client, members, open_conversation):
    conversation = open_conversation()
    statement = conversation.statements.first()
    vote(members[0], conversation, statement, "agree")
    client.force_login(members[0])
    response = client.post(
        reverse("conversations:vote", args=[conversation.pk]),
        {"statement": statement.pk, "vote": "pass", "from": "mine"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert f'id="my-vote-{statement.pk}"' in response.content.decode()
    assert Vote.objects.get().value == 0


def test_a_participant_who_answered_everything_is_told_so(members, open_conversation):
    conversation = open_conversation()
    for statement in conversation.statements.all():
        vote(members[0], conversation, statement)
    access = selectors.access_for(members[0], conversation)
    candidates = selectors.next_candidates(conversation.pk, access.participant_id)
    assert candidates.cards == [] and candidates.remaining == 0


def test_without_seeds_the_next_statement_is_drawn_by_priority(
    members, open_conversation
):
    import random

    conversation = open_conversation(seeds=())
    for index in range(4):
        services.statement_add(
            author=members[index],
            conversation=conversation,
            text=f"Idea number {index}.",
        )
    Statement.objects.filter(number=2).update(priority=1000.0)
    Statement.objects.exclude(number=2).update(priority=0.001)
    access = selectors.access_for(members[5], conversation)
    cards = selectors.next_candidates(conversation.pk, access.participant_id).cards
    chosen = {
        selectors.choose_next(cards, random.Random(seed)).number for seed in range(20)
    }
    assert chosen == {2}


def test_invalid_answer_is_refused(members, open_conversation):
    from django.core.exceptions import ValidationError

    conversation = open_conversation()
    with pytest.raises(ValidationError):
        vote(members[0], conversation, conversation.statements.first(), "maybe")
    assert not Vote.objects.exists()


# Refusals -----------------------------------------------------------------------------


def test_outsider_cannot_vote_and_nothing_is_stored(
    client, outsider, open_conversation
):
    conversation = open_conversation()
    statement = conversation.statements.first()
    with pytest.raises(PermissionDenied):
        vote(outsider, conversation, statement)
    client.force_login(outsider)
    assert _post_vote(client, conversation, statement, "agree").status_code == 404
    assert (
        not Vote.objects.exists()
        and not Participant.objects.filter(user=outsider).exists()
    )


def test_anonymous_visitor_is_sent_to_log_in(client, open_conversation):
    conversation = open_conversation()
    response = _post_vote(
        client, conversation, conversation.statements.first(), "agree"
    )
    assert response.status_code in (302, 404)
    assert not Vote.objects.exists()


@pytest.mark.parametrize("status", ["hidden", "rejected", "pending"])
def test_a_statement_that_is_not_visible_cannot_be_answered(
    client, members, open_conversation, status
):
    conversation = open_conversation()
    statement = conversation.statements.first()
    Statement.objects.filter(pk=statement.pk).update(status=status)
    with pytest.raises(services.ConversationRefused):
        vote(members[0], conversation, statement)
    client.force_login(members[1])
    response = _post_vote(
        client, conversation, statement, "agree", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 404
    assert not Vote.objects.exists() and not VoteEvent.objects.exists()


def test_a_statement_of_another_conversation_cannot_be_answered_here(
    members, open_conversation
):
    first = open_conversation()
    second = open_conversation(seeds=["Elsewhere."], question="Another?")
    with pytest.raises(services.ConversationRefused):
        vote(members[0], first, second.statements.get())
    assert not Vote.objects.exists()


def test_private_group_conversation_is_invisible_to_outsiders_url_guessing_included(
    client, outsider
):
    group = make_group(is_public=False)
    organiser = make_role(group)
    member = make_member(group)
    conversation = services.conversation_create(
        actor=organiser,
        group=group,
        settings=services.ConversationSettings(question="Secret?"),
        seeds=["Hidden seed."],
    )
    statement = conversation.statements.get()
    vote(member, conversation, statement)
    services.map_refresh(conversation_id=conversation.pk)
    client.force_login(outsider)
    urls = [
        reverse("conversations:detail", args=[conversation.pk]),
        reverse("conversations:map", args=[conversation.pk]),
        reverse("conversations:export", args=[conversation.pk]),
        reverse("conversations:moderation", args=[conversation.pk]),
        reverse("conversations:edit", args=[conversation.pk]),
        reverse("conversations:group", args=[group.slug]),
        reverse("conversations:detail", args=[conversation.pk + 1000]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    for name in ("statement_report", "statement_propose", "statement_moderate"):
        url = reverse(f"conversations:{name}", args=[statement.pk])
        assert client.post(url, {"decision": "accept"}).status_code == 404, url
    assert _post_vote(client, conversation, statement, "agree").status_code == 404
    assert Vote.objects.count() == 1


def test_private_map_is_refused_to_non_participants_and_public_map_is_not(
    client, outsider, organiser, members, open_conversation
):
    conversation = open_conversation()
    vote(members[0], conversation, conversation.statements.first())
    url = reverse("conversations:map", args=[conversation.pk])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 404
    services.conversation_update(
        actor=organiser,
        conversation=conversation,
        settings=services.ConversationSettings(
            question=conversation.question, map_visibility="public"
        ),
    )
    assert client.get(url).status_code == 200
    client.force_login(members[1])
    assert client.get(url).status_code == 200


def test_vote_path_runs_three_statements_for_a_returning_participant(
    client, members, open_conversation
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    conversation = open_conversation()
    first, second = conversation.statements.order_by("number")[:2]
    vote(members[0], conversation, first)
    client.force_login(members[0])
    with CaptureQueriesContext(connection) as captured:
        response = _post_vote(
            client, conversation, second, "agree", HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200
    ours = [
        q["sql"]
        for q in captured.captured_queries
        if "conversations_" in q["sql"] and "django_session" not in q["sql"]
    ]
    # Access (one statement), the vote (one on PostgreSQL: upsert and history in a
    # CTE; two on SQLite), the next statement with the count left (one).
    expected = 3 if connection.vendor == "postgresql" else 4
    assert len(ours) == expected, ours
