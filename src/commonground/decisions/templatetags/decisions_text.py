"""Template filters for decisions: safe Markdown through the discussion app."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from commonground.discussion.richtext import render_markdown

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """Members' Markdown, sanitised by commonground.discussion.richtext (nh3)."""
    return render_markdown(text)
