"""The notification centre and the preferences page with the keyboard only, and
axe-core on both: reach the centre from the header badge, mark one read (htmx),
then change a choice and save it."""

from __future__ import annotations

import pytest

from commonground.notifications.models import Notification, Preference
from factories import PASSWORD, UserFactory, make_group, make_member

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(page, email):
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def _tab_to(page, locator, limit=40):
    """Press Tab until ``locator`` has the focus; fail if it never does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("node => node === document.activeElement"):
            return
    pytest.fail(f"never reached {locator} with Tab")


def _notify(member, group):
    from commonground.notifications.services import notify

    notify(
        "members.membership_decided",
        recipients=[member],
        group=group,
        url=f"/groups/{group.slug}/",
        context={"decision": "approved", "reason": "", "url": ""},
    )
    return Notification.objects.filter(recipient=member).latest("id")


def test_centre_and_preferences_work_with_the_keyboard_only(page, axe_check):
    group = make_group(name="Leeds branch")
    member = make_member(group, UserFactory(display_name="Kim"))
    first = _notify(member, group)
    _notify(member, group)
    _log_in(page, member.email)

    badge = page.locator("#notification-badge")
    assert "2" in badge.inner_text()
    page.locator("body").focus()
    _tab_to(page, badge)
    page.keyboard.press("Enter")
    page.wait_for_url("**/notifications/")
    axe_check(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Notifications"

    mark = page.locator(f"#notification-{first.pk} button", has_text="Mark as read")
    _tab_to(page, mark)
    page.keyboard.press("Enter")
    page.locator(f"#notification-{first.pk} >> text=Mark as read").wait_for(
        state="detached"
    )
    first.refresh_from_db()
    assert first.read_at is not None
    axe_check(page)

    choose = page.get_by_role("link", name="Choose what you are told")
    _tab_to(page, choose)
    page.keyboard.press("Enter")
    page.wait_for_url("**/notifications/preferences/")
    axe_check(page)

    replies = page.get_by_label("Someone replies to my comment in All groups")
    _tab_to(page, replies)
    # Keyboard selection of a <select>: type the start of the wanted option.
    page.keyboard.type("Daily")
    assert replies.input_value() == "daily"
    save = page.get_by_role("button", name="Save choices")
    _tab_to(page, save, limit=200)
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text().strip() == (
        "Your notification choices are saved."
    )
    axe_check(page)
    assert (
        Preference.objects.get(
            member=member, kind="discussion.reply", group_id=None
        ).channel
        == "daily"
    )
