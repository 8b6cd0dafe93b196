"""``{% load discussion %}{% discussion_thread target %}``: the thread with its forms."""

from __future__ import annotations

from typing import Any

from django import template

from commonground.discussion import rules, selectors
from commonground.discussion.richtext import render_markdown

register = template.Library()


@register.inclusion_tag("discussion/thread.html", takes_context=True)
def discussion_thread(
    context: template.Context, target: Any, **extra: Any
) -> dict[str, Any]:
    """Render the discussion on ``target`` for the current user (nothing if they may
    not read it). The page needs ``request`` in its context."""
    request = context["request"]
    if not rules.can_read(request.user, target):
        return {"thread": None}
    thread = selectors.thread_for(request.user, target)
    return {
        "thread": thread,
        "reply_parent": _reply_parent(request, thread),
        "request": request,
        "user": request.user,
        "csrf_token": context.get("csrf_token"),
        "next_url": request.get_full_path(),
        "post_errors": context.get("post_errors") or [],
        "posted_body": context.get("posted_body", ""),
        "visitor_form": context.get("visitor_form"),
        **extra,
    }


def _reply_parent(request: Any, thread: selectors.Thread) -> Any:
    """The comment a visitor asked to reply to (``?reply_to=<id>``): visitors get
    one form, under the thread, rather than one per comment."""
    if not thread.visitors_may_post:
        return None
    reply_to = request.GET.get("reply_to", "")
    if not reply_to.isdigit() or len(reply_to) > 18:
        return None
    from commonground.discussion.models import Comment

    return (
        Comment.objects.filter(
            pk=int(reply_to),
            content_type__app_label=thread.key.split(".")[0],
            content_type__model=thread.key.split(".")[1],
            object_id=thread.object_id,
            status=Comment.Status.VISIBLE,
        )
        .select_related("author")
        .first()
    )


@register.simple_tag
def house_rules() -> list[tuple[str, str]]:
    """The rules a moderator names when removing a comment (value, label)."""
    from commonground.discussion.models import HouseRule

    return [(value, str(label)) for value, label in HouseRule.choices]


@register.filter
def markdown(text: str) -> str:
    """Render member-written Markdown safely (richtext.render_markdown)."""
    return render_markdown(text or "")
