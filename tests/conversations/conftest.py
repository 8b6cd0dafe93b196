"""Fixtures for conversations tests: a branch with members, an organiser, a moderator,
an outsider and a conversation builder.

Votes queue a map refresh at most once an hour here (tests that look at the map ask
for it: the map page, or ``services.map_refresh``), and every test starts with no
warm maps in the process.
"""

from __future__ import annotations

from typing import Any

import pytest

from commonground.conversations import services
from commonground.conversations.services import maps
from commonground.members.models import Role


@pytest.fixture(autouse=True)
def _quiet_maps(settings):
    settings.CONVERSATION_MAP_DEBOUNCE_SECONDS = 3600
    maps.warm_forget()
    maps._scheduled_locally.clear()
    yield
    maps.warm_forget()
    maps._scheduled_locally.clear()


@pytest.fixture
def group(db):
    from factories import make_group

    return make_group(name="Leeds branch")


@pytest.fixture
def organiser(group):
    from factories import make_role

    return make_role(group, Role.ORGANISER)


@pytest.fixture
def moderator(group):
    from factories import make_role

    return make_role(group, Role.MODERATOR)


@pytest.fixture
def members(group):
    from factories import make_member

    return [make_member(group) for _ in range(6)]


@pytest.fixture
def outsider(db):
    from factories import UserFactory

    return UserFactory()


SEEDS = (
    "The branch should meet every month.",
    "Meetings should be open to non-members.",
    "We need a bigger room.",
)


@pytest.fixture
def open_conversation(group, organiser):
    """Open a conversation in ``group`` (seed statements by default)."""

    def build(seeds: Any = SEEDS, **settings: Any):
        settings.setdefault("question", "How should the branch meet?")
        return services.conversation_create(
            actor=organiser,
            group=group,
            settings=services.ConversationSettings(**settings),
            seeds=list(seeds),
        )

    return build


def vote(user, conversation, statement, value="agree"):
    """Answer through the vote path's own access look-up, as the view does."""
    from commonground.conversations import selectors

    access = selectors.vote_access(user, conversation.pk)
    return services.vote_cast(access=access, statement_id=statement.pk, value=value)
