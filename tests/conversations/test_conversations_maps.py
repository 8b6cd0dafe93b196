"""The opinion map: computed in the background from the votes, incrementally; the page
shows the groups, the viewer's own position, consensus and divisive statements with
sentences and tables, and how fresh it is; both engine modes; the final map and its
notice after closing."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from commonground.conversations import selectors, services
from commonground.conversations.models import ConversationMap, Statement
from commonground.conversations.services import maps
from commonground.engines.opinion import OpinionMap
from factories import make_member

from .conftest import vote

pytestmark = pytest.mark.django_db

TWO_SIDES = [f"Side statement {n}." for n in range(8)] + [
    "Everyone wants more trees.",
    "Everyone wants cleaner air.",
]


def assert_same(a, b, path="result"):
    """Equal structures, floats within 1e-9 (the engine's partial_fit promise)."""
    if isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9), path
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{index}]")
    else:
        assert a == b, path


def _two_groups(group, conversation, size=15):
    """Two groups of ``size``: A agrees with 0-4 and disagrees with 5-7, B the reverse;
    both agree with 8 and 9 (lopsided on purpose: a perfectly symmetric design
    leaves the map's orientation to rounding)."""
    statements = list(conversation.statements.order_by("number"))
    people = {"A": [], "B": []}
    for side in ("A", "B"):
        for index in range(size):
            member = make_member(group)
            people[side].append(member)
            for statement in statements:
                number = statement.number
                if number >= 8:
                    value = "agree"
                elif (number < 5) == (side == "A"):
                    value = "agree" if index % 7 else "pass"
                else:
                    value = "disagree"
                vote(member, conversation, statement, value)
    return people


@pytest.fixture
def mapped(group, open_conversation):
    conversation = open_conversation(seeds=TWO_SIDES)
    people = _two_groups(group, conversation)
    services.map_refresh(conversation_id=conversation.pk)
    return conversation, people


def test_the_map_finds_the_two_groups_and_the_common_ground(mapped):
    conversation, people = mapped
    stored = ConversationMap.objects.get(conversation=conversation)
    page = json.loads(stored.page_json)
    assert stored.mode == "improved" and page["k"] == 2
    assert sorted(g["members"] for g in page["groups"]) == [15, 15]
    assert {item["statement"] for item in page["consensus"]} == {8, 9}
    represented = {r["statement"] for g in page["groups"] for r in g["representative"]}
    assert represented <= set(range(8)) and represented
    divisive = {item["statement"] for item in page["divisive"]}
    assert divisive and divisive <= set(range(8))
    # Shares in and out of the group come with each representative statement.
    rep = page["groups"][0]["representative"][0]
    assert sum(rep["in"]) > 0 and sum(rep["out"]) > 0


