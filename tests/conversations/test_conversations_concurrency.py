"""Real concurrent votes on PostgreSQL: threads with their own connections.

A pool of 32 threads (PostgreSQL's default limit is 100 connections, shared with the
other test workers) runs 200 votes released together by one gate; each task closes
its thread's connection when it ends.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from commonground.conversations import selectors, services
from commonground.conversations.models import (
    Participant,
    Statement,
    StatementReport,
    Vote,
    VoteEvent,
)

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

VOTES = 200
THREADS = 32


def _run_all(tasks) -> list[object]:
    """Run every task once the gate opens; collect outcomes, not exceptions."""
    gate = threading.Event()

    def run(task):
        gate.wait()
        try:
            return task()
        except Exception as error:  # noqa: BLE001 - reported by the test
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(run, task) for task in tasks]
        gate.set()
        return [future.result() for future in futures]


def _vote(user, conversation_id, statement_id, value):
    access = selectors.vote_access(user, conversation_id)
    return services.vote_cast(access=access, statement_id=statement_id, value=value)


VALUES = ("agree", "disagree", "pass")


def test_200_simultaneous_votes_by_one_participant_leave_exactly_one_the_last(
    members, open_conversation
):
    conversation = open_conversation()
    statement = conversation.statements.first()
    member = members[0]  # no participant row yet: the first votes also race to join
    outcomes = _run_all(
        [
            lambda i=i: _vote(member, conversation.pk, statement.pk, VALUES[i % 3])
            for i in range(VOTES)
        ]
    )
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert errors == []
    assert Participant.objects.filter(user=member).count() == 1
    assert Vote.objects.filter(statement=statement).count() == 1
    history = list(VoteEvent.objects.filter(statement=statement).order_by("id"))
    assert len(history) == VOTES
    # The stored answer is the last one the history recorded.
    assert Vote.objects.get(statement=statement).value == history[-1].value


def test_200_participants_voting_at_once_lose_no_vote(group, open_conversation):
    from factories import make_member

    conversation = open_conversation()
    statements = list(conversation.statements.all())
    voters = [make_member(group) for _ in range(VOTES)]
    outcomes = _run_all(
        [
            lambda v=v, i=i: _vote(
                v, conversation.pk, statements[i % len(statements)].pk, VALUES[i % 3]
            )
            for i, v in enumerate(voters)
        ]
    )
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert Vote.objects.filter(conversation=conversation).count() == VOTES
    assert VoteEvent.objects.filter(conversation=conversation).count() == VOTES
    numbers = list(
        Participant.objects.filter(
            conversation=conversation, user__in=voters
        ).values_list("number", flat=True)
    )
    assert len(numbers) == len(set(numbers)) == VOTES


def test_a_vote_racing_the_close_is_either_in_before_it_or_refused(
    group, organiser, open_conversation
):
    from factories import make_member

    conversation = open_conversation()
    statement = conversation.statements.first()
    voters = [make_member(group) for _ in range(100)]
    tasks = [
        lambda v=v: _vote(v, conversation.pk, statement.pk, "agree") for v in voters
    ]
    tasks.insert(
        50,
        lambda: services.conversation_close(actor=organiser, conversation=conversation),
    )
    outcomes = _run_all(tasks)
    unexpected = [
        o
        for o in outcomes
        if isinstance(o, Exception) and not isinstance(o, services.ConversationRefused)
    ]
    assert unexpected == []
    conversation.refresh_from_db()
    stored = list(VoteEvent.objects.filter(conversation=conversation))
    accepted = sum(1 for o in outcomes if isinstance(o, services.VoteReceipt))
    assert len(stored) == accepted == Vote.objects.filter(statement=statement).count()
    closed_ms = services.clock.to_ms(conversation.closed_at)
    assert all(event.at_ms <= closed_ms for event in stored)


def test_the_same_statement_added_at_once_is_stored_once(group, open_conversation):
    from factories import make_member

    conversation = open_conversation()
    authors = [make_member(group) for _ in range(40)]
    outcomes = _run_all(
        [
            lambda a=a: services.statement_add(
                author=a, conversation=conversation, text="Exactly the same idea."
            )
            for a in authors
        ]
    )
    added = [o for o in outcomes if isinstance(o, Statement)]
    refused = [o for o in outcomes if isinstance(o, services.ConversationRefused)]
    assert len(added) == 1 and len(refused) == len(authors) - 1
    numbers = list(conversation.statements.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))


def test_concurrent_reports_by_one_member_count_once(members, open_conversation):
    conversation = open_conversation()
    statement = conversation.statements.first()
    outcomes = _run_all(
        [
            lambda: services.statement_report(reporter=members[0], statement=statement)
            for _ in range(20)
        ]
    )
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert StatementReport.objects.filter(statement=statement).count() == 1
    statement.refresh_from_db()
    assert statement.report_count == 1
