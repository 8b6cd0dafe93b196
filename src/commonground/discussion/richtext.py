"""Safe rich text: Markdown in, sanitised HTML out.

Markdown is parsed by markdown-it-py (CommonMark, raw HTML disabled) and the result
passes through nh3's allow-list, so nothing reaches a page that could run script:
no ``<script>``, no ``on*`` attributes, no ``javascript:`` (or other non-web) URLs.
Links get ``rel="nofollow noopener"``. Sanitising is idempotent:
``sanitize(sanitize(html)) == sanitize(html)``.

    >>> str(render_markdown("Hello *world*"))
    '<p>Hello <em>world</em></p>\\n'

Articles (``render_article_markdown``, ``sanitize_article``) allow a little more:
images, but only the article's own uploads (``![alt](image:12)`` names one; any other
image address shows as its alt text), served from MEDIA_URL with their width, height
and alt text; a paragraph holding only an image becomes a ``<figure>`` with its
caption; headings move one level down (the article's title is the page's only h1);
and in an interview, paragraphs starting ``Q:`` and ``A:`` become the question and
answer blocks, each led by its speaker's name. The same allow-list discipline holds:
no script, no ``on*``, no ``style``, no URL outside http(s)/mailto for links, and no
image source outside MEDIA_URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import nh3
from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = [
    "ALLOWED_TAGS",
    "ARTICLE_ALLOWED_TAGS",
    "EmbeddedImage",
    "Speakers",
    "markdown_links",
    "plain_text",
    "render_article_markdown",
    "render_markdown",
    "sanitize",
    "sanitize_article",
]

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


def markdown_links(text: str) -> int:
    """How many links ``text`` makes once rendered (written links and bare
    addresses alike), for link limits on visitors' comments."""
    html = str(render_markdown(text))
    links = html.count("<a ")
    # Bare addresses are not links in the rendered HTML, but spam relies on them.
    bare = len(re.findall(r"(?:https?://|www\.)\S+", _TAG.sub(" ", html)))
    return links + bare


# Articles ---------------------------------------------------------------------------

ARTICLE_ALLOWED_TAGS = ALLOWED_TAGS | frozenset({"figure", "figcaption", "img"})
ARTICLE_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
    "img": {"src", "srcset", "sizes", "width", "height", "alt", "loading", "decoding"},
}
ARTICLE_ALLOWED_CLASSES = {
    "p": {"qa", "qa--question", "qa--answer"},
    "strong": {"qa__speaker"},
    "figure": {"article-figure"},
}
ARTICLE_LINK_REL = "noopener"
# The article's own images: "/media/articles/...-960.jpg"; nothing else is a source.
_MEDIA_PATH = re.compile(r"[A-Za-z0-9/_.-]+")
_SRCSET_CANDIDATE = re.compile(r"(\S+) (\d{1,5})w")
_DIGITS = re.compile(r"\d{1,5}")
_FIXED_VALUES = {"loading": {"lazy", "eager"}, "decoding": {"async", "auto"}}
_TAG = re.compile(r"<[^>]*>")


def _media_prefix() -> str:
    prefix = str(getattr(settings, "MEDIA_URL", "/media/") or "/media/")
    return prefix if prefix.startswith("/") and not prefix.startswith("//") else ""


def _is_media_path(url: str) -> bool:
    prefix = _media_prefix()
    return (
        bool(prefix)
        and url.startswith(prefix)
        and ".." not in url
        and _MEDIA_PATH.fullmatch(url) is not None
    )


def _article_attribute(element: str, attribute: str, value: str) -> str | None:
    """Image attributes must be our own files, plain numbers or known keywords."""
    if element != "img":
        return value
    if attribute == "src":
        return value if _is_media_path(value) else None
    if attribute == "srcset":
        candidates = [part.strip() for part in value.split(",")]
        for candidate in candidates:
            match = _SRCSET_CANDIDATE.fullmatch(candidate)
            if match is None or not _is_media_path(match.group(1)):
                return None
        return ", ".join(candidates)
    if attribute in {"width", "height"}:
        return value if _DIGITS.fullmatch(value) else None
    if attribute in _FIXED_VALUES:
        return value if value in _FIXED_VALUES[attribute] else None
    if attribute == "sizes":
        return value if re.fullmatch(r"[a-z0-9()\s:,.-]{1,120}", value) else None
    return value  # alt


def sanitize_article(html: str) -> str:
    """``sanitize`` for article bodies: also figures, captions, the article's own
    images and the interview classes. Idempotent like ``sanitize``."""
    cleaned = nh3.clean(
        _as_parsed(html),
        tags=set(ARTICLE_ALLOWED_TAGS),
        attributes={
            tag: set(names) for tag, names in ARTICLE_ALLOWED_ATTRIBUTES.items()
        },
        attribute_filter=_article_attribute,
        allowed_classes={
            tag: set(names) for tag, names in ARTICLE_ALLOWED_CLASSES.items()
        },
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=ARTICLE_LINK_REL,
        strip_comments=True,
    )
    return _as_parsed(cleaned)


@dataclass(frozen=True)
class EmbeddedImage:
    """An uploaded image as an article shows it: the default rendition and every
    width in ``srcset``; ``alt`` is required when uploading."""

    src: str
    width: int
    height: int
    alt: str
    srcset: str = ""
    caption: str = ""