def test_each_side_lands_in_one_group_and_the_viewer_is_marked(client, mapped):
    conversation, people = mapped
    stored = ConversationMap.objects.get(conversation=conversation)
    labels = {}
    for side, members in people.items():
        found = set()
        for member in members:
            access = selectors.access_for(member, conversation)
            from commonground.conversations import map_page

            position = map_page.position_of(
                bytes(stored.positions), access.participant_number
            )
            found.add(position["group"])
        assert len(found) == 1
        labels[side] = found.pop()
    assert labels["A"] != labels["B"]
    client.force_login(people["A"][0])
    response = client.get(reverse("conversations:map", args=[conversation.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    me = response.context["me"]
    assert me["group"] == labels["A"]
    assert f"group {me['label']}" in body
    assert 'id="opinion-map-me"' in body and "Everyone wants more trees." in body
    assert "of participants agree, and at least" in body  # the consensus sentence
    assert "<table" in body and "<caption>" in body  # table alternatives
    assert "Updated" in body


def test_page_refreshes_a_stale_map_and_says_how_fresh_it_is(
    client, group, mapped, django_capture_on_commit_callbacks
):
    conversation, people = mapped
    before = ConversationMap.objects.get(conversation=conversation).through_event
    newcomer = make_member(group)
    vote(newcomer, conversation, conversation.statements.get(number=0))
    assert services.map_is_stale(conversation)
    client.force_login(newcomer)
    url = reverse("conversations:map", args=[conversation.pk])
    # Outside a test's transaction the queued refresh runs as the view queues it.
    with django_capture_on_commit_callbacks(execute=True):
        stale = client.get(url)
    assert stale.context["view"].newer_votes == 1
    assert "newer answer is being added" in stale.content.decode()
    after = ConversationMap.objects.get(conversation=conversation)
    assert after.through_event > before
    assert not services.map_is_stale(conversation)
    assert client.get(url).context["view"].newer_votes == 0


def test_incremental_refresh_equals_a_fresh_fit(group, mapped):
    conversation, people = mapped
    report = services.map_refresh(conversation_id=conversation.pk)
    assert report is not None and report.skipped  # nothing new
    for member in people["B"][:5]:
        vote(member, conversation, conversation.statements.get(number=0), "agree")
    report = services.map_refresh(conversation_id=conversation.pk)
    assert report.warm and not report.skipped
    warm = json.loads(
        ConversationMap.objects.get(conversation=conversation).result_json
    )
    maps.warm_forget()
    cold_report = services.map_refresh(conversation_id=conversation.pk, force=True)
    assert not cold_report.warm
    cold = json.loads(
        ConversationMap.objects.get(conversation=conversation).result_json
    )
    assert warm["k"] == cold["k"]
    assert_same(warm["groups"], cold["groups"])
    assert_same(warm["consensus"], cold["consensus"])


def test_the_stored_map_is_the_engines_map_of_the_final_votes(mapped):
    conversation, people = mapped
    participants, statements, values = maps.final_votes_of(conversation.pk)
    direct = OpinionMap(mode="improved").fit(
        maps.vote_table(participants, statements, values),
        maps.statement_table(conversation.pk),
    )
    stored = json.loads(
        ConversationMap.objects.get(conversation=conversation).result_json
    )
    expected = direct.result_.to_dict()
    assert_same(stored["groups"], expected["groups"])
    assert_same(stored["consensus"], expected["consensus"])


def test_rejecting_a_statement_takes_it_off_the_map(moderator, mapped):
    conversation, people = mapped
    statement = conversation.statements.get(number=8)
    services.statement_reject(moderator=moderator, statement=statement)
    services.map_refresh(conversation_id=conversation.pk)
    stored = json.loads(
        ConversationMap.objects.get(conversation=conversation).result_json
    )
    assert stored["statements"]["8"]["moderated_out"] is True
    assert "8" not in stored["consensus"]["common_ground"]


def test_pol_is_mode_persists_its_state_and_continues_after_a_restart(
    group, organiser, open_conversation
):
    conversation = open_conversation(seeds=TWO_SIDES, engine_mode="polis")
    people = _two_groups(group, conversation, size=8)
    services.map_refresh(conversation_id=conversation.pk)
    stored = ConversationMap.objects.get(conversation=conversation)
    assert stored.mode == "polis" and stored.polis_state
    assert json.loads(stored.page_json)["k"] == 2
    maps.warm_forget()  # a worker restart: continue from the persisted state
    vote(people["A"][0], conversation, conversation.statements.get(number=5), "agree")
    report = services.map_refresh(conversation_id=conversation.pk)
    assert report is not None and not report.warm
    assert ConversationMap.objects.get(conversation=conversation).through_event > (
        stored.through_event
    )


def test_switching_the_engine_mode_recomputes_the_map(organiser, mapped):
    conversation, people = mapped
    services.conversation_update(
        actor=organiser,
        conversation=conversation,
        settings=services.ConversationSettings(
            question=conversation.question, engine_mode="polis"
        ),
    )
    conversation.refresh_from_db()
    assert services.map_is_stale(conversation)
    services.map_refresh(conversation_id=conversation.pk)
    assert ConversationMap.objects.get(conversation=conversation).mode == "polis"


def test_priorities_from_the_map_order_the_next_statements(mapped):
    conversation, people = mapped
    priorities = list(
        Statement.objects.filter(conversation=conversation).values_list(
            "priority", flat=True
        )
    )
    assert len(set(priorities)) > 1


def test_votes_queue_one_refresh_per_window(
    settings,
    members,
    open_conversation,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    queued = []
    monkeypatch.setattr(maps, "_queue", lambda cid, countdown: queued.append(cid))
    settings.CONVERSATION_MAP_DEBOUNCE_SECONDS = 60
    conversation = open_conversation()
    statements = list(conversation.statements.all())
    with django_capture_on_commit_callbacks(execute=True):
        for member in members[:3]:
            for statement in statements:
                vote(member, conversation, statement)
    assert queued == [conversation.pk]


def test_a_vote_refreshes_the_map_in_the_background_where_tasks_run_eagerly(
    settings, members, open_conversation, django_capture_on_commit_callbacks
):
    settings.CONVERSATION_MAP_DEBOUNCE_SECONDS = 0
    conversation = open_conversation()
    with django_capture_on_commit_callbacks(execute=True):
        vote(members[0], conversation, conversation.statements.first())
    assert ConversationMap.objects.filter(conversation=conversation).exists()
    assert not services.map_is_stale(conversation)


def test_a_broken_queue_never_fails_the_vote(
    settings,
    members,
    open_conversation,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from celery import current_app

    class Broken:
        def apply_async(self, *args, **kwargs):
            raise ConnectionError("broker down")

    settings.CONVERSATION_MAP_DEBOUNCE_SECONDS = 0
    monkeypatch.setitem(current_app.tasks, maps.REFRESH_TASK, Broken())
    conversation = open_conversation()
    with django_capture_on_commit_callbacks(execute=True):
        receipt = vote(members[0], conversation, conversation.statements.first())
    assert receipt.value == 1


def test_closing_computes_the_final_map_and_tells_the_participants(
    organiser, mapped, django_capture_on_commit_callbacks
):
    from commonground.notifications.models import Notification

    conversation, people = mapped
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_close(actor=organiser, conversation=conversation)
    told = set(
        Notification.objects.filter(kind="conversations.map_ready").values_list(
            "recipient_id", flat=True
        )
    )
    assert told == {m.pk for side in people.values() for m in side}
    assert not services.conversation_finish(conversation_id=conversation.pk)  # once


def test_the_sweep_finishes_conversations_whose_closing_time_passed(
    group, organiser, members, open_conversation
):
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    from commonground.audit.models import AuditEntry

    conversation = open_conversation(closes_at=timezone.now() + timedelta(hours=1))
    vote(members[0], conversation, conversation.statements.first())
    later = timezone.now() + timedelta(hours=2)
    with mock.patch.object(services.conversations.clock, "now", return_value=later):
        assert services.conversations_finish_due() == 1
        assert services.conversations_finish_due() == 0
    entry = AuditEntry.objects.get(action="conversation.closed")
    assert entry.actor_id is None and entry.reason == "closing time reached"


def test_map_page_before_any_vote_explains_itself(client, members, open_conversation):
    conversation = open_conversation()
    client.force_login(members[0])
    response = client.get(reverse("conversations:map", args=[conversation.pk]))
    assert response.status_code == 200
