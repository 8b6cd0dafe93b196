"""render_markdown and sanitize: nothing that can run script survives."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from commonground.discussion.richtext import render_markdown, sanitize

XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click]( javascript:alert(1) )",
    "[a][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    '![x](x" onerror="alert(1))',
    '[x](http://example.org" onmouseover="alert(1))',
    "<iframe src=javascript:alert(1)></iframe>",
    '<body onload="alert(1)">',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    '<input autofocus onfocus="alert(1)">',
    '"><script>alert(1)</script>',
    "'';!--\"<XSS>=&{()}",
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>">',
    "<<SCRIPT>alert(1);//<</SCRIPT>",
    '<a href="#" onclick="alert(1)">x</a>',
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<a href="https://ok.example/" target="_blank">ok</a>',
]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)


def assert_inert(output: str) -> None:
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
        "img",
        "form",
        "input",
        "body",
    } & set(collector.tags)
    for name, value in collector.attributes:
        assert not name.lower().startswith("on"), (name, output)
        assert name in {"href", "title", "rel", "start"}, (name, output)
        if name == "href":
            # What a browser would take as the URL scheme: the parser has already
            # decoded character references once (as a browser does); controls and
            # spaces are stripped as the URL standard does.
            url = re.sub(r"[\x00-\x20]", "", value).lower()
            scheme = re.match(r"([a-z][a-z0-9+.-]*):", url)
            if scheme:
                assert scheme.group(1) in {"http", "https", "mailto"}, (value, output)


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_xss_payload_renders_inert(payload):
    output = str(render_markdown(payload))
    assert_inert(output)
    assert "<script" not in output.lower()
    assert sanitize(output) == output


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_raw_html_payload_is_sanitised_inert(payload):
    output = sanitize(payload)
    assert_inert(output)
    assert sanitize(output) == output


def test_markdown_formatting_survives():
    output = str(render_markdown("Hello *you* and **all**\n\n- one\n- two\n\n> quoted"))
    assert "<em>you</em>" in output
    assert "<strong>all</strong>" in output
    assert "<li>one</li>" in output
    assert "<blockquote>" in output


def test_links_get_nofollow_noopener():
    output = str(render_markdown("[our site](https://example.org/page)"))
    assert 'href="https://example.org/page"' in output
    assert 'rel="nofollow noopener"' in output


def test_raw_html_is_shown_as_text_not_markup():
    output = str(render_markdown("<b>bold?</b>"))
    assert "&lt;b&gt;bold?&lt;/b&gt;" in output


def test_images_become_links_not_remote_loads():
    output = str(render_markdown("![a cat](https://tracker.example/cat.png)"))
    assert "<img" not in output
    assert "a cat" in output


html_fragments = st.lists(
    st.one_of(
        st.text(max_size=20),
        st.sampled_from(
            [
                "<",
                ">",
                "&",
                '"',
                "'",
                "<a href=",
                "javascript:",
                " on",
                "onerror=",
                "<script>",
                "</script>",
                "<p>",
                "</p>",
                "<em>",
                "<!--",
                "-->",
                "&#x",
                "<svg",
                "<img src=x ",
                "[x](",
                ")",
                "**",
                "`",
                "\n",
                "<a href='http://e.org'>",
            ]
        ),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(html_fragments)
@example("&#XD")  # a carriage return by reference: parsers read it back as "\n"
@example("a\r\nb&#13;&#x0d;\r")
@example("<A HREF=:>")
@example("\ufeff\ufeff")  # parsers drop one leading byte-order mark per pass
def test_sanitize_is_idempotent_and_inert(text):
    once = sanitize(text)
    assert sanitize(once) == once
    assert_inert(once)


@settings(max_examples=300, deadline=None)
@given(html_fragments)
def test_render_markdown_is_inert_and_stable_under_sanitize(text):
    output = str(render_markdown(text))
    assert_inert(output)
    assert sanitize(output) == output
