"""Template filters for decisions: safe Markdown through the discussion app."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """Members' Markdown, sanitised by commonground.discussion.richtext (nh3).

    Until the discussion app provides it, the text is shown escaped, as paragraphs.
    """
    try:
        from commonground.discussion.richtext import render_markdown
    except ImportError:
        return mark_safe(linebreaks(escape(text)))  # noqa: S308 - escaped first
    return render_markdown(text)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    if not mapping:
        return ""
    return (
        mapping.get(str(key), mapping.get(key, "")) if hasattr(mapping, "get") else ""
    )
