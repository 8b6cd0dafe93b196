"""The installed platform in a real browser: the service worker takes control, a
page asked for without a network is the offline page, and a write made offline is
not kept or sent later.

The live server listens on localhost, a secure context, so service workers run.
"""

from __future__ import annotations

import contextlib
import re

import pytest
from django.core import mail

from commonground.members.models import Group, Membership, User
from factories import PASSWORD, UserFactory, make_group

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def site_in_use(db):
    """A site with an account: an empty one sends "/" to its first-run page."""
    UserFactory()


OFFLINE_HEADING = "You are offline"
NEW_PASSWORD = "correct horse battery staple 2026"  # noqa: S105


def _controlled_by_the_worker(page) -> None:
    """Open the home page, wait for the worker to be active, reload once so that it
    controls the page (the first load happened before it existed)."""
    page.goto("/")
    scope = page.evaluate(
        "navigator.serviceWorker.ready.then((registration) => registration.scope)"
    )
    assert scope == page.url  # the home page's address: the whole site
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith(
        "/sw.js"
    )


def _cached_paths(page) -> dict[str, list[str]]:
    return page.evaluate(
        """async () => {
          const result = {};
          for (const name of await caches.keys()) {
            const cache = await caches.open(name);
            result[name] = (await cache.keys()).map((r) => new URL(r.url).pathname);
          }
          return result;
        }"""
    )


def _network_error_or_offline_page(page, seconds: float = 10) -> bool:
    """The failed form submission ends on chromium's error page (or the offline
    page); the error page commits a moment after the click returns."""
    for _ in range(int(seconds * 10)):
        if page.url.startswith("chrome-error://"):
            return True
        with contextlib.suppress(Exception):  # the page may be mid-navigation
            if page.get_by_role("heading", name=OFFLINE_HEADING).count():
                return True
        page.wait_for_timeout(100)
    return False


def _log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in|Log in", re.I)).click()
    page.wait_for_load_state()


def test_without_a_network_a_page_is_the_offline_page(page, live_server):
    _controlled_by_the_worker(page)
    caches = _cached_paths(page)
    assert len(caches) == 1
    [(name, paths)] = caches.items()
    assert name.startswith("commonground-")
    assert "/offline/" in paths
    assert any(path.endswith(".css") for path in paths)
    assert any("htmx" in path for path in paths)
    assert "/" not in paths  # pages are never kept

    page.context.set_offline(True)
    page.goto("/groups/")  # never visited: the network is asked, then the offline page
    assert page.get_by_role("heading", name=OFFLINE_HEADING).is_visible()
    assert page.url.endswith("/groups/")  # the address asked for stays in the bar
    # The stylesheet comes from the cache.
    assert page.evaluate("document.styleSheets[0].cssRules.length") > 0
    page.goto("/")  # visited before, but pages are not kept either
    assert page.get_by_role("heading", name=OFFLINE_HEADING).is_visible()

    page.context.set_offline(False)
    page.goto("/groups/")
    assert page.get_by_role("heading", name=OFFLINE_HEADING).count() == 0


def test_try_again_asks_for_the_page_again(page, live_server):
    _controlled_by_the_worker(page)
    page.context.set_offline(True)
    page.goto("/groups/")
    assert page.get_by_role("heading", name=OFFLINE_HEADING).is_visible()
    page.context.set_offline(False)
    page.get_by_role("link", name="Try again").click()
    page.wait_for_load_state()
    assert page.url.endswith("/groups/")
    assert page.get_by_role("heading", name=OFFLINE_HEADING).count() == 0


def test_a_form_sent_offline_is_not_queued_or_sent_later(page, live_server):
    """A plain form (signing up): offline the browser reports a network error (or
    shows the offline page); back online, nothing was written."""
    users = User.objects.count()
    _controlled_by_the_worker(page)
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("offline@example.org")
    page.get_by_label("Your name as other members see it").fill("Olu Offline")
    page.locator("#id_password1").fill(NEW_PASSWORD)
    page.locator("#id_password2").fill(NEW_PASSWORD)

    page.context.set_offline(True)
    from playwright.sync_api import Error as PlaywrightError

    with contextlib.suppress(PlaywrightError):  # a network error is one right answer
        page.get_by_role("button", name=re.compile("Sign up", re.I)).click()
        page.wait_for_load_state()
    assert _network_error_or_offline_page(page), page.url

    page.context.set_offline(False)
    page.goto("/")
    page.wait_for_timeout(1000)  # time for anything queued to be sent: nothing is
    assert User.objects.count() == users
    assert not User.objects.filter(email="offline@example.org").exists()
    assert mail.outbox == []


def test_an_htmx_write_offline_fails_and_is_not_sent_later(browser, live_server):
    """Joining a group is an htmx POST. Offline it fails (htmx reports the error,
    so this uses a plain context: new_page counts console errors as problems);
    back online the member is still not a member."""
    branch = make_group(name="Leeds branch", join_policy=Group.JoinPolicy.OPEN)
    member = UserFactory(display_name="Nia Member")
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    try:
        page = context.new_page()
        _log_in(page, member.email)
        _controlled_by_the_worker(page)
        page.goto(f"/groups/{branch.slug}/")
        failures = []
        page.on("requestfailed", lambda request: failures.append(request.method))

        context.set_offline(True)
        page.get_by_role("button", name="Join Leeds branch").click()
        page.wait_for_function("() => document.querySelector('.htmx-request') === null")
        page.wait_for_timeout(500)
        assert "POST" in failures

        context.set_offline(False)
        page.goto(f"/groups/{branch.slug}/")
        page.wait_for_timeout(1000)  # time for anything queued to be sent: nothing is
        assert not Membership.objects.filter(user=member, group=branch).exists()
        assert page.get_by_role("button", name="Join Leeds branch").is_visible()
    finally:
        context.close()