@dataclass(frozen=True)
class Speakers:
    """Who asks and who answers in an interview."""

    question: str
    answer: str


IMAGE_PREFIX = "image:"
_QA = re.compile(r"^(Q|A):[ \t]*")
FIGURE_SIZES = "(min-width: 48rem) 44rem, 100vw"


def _image_html(image: EmbeddedImage, alt: str, *, figure: bool) -> str:
    srcset = (
        f' srcset="{escape(image.srcset)}" sizes="{FIGURE_SIZES}"'
        if image.srcset
        else ""
    )
    tag = (
        f'<img src="{escape(image.src)}"{srcset} width="{int(image.width)}" '
        f'height="{int(image.height)}" alt="{escape(alt)}" loading="lazy" decoding="async">'
    )
    if figure and image.caption:
        tag += f"<figcaption>{escape(image.caption)}</figcaption>"
    return tag


def _render_image(
    self: Any, tokens: Sequence[Token], index: int, options: Any, env: Mapping[str, Any]
) -> str:
    token = tokens[index]
    written_alt = self.renderInlineAsText(token.children or [], options, env).strip()
    source = str(token.attrGet("src") or "")
    image = None
    if source.startswith(IMAGE_PREFIX) and source[len(IMAGE_PREFIX) :].isdigit():
        image = env.get("images", {}).get(int(source[len(IMAGE_PREFIX) :]))
    if image is None:  # not one of the article's images: its words, never a load
        return str(escape(written_alt))
    return _image_html(
        image, written_alt or image.alt, figure=bool(token.meta.get("figure"))
    )


def _render_paragraph(closing: bool) -> Any:
    def render(
        self: Any, tokens: Sequence[Token], index: int, options: Any, env: Any
    ) -> str:
        token = tokens[index]
        if token.meta.get("figure"):
            return "</figure>\n" if closing else '<figure class="article-figure">'
        return str(self.renderToken(tokens, index, options, env))

    return render


def _render_heading(
    self: Any, tokens: Sequence[Token], index: int, options: Any, env: Any
) -> str:
    token = tokens[index]
    level = min(int(token.tag[1]) + 1, 6)
    return f"</h{level}>\n" if token.nesting < 0 else f"<h{level}>"


def _mark_figures_and_interview(state: Any) -> None:
    """Core rule: an image alone in its paragraph becomes a figure; in an interview,
    "Q:"/"A:" paragraphs become question and answer blocks led by the speaker."""
    tokens: list[Token] = state.tokens
    speakers: Speakers | None = state.env.get("speakers")
    for index in range(1, len(tokens) - 1):
        opening, inline = tokens[index - 1], tokens[index]
        if opening.type != "paragraph_open" or inline.type != "inline":
            continue
        children = inline.children or []
        if len(children) == 1 and children[0].type == "image":
            children[0].meta["figure"] = True
            opening.meta["figure"] = True
            tokens[index + 1].meta["figure"] = True
            continue
        if speakers is None or not children or children[0].type != "text":
            continue
        match = _QA.match(children[0].content)
        if match is None:
            continue
        question = match.group(1) == "Q"
        children[0].content = children[0].content[match.end() :]
        opening.attrSet("class", f"qa qa--{'question' if question else 'answer'}")
        speaker = Token("html_inline", "", 0)
        name = speakers.question if question else speakers.answer
        speaker.content = f'<strong class="qa__speaker">{escape(name)}</strong> '
        inline.children = [speaker, *children]


_article_markdown = MarkdownIt(
    "commonmark", {"html": False, "linkify": False, "typographer": False}
)
_article_markdown.add_render_rule("image", _render_image)
_article_markdown.add_render_rule("paragraph_open", _render_paragraph(closing=False))
_article_markdown.add_render_rule("paragraph_close", _render_paragraph(closing=True))
_article_markdown.add_render_rule("heading_open", _render_heading)
_article_markdown.add_render_rule("heading_close", _render_heading)
_article_markdown.core.ruler.push("figures_and_interview", _mark_figures_and_interview)


def render_article_markdown(
    text: str,
    *,
    images: Mapping[int, EmbeddedImage] | None = None,
    speakers: Speakers | None = None,
) -> SafeString:
    """Render an article body to safe HTML.

    ``images`` are the article's uploads by id (``![alt](image:12)``); ``speakers``
    turns on the interview blocks.

        >>> str(render_article_markdown("Q: Why?\\n\\nA: Because.",
        ...     speakers=Speakers("Question", "Ana")))  # doctest: +NORMALIZE_WHITESPACE
        '<p class="qa qa--question"><strong class="qa__speaker">Question</strong> Why?</p>
        <p class="qa qa--answer"><strong class="qa__speaker">Ana</strong> Because.</p>'
    """
    env = {"images": dict(images or {}), "speakers": speakers}
    return mark_safe(sanitize_article(_article_markdown.render(text, env)))  # noqa: S308


def plain_text(html: str) -> str:
    """The words of sanitised HTML, tags dropped and whitespace collapsed (for
    search, reading time and descriptions)."""
    from html import unescape

    return " ".join(unescape(_TAG.sub(" ", html)).split())
