"""Every row lock conversation writes take, and their order.

Across statements the order is: the conversation row, then a statement row. The
conversation row is locked by settings changes, closing, imports and by handing out
participant and statement numbers (an ``UPDATE ... RETURNING`` on its counters, so
concurrent first votes take numbers one after another). Votes never lock it: a vote
is one upsert whose ``WHERE`` re-checks that the conversation is open and the
statement visible, so a vote racing a close either commits before it or is refused.
A statement row is locked by moderation and reports, so concurrent reports count
one after another. SQLite runs one write transaction at a time, so there the locks
change nothing.
"""

from __future__ import annotations

from ..models import Conversation, Statement


def conversation_for_update(conversation_id: int) -> Conversation:
    """The conversation with its group and organisation, locked (the joined rows too)."""
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("group", "group__organisation")
        .get(pk=conversation_id)
    )


def statement_for_update(statement_id: int) -> Statement:
    """The statement, locked; take its conversation's lock first when you need both."""
    return (
        Statement.objects.select_for_update(of=("self",))
        .select_related(
            "conversation", "conversation__group", "conversation__group__organisation"
        )
        .get(pk=statement_id)
    )
