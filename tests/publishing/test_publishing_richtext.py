"""Article bodies: the sanitiser's fuzzing extended (images only from our own media,
figures, interview blocks), over the comments' XSS corpus and hypothesis text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from commonground.discussion.richtext import (
    EmbeddedImage,
    Speakers,
    render_article_markdown,
    sanitize_article,
)

XSS_CORPUS_EXTRA = [
    '<img src="/media/x.png" onerror="alert(1)">',
    '<img src="https://tracker.example/p.gif">',
    '<img src="//tracker.example/p.gif">',
    '<img src="/media/../../etc/passwd">',
    '<img src="/media/a.png" srcset="https://evil.example/x 1w">',
    '<img src="javascript:alert(1)">',
    '<img src="/media/a.png" width="100%" style="x">',
    '<p class="qa evil" onclick="x">q</p>',
    '<figure class="article-figure x"><figcaption onmouseover="x">c</figcaption></figure>',
    "![x](image:999999)",
    "![x](javascript:alert(1))",
    '![x](image:1 "t\\" onerror=\\"alert(1)")',
    "![<script>](image:1)",
    "Q: <script>alert(1)</script>\n\nA: [x](javascript:alert(1))",
]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)


ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "rel"},
    "ol": {"start"},
    "img": {"src", "srcset", "sizes", "width", "height", "alt", "loading", "decoding"},
    "p": {"class"},
    "strong": {"class"},
    "figure": {"class"},
}


def _scheme(url: str) -> str | None:
    cleaned = re.sub(r"[\x00-\x20]", "", url).lower()
    match = re.match(r"([a-z][a-z0-9+.-]*):", cleaned)
    return match.group(1) if match else None


def assert_article_inert(output: str) -> None:
    """No script-capable element, no on* attribute, links only to http(s)/mailto,
    and images only from /media/ (never another site, never a parent folder)."""
    collector = _Collector()
    collector.feed(output)
    assert not {
        "script",
        "iframe",
        "object",
        "embed",
        "style",
        "svg",
        "math",
        "form",
        "input",
        "body",
        "link",
        "meta",
        "base",
    } & set(collector.tags), output
    for tag, name, value in collector.attributes:
        assert not name.lower().startswith("on"), (name, output)
        assert name in ALLOWED_ATTRIBUTES.get(tag, set()), (tag, name, output)
        if name == "href":
            assert _scheme(value) in {None, "http", "https", "mailto"}, (value, output)
        if name in {"src", "srcset"}:
            for candidate in value.split(","):
                url = candidate.strip().split(" ")[0]
                assert url.startswith("/media/") and not url.startswith("//"), (
                    value,
                    output,
                )
                assert ".." not in url and _scheme(url) is None, (value, output)


IMAGES = {
    1: EmbeddedImage(
        src="/media/articles/1/a-960.jpg",
        srcset="/media/articles/1/a-480.jpg 480w, /media/articles/1/a-960.jpg 960w",
        width=960,
        height=640,
        alt='Alt with "quotes" & <tags>',
        caption="<b>caption</b>",
    )
}
SPEAKERS = Speakers(question="Question", answer='Ana "<script>"')


@pytest.fixture(scope="module")
def corpus():
    import importlib.util
    from pathlib import Path

    path = (
        Path(__file__).resolve().parent.parent
        / "discussion"
        / "test_discussion_richtext.py"
    )
    spec = importlib.util.spec_from_file_location("discussion_richtext_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.XSS_CORPUS + XSS_CORPUS_EXTRA


def test_xss_payloads_render_inert_in_article_bodies(corpus):
    for payload in corpus:
        for speakers in (None, SPEAKERS):
            output = str(
                render_article_markdown(payload, images=IMAGES, speakers=speakers)
            )
            assert_article_inert(output)
            assert sanitize_article(output) == output
        raw = sanitize_article(payload)
        assert_article_inert(raw)
        assert sanitize_article(raw) == raw


def test_own_images_render_with_size_alt_and_caption():
    output = str(render_article_markdown("![](image:1)", images=IMAGES))
    assert output.startswith(
        '<figure class="article-figure"><img src="/media/articles/1/a-960.jpg"'
    )
    assert 'width="960" height="640"' in output
    assert 'alt="Alt with &quot;quotes&quot; &amp; &lt;tags&gt;"' in output
    assert "<figcaption>&lt;b&gt;caption&lt;/b&gt;</figcaption></figure>" in output
    assert "<img" not in str(
        render_article_markdown("![x](https://e.org/x.png)", images=IMAGES)
    )


article_fragments = st.lists(
    st.one_of(
        st.text(max_size=20),
        st.sampled_from(
            [
                "<",
                ">",
                "&",
                '"',
                "'",
                "<img src=",
                "/media/",
                "//",
                "..",
                "javascript:",
                " on",
                "onerror=",
                "<script>",
                "![",
                "](image:1)",
                "](image:",
                ")",
                "Q: ",
                "A: ",
                "\n\n",
                "# ",
                "> ",
                "srcset=",
                " 1w",
                "<figure>",
                'class="qa',
                "<p ",
                "**",
                "`",
                "&#x",
                "<svg",
            ]
        ),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(article_fragments)
@example('<img src="/media/a.png" srcset="/media/a.png 1w, //e.org/b 2w">')
@example("\ufeff![x](image:1)")
def test_sanitize_article_is_idempotent_and_inert(text):
    once = sanitize_article(text)
    assert sanitize_article(once) == once
    assert_article_inert(once)


@settings(max_examples=300, deadline=None)
@given(article_fragments, st.booleans())
def test_render_article_markdown_is_inert_and_stable(text, interview):
    output = str(
        render_article_markdown(
            text, images=IMAGES, speakers=SPEAKERS if interview else None
        )
    )
    assert_article_inert(output)
    assert sanitize_article(output) == output
