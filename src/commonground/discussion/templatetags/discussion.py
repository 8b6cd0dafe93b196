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
    return {
        "thread": selectors.thread_for(request.user, target),
        "request": request,
        "user": request.user,
        "csrf_token": context.get("csrf_token"),
        "next_url": request.get_full_path(),
        "post_errors": context.get("post_errors") or [],
        "posted_body": context.get("posted_body", ""),
        **extra,
    }


@register.filter
def markdown(text: str) -> str:
    """Render member-written Markdown safely (richtext.render_markdown)."""
    return render_markdown(text or "")
