"""Fidelity: a real Pol.is conversation replayed through the platform's services gives
the map the engine computes directly on the export.

``brexit-consensus`` (openData, CC BY 4.0, The Computational Democracy Project: 204
voters, 50 statements, 5,312 vote rows) is replayed in time order: its owner (voter
0) opens the conversation and adds the seed statements, other authors add theirs
(the service records the author's agree, as Pol.is did), and every vote row is cast
through ``vote_cast`` at its original time; the statements Pol.is moderated out are
rejected at the end (openData has no moderation times). Members join in the order
of their Pol.is ids, so participant numbers equal the voter ids, and statement
numbers equal the comment ids. The platform's map (the background refresh, from
the database) must then equal ``OpinionMap`` on the export folder: the same groups
with the same members, the same representative statements, the same consensus.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from unittest import mock

import pytest

from commonground.conversations import selectors, services
from commonground.conversations.models import ConversationMap, Statement
from commonground.conversations.services import clock, statements, voting
from commonground.engines.opinion import OpinionMap, read_polis_export
from commonground.members.models import Role
from factories import make_group, make_member, make_role
from support import shared_data

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

FOLDER = ("polis", "opendata", "brexit-consensus")


def _at(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


def _timeline(folder):
    """Statements and votes in time order; at equal times a statement comes first,
    and rows keep their file order."""
    with open(folder / "comments.csv", encoding="utf-8", newline="") as handle:
        comments = list(csv.DictReader(handle))
    with open(folder / "votes.csv", encoding="utf-8", newline="") as handle:
        votes = list(csv.DictReader(handle))
    events = [
        (int(c["timestamp"]), 0, i, "statement", c) for i, c in enumerate(comments)
    ]
    events += [(int(v["timestamp"]), 1, i, "vote", v) for i, v in enumerate(votes)]
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    return comments, votes, events


def _replay(folder):
    comments, votes, events = _timeline(folder)
    voter_ids = sorted(
        {int(v["voter-id"]) for v in votes} | {int(c["author-id"]) for c in comments}
    )
    group = make_group(name="Brexit debate")
    users = {}
    first_time = events[0][0]
    with mock.patch.object(clock, "now", return_value=_at(first_time)):
        owner = make_role(group, Role.ORGANISER)
        users[0] = owner
        for voter in voter_ids:
            if voter not in users:
                users[voter] = make_member(group)
        conversation = services.conversation_create(
            actor=owner,
            group=group,
            settings=services.ConversationSettings(
                question="Can there be consensus on Brexit?"
            ),
            notify=False,
        )
        # Members join in the order of their Pol.is ids: numbers equal the ids.
        for voter in voter_ids:
            participant_id, number = voting.participant_ensure(
                conversation_id=conversation.pk, user=users[voter]
            )
            assert number == voter
    statement_ids = {}
    accesses = {}
    with (
        mock.patch.object(statements, "RATE_COUNT", 10_000),
        mock.patch.object(clock, "now") as now,
    ):
        for timestamp, _order, _index, kind, row in events:
            now.return_value = _at(timestamp)
            if kind == "statement":
                author = users[int(row["author-id"])]
                statement = services.statement_add(
                    author=author,
                    conversation=conversation,
                    text=row["comment-body"],
                    is_seed=author == owner,
                )
                assert statement.number == int(row["comment-id"])
                statement_ids[row["comment-id"]] = statement.pk
                continue
            voter = int(row["voter-id"])
            access = accesses.get(voter)
            if access is None:
                access = accesses[voter] = selectors.vote_access(
                    users[voter], conversation.pk
                )
            services.vote_cast(
                access=access,
                statement_id=statement_ids[row["comment-id"]],
                value=int(row["vote"]),
            )
        for row in comments:
            if row["moderated"] == "-1":
                services.statement_reject(
                    moderator=owner,
                    statement=Statement.objects.get(
                        pk=statement_ids[row["comment-id"]]
                    ),
                )
    return conversation


def _compare(ours: dict, direct: dict) -> None:
    assert ours["k"] == direct["k"]
    assert ours["input"]["votes"] == direct["input"]["votes"]
    for mine, theirs in zip(ours["groups"], direct["groups"], strict=True):
        assert mine["members"] == theirs["members"]
        assert [(r["statement"], r["direction"]) for r in mine["representative"]] == [
            (r["statement"], r["direction"]) for r in theirs["representative"]
        ]
    assert ours["consensus"]["common_ground"] == direct["consensus"]["common_ground"]
    for side in ("agree", "disagree"):
        assert [m["statement"] for m in ours["consensus"]["majority"][side]] == [
            m["statement"] for m in direct["consensus"]["majority"][side]
        ]


def _memberships(conversation) -> dict[str, int]:
    """Participant number (= Pol.is voter id) -> group, from the stored positions."""
    import io

    import numpy as np

    blob = ConversationMap.objects.get(conversation=conversation).positions
    positions = np.load(io.BytesIO(bytes(blob)), allow_pickle=False)
    return {str(int(row["number"])): int(row["group"]) for row in positions}


def test_replay_through_the_services_gives_the_engines_map_of_the_export():
    from commonground.conversations.models import Conversation

    folder = shared_data(*FOLDER)
    conversation = _replay(folder)
    votes, table = read_polis_export(folder)
    for mode in ("improved", "polis"):
        Conversation.objects.filter(pk=conversation.pk).update(engine_mode=mode)
        conversation.refresh_from_db()
        report = services.map_refresh(conversation_id=conversation.pk, force=True)
        assert report is not None
        ours = json.loads(
            ConversationMap.objects.get(conversation=conversation).result_json
        )
        direct = OpinionMap(mode=mode, replay=mode == "polis").fit(votes, table).result_
        _compare(ours, direct.to_dict())
        assert _memberships(conversation) == {
            p.id: (-1 if p.group is None else p.group) for p in direct.participants
        }, mode
