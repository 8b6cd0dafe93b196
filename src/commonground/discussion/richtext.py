"""Safe rich text: Markdown in, sanitised HTML out.

Markdown is parsed by markdown-it-py (CommonMark, raw HTML disabled) and the result
passes through nh3's allow-list, so nothing reaches a page that could run script:
no ``<script>``, no ``on*`` attributes, no ``javascript:`` (or other non-web) URLs.
Links get ``rel="nofollow noopener"``. Sanitising is idempotent:
``sanitize(sanitize(html)) == sanitize(html)``.

    >>> str(render_markdown("Hello *world*"))
    '<p>Hello <em>world</em></p>\\n'
"""

from __future__ import annotations

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

__all__ = ["ALLOWED_TAGS", "render_markdown", "sanitize"]

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "em", "strong", "code", "pre", "blockquote",
        "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener"

# Images are off: remote images would track readers (and CSP blocks them anyway);
# ``![text](url)`` shows as a plain link instead.
_markdown = MarkdownIt(
    "commonmark", {"html": False, "linkify": False, "typographer": False}
).disable("image")


def sanitize(html: str) -> str:
    """Keep only the allow-listed tags, attributes and URL schemes of ``html``.

    Input and output are normalised the way an HTML parser reads them (carriage
    returns, even written as ``&#13;``, become newlines; a leading byte-order mark is
    dropped), so a second pass gives exactly the first pass's result.
    """
    cleaned = nh3.clean(
        _as_parsed(html),
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return _as_parsed(cleaned)


def _as_parsed(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")


def render_markdown(text: str) -> SafeString:
    """Render member-written Markdown to HTML that is safe to put in a page."""
    return mark_safe(sanitize(_markdown.render(text)))  # noqa: S308 - nh3 output
