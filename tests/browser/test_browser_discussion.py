"""Discussion threads in a real browser: htmx posting and replies, the same without
JavaScript, stored XSS staying inert (T21), axe-core on the thread page."""

from __future__ import annotations

import re

import pytest

from commonground.discussion import rules, services
from commonground.discussion.models import Comment
from commonground.discussion.views import thread_url
from commonground.members.models import Group
from commonground.members.selectors import viewer_for
from factories import PASSWORD, make_group, make_member

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

XSS_PAYLOADS = [
    "<script>alert('xss-1')</script>",
    "[click me](javascript:alert('xss-2'))",
    "<img src=x onerror=\"alert('xss-3')\">",
    "<svg onload=alert('xss-4')>",
    "[x](http://example.org\" onmouseover=\"alert('xss-5'))",
]


class GroupDiscussion:
    def can_read(self, user, target):
        return target.is_public or viewer_for(user, target).is_member

    def can_post(self, user, target):
        return viewer_for(user, target).is_member

    def group_for(self, target):
        return target


@pytest.fixture(autouse=True)
def group_policy():
    rules.register_rule(Group, GroupDiscussion())
    yield
    rules.unregister_rule(Group)


def _log_in(page, email):
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def test_member_comments_and_replies_in_place_with_htmx(page, axe_check):
    group = make_group(name="Leeds branch")
    member = make_member(group)
    _log_in(page, member.email)
    url = thread_url(group)
    page.goto(url)
    axe_check(page)

    page.get_by_label("Your comment").fill("We should meet on *Thursdays*")
    page.get_by_role("button", name="Post comment").click()
    first = page.locator(".comment").first
    first.get_by_text("We should meet on").wait_for()
    assert first.locator("em").inner_text() == "Thursdays"
    assert page.url.endswith(url)  # swapped in place, no navigation
    assert page.get_by_label("Your comment").input_value() == ""
    comment = Comment.objects.get()

    first.locator("summary", has_text="Reply").click()
    page.get_by_label(re.compile("Your reply to")).fill("Thursdays suit me")
    page.get_by_role("button", name="Post reply").click()
    page.locator(f"#replies-{comment.pk} .comment").get_by_text(
        "Thursdays suit me"
    ).wait_for()
    assert Comment.objects.get(body="Thursdays suit me").parent_id == comment.pk
    axe_check(page)


def test_thread_works_without_javascript(new_page):
    group = make_group(name="York branch")
    member = make_member(group)
    page = new_page(java_script_enabled=False)
    _log_in(page, member.email)
    page.goto(thread_url(group))
    page.get_by_label("Your comment").fill("No scripts needed")
    page.get_by_role("button", name="Post comment").click()
    page.wait_for_load_state()
    assert "#comment-" in page.url
    assert page.get_by_text("No scripts needed").is_visible()
    comment = Comment.objects.get()
    page.locator(f"#comment-{comment.pk} summary", has_text="Reply").click()
    page.get_by_label(re.compile("Your reply to")).fill("A reply without scripts")
    page.get_by_role("button", name="Post reply").click()
    page.wait_for_load_state()
    assert (
        page.locator(f"#replies-{comment.pk}")
        .get_by_text("A reply without scripts")
        .is_visible()
    )
    # (axe-core needs JavaScript; the same page is checked in the htmx test.)


def test_stored_xss_payloads_stay_inert_in_the_browser(page, axe_check):
    from factories import UserFactory

    group = make_group(name="Hull branch")
    member = make_member(
        group, user=UserFactory(display_name="<img src=x onerror=alert('name')>")
    )
    for payload in XSS_PAYLOADS:
        services.comment_post(author=member, target=group, body=payload)
    _log_in(page, make_member(group).email)
    page.goto(thread_url(group))
    page.locator(".comment-body").first.wait_for()
    # Hover and click every link in the comments: nothing may run.
    for link in page.locator(".comment-body a").all():
        link.hover()
    dangerous = page.evaluate(
        """() => {
          const found = [];
          for (const el of document.querySelectorAll('*')) {
            for (const attr of el.attributes) {
              if (/^on/i.test(attr.name)) found.push(el.tagName + ' ' + attr.name);
              if (/^\\s*javascript:/i.test(attr.value)) found.push(el.tagName + ' ' + attr.name);
            }
          }
          return found.concat(
            Array.from(document.querySelectorAll('.comment-body script, .comment-body img, .comment-body svg'))
              .map(el => el.tagName));
        }"""
    )
    assert dangerous == []
    assert page.locator(".comment-body").count() == len(XSS_PAYLOADS)
    # The display name is shown as text, not markup.
    assert page.get_by_text("<img src=x onerror=alert('name')>").first.is_visible()
    axe_check(page)
    # The new_page fixture fails the test on any dialog, page error or CSP report.


def test_moderator_reviews_a_hidden_comment_from_the_queue(page, axe_check):
    from commonground.members.models import Role
    from factories import make_role

    group = make_group(name="Sheffield branch")
    author = make_member(group)
    comment = services.comment_post(author=author, target=group, body="Hot take")
    for _ in range(3):
        services.comment_report(
            reporter=make_member(group), comment=comment, reason="rude"
        )
    moderator = make_role(group, Role.MODERATOR)
    _log_in(page, moderator.email)
    page.goto(f"/groups/{group.slug}/")
    page.get_by_role("link", name="Moderation").click()
    page.wait_for_load_state()
    axe_check(page)
    assert page.get_by_text("Hot take").is_visible()
    page.get_by_role("button", name="Show it again").click()
    page.wait_for_load_state()
    axe_check(page)
    assert page.get_by_text("Nothing to review.").is_visible()
    comment.refresh_from_db()
    assert comment.status == Comment.Status.VISIBLE
