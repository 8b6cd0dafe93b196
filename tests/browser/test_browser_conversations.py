"""A conversation in a real browser: a member answers ten statements with the keyboard
only (A, D, P; htmx swaps in the next one and the focus stays on it), adds a
statement, opens the map and finds their own position and the consensus list;
axe-core on the voting and map pages; and the same answers without JavaScript."""

from __future__ import annotations

import time

import pytest

from commonground.conversations import selectors, services
from commonground.conversations.models import Participant, Statement, Vote
from commonground.members.models import Role
from factories import PASSWORD, make_group, make_member, make_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIDES = [f"Position {n} on the budget." for n in range(10)]
COMMON = [
    "We should keep the branch accounts public.",
    "Meetings need step-free access.",
]


def _log_in(page, email):
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def _wait_for_focus(page, element_id: str, seconds: float = 5.0) -> None:
    """The keyboard focus is on ``element_id`` (settles a moment after the swap)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if page.evaluate("document.activeElement && document.activeElement.id") == (
            element_id
        ):
            return
        page.wait_for_timeout(25)
    raise AssertionError(f"the focus did not move to #{element_id}")


def _conversation():
    """Twelve statements; 30 members in two camps who all agree on the last two."""
    group = make_group(name="Leeds branch")
    organiser = make_role(group, Role.ORGANISER)
    conversation = services.conversation_create(
        actor=organiser,
        group=group,
        settings=services.ConversationSettings(question="What should we spend on?"),
        seeds=SIDES + COMMON,
    )
    statements = list(conversation.statements.order_by("number"))
    for side in (0, 1):
        for index in range(15):
            member = make_member(group)
            access = selectors.vote_access(member, conversation.pk)
            for statement in statements:
                if statement.number >= len(SIDES):
                    value = "agree"
                elif (statement.number < 6) == (side == 0):
                    value = "agree" if index % 5 else "pass"
                else:
                    value = "disagree"
                services.vote_cast(
                    access=access, statement_id=statement.pk, value=value
                )
    return conversation, make_member(group)


def test_member_answers_ten_statements_by_keyboard_adds_one_and_finds_themselves_on_the_map(
    page, axe_check
):
    conversation, member = _conversation()
    _log_in(page, member.email)
    page.goto(f"/conversations/{conversation.pk}/")
    axe_check(page)
    text = page.locator("#statement-text")
    ready = page.locator("#statement-card[data-ready]")
    for key in "adpadpaadd":
        ready.wait_for()
        before = text.inner_text()
        page.keyboard.press(key)
        # The next statement comes in and takes the keyboard focus.
        page.wait_for_function(
            "before => { const t = document.getElementById('statement-text');"
            " return t && t.innerText !== before; }",
            arg=before,
        )
        ready.wait_for()
        _wait_for_focus(page, "statement-text")
    assert "Recorded" in page.locator("#vote-status").inner_text()
    participant = Participant.objects.get(user=member)
    assert Vote.objects.filter(participant=participant).count() == 10
    values = list(
        Vote.objects.filter(participant=participant).values_list("value", flat=True)
    )
    assert values.count(1) == 4 and values.count(-1) == 4 and values.count(0) == 2

    # Add a statement: type it and press Enter on the button.
    page.locator("#id_text").focus()
    page.keyboard.type("We should fund a creche at meetings.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "your statement is added" in page.locator(".messages").inner_text()
    assert Statement.objects.filter(
        text="We should fund a creche at meetings."
    ).exists()

    page.goto(f"/conversations/{conversation.pk}/map/")
    position = page.locator("#my-position").inner_text()
    assert "You are in group" in position
    consensus = page.locator("#consensus .statement-result__text").all_inner_texts()
    assert set(COMMON) <= set(consensus)
    page.locator("#opinion-map svg").first.wait_for()
    axe_check(page)


def test_answers_work_without_javascript(new_page):
    conversation, member = _conversation()
    page = new_page(java_script_enabled=False)
    _log_in(page, member.email)
    page.goto(f"/conversations/{conversation.pk}/")
    first = page.locator("#statement-text").inner_text()
    page.get_by_role("button", name="Disagree").first.click()
    page.wait_for_load_state()
    assert "you disagree" in page.locator(".messages").inner_text()
    assert page.locator("#statement-text").inner_text() != first
    assert Vote.objects.filter(participant__user=member, value=-1).count() == 1
