"""Publishing in a real browser: an editor writes and publishes an interview; a visitor
comments, confirms by the emailed link and sees the comment; a member replies;
axe-core on the home, article and editor pages; the article reads at 375 px."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from commonground.discussion.models import Comment
from commonground.members.models import Group, Role
from commonground.publishing.models import Article
from factories import PASSWORD, UserFactory, make_group, make_member, make_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

QUESTION = "Why did you join?"
ANSWER = "Because members decide here."


def _log_in(page, email):
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


@pytest.fixture
def movement(settings):
    # The site's setting: a confirmed visitor comment appears without a moderator.
    settings.COMMONGROUND_VISITOR_HOLD = "none"
    national = make_group(name="National", kind=Group.Kind.NATIONAL)
    editor = make_role(
        national,
        Role.EDITOR,
        user=make_member(national, UserFactory(display_name="Eddie Editor")),
    )
    member = make_member(national, UserFactory(display_name="Alex Member"))
    return {"group": national, "editor": editor, "member": member}


def _publish_interview(page, group) -> Article:
    page.goto(f"/groups/{group.slug}/articles/")
    page.get_by_role("link", name="Write an article").click()
    page.get_by_role("radio", name="Interview").check()
    page.get_by_label("Title", exact=True).fill(
        "We decide together: an interview with Amara Osei"
    )
    page.get_by_label(re.compile("^Standfirst")).fill(
        "The chair of our Leeds branch on counting every vote."
    )
    page.get_by_label(re.compile("^Who is interviewed")).fill("Amara Osei")
    page.get_by_label(re.compile("^Text")).fill(
        f"Amara chairs the branch.\n\nQ: {QUESTION}\n\nA: {ANSWER}"
    )
    page.get_by_label(re.compile("^Tags")).fill("Democracy, Leeds")
    page.get_by_label("Readers may comment").check()
    page.get_by_label(re.compile("Visitors without an account may comment")).check()
    page.get_by_role("button", name="Save and preview").click()
    page.get_by_role("heading", name="Preview").wait_for()
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("Published.").wait_for()
    return Article.objects.get()


def test_editor_publishes_an_interview_visitor_comments_member_replies(
    new_page, movement, axe_check
):
    editor_page = new_page()
    _log_in(editor_page, movement["editor"].email)
    article = _publish_interview(editor_page, movement["group"])
    axe_check(editor_page)  # the editor's preview page
    editor_page.goto(f"/groups/{movement['group'].slug}/articles/{article.pk}/edit/")
    axe_check(editor_page)  # the editor's form

    # A visitor reads the interview on a phone and comments.
    visitor = new_page(viewport={"width": 375, "height": 800})
    visitor.goto(article.get_absolute_url())
    question = visitor.locator(".qa--question").first
    assert QUESTION in question.inner_text() and "Question" in question.inner_text()
    assert "Amara Osei" in visitor.locator(".qa--answer").first.inner_text()
    form = visitor.locator("form.visitor-form").last
    form.get_by_label("Your name (shown with your comment)").fill("Sam Visitor")
    form.get_by_label("Your email address", exact=True).fill("sam@example.org")
    assert "Never published and never shown to other readers" in form.inner_text()
    form.get_by_label("Your comment", exact=True).fill(
        "Are the meetings *really* open to anyone?"
    )
    form.get_by_role("button", name="Send comment").click()
    visitor.get_by_text("we have emailed you a link").wait_for()
    assert "Are the meetings" not in visitor.locator(".discussion").inner_text()

    (message,) = [m for m in mail.outbox if m.to == ["sam@example.org"]]
    link = re.search(r"/discussion/confirm/\S+/", message.body).group(0)
    visitor.goto(link)
    visitor.get_by_role("button", name="Confirm and publish my comment").click()
    visitor.get_by_text("your comment is now shown").wait_for()
    comment = Comment.objects.get(visitor_name="Sam Visitor")
    assert comment.status == Comment.Status.VISIBLE
    visitor.locator(f"#comment-{comment.pk}").get_by_text("Are the meetings").wait_for()
    assert "sam@example.org" not in visitor.content()

    # A member replies (htmx, in place).
    member_page = new_page()
    _log_in(member_page, movement["member"].email)
    member_page.goto(article.get_absolute_url())
    visitor_comment = member_page.locator(f"#comment-{comment.pk}")
    visitor_comment.locator("summary", has_text="Reply").click()
    member_page.get_by_label("Your reply to Sam Visitor").fill("Yes: come on Thursday!")
    member_page.get_by_role("button", name="Post reply").click()
    member_page.locator(f"#replies-{comment.pk}").get_by_text(
        "come on Thursday"
    ).wait_for()
    reply = Comment.objects.get(body="Yes: come on Thursday!")
    assert reply.parent_id == comment.pk and reply.author == movement["member"]
    assert "sam@example.org" not in member_page.content()


def test_home_article_and_editor_pages_pass_axe_and_the_article_reads_at_375px(
    new_page, movement, axe_check
):
    from commonground.publishing import services

    article = services.article_create(
        actor=movement["editor"],
        group=movement["group"],
        title="A long title for an article about rent caps in the whole city of Leeds and beyond",
        standfirst="Members voted for rent caps.",
        body="## Why\n\n"
        + "Homes are for living in. " * 80
        + "\n\n> A quote that matters.\n\n- https://example.org/a/very/long/address/that/must/wrap/somewhere/else",
        tags=["Housing"],
        call_to_action="join",
    )
    services.article_publish(actor=movement["editor"], article=article)
    anonymous = new_page(viewport={"width": 375, "height": 800})
    anonymous.goto("/")
    anonymous.get_by_role("heading", name="Latest articles").wait_for()
    axe_check(anonymous)
    anonymous.goto(article.get_absolute_url())
    axe_check(anonymous)
    width = anonymous.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the article scrolls sideways at 375 px ({width} px wide)"
    font_size = anonymous.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.article__body p')).fontSize)"
    )
    assert font_size >= 16
    body_box = anonymous.locator(".article__body").bounding_box()
    assert body_box["x"] >= 0 and body_box["x"] + body_box["width"] <= 375

    editor = new_page()
    _log_in(editor, movement["editor"].email)
    editor.goto(f"/groups/{movement['group'].slug}/articles/")
    axe_check(editor)
    editor.goto(f"/groups/{movement['group'].slug}/articles/new/")
    axe_check(editor)
