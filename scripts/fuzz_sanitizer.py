"""Long fuzzing run of the sanitiser pipelines (not part of the test suite).

Every input goes through the comment pipeline, ``sanitize`` and ``render_markdown``,
and the article pipeline, ``sanitize_article`` and ``render_article_markdown`` (with
an uploaded image and interview speakers), all in commonground.discussion.richtext.
Pass criteria (spec reliability.md, "Fuzz"): no exception; sanitising is idempotent;
the output, parsed as HTML, has no script-capable element, no ``on*`` attribute and
no URL whose scheme (as a browser reads it) is anything but http, https or mailto
(the tests' ``assert_inert``), and an article's images come only from /media/
(``assert_article_inert`` in tests/publishing/test_publishing_richtext.py). A
failing input is saved under ``--crash-dir`` and the run stops with exit status 1.
``--target comments`` or ``--target articles`` fuzzes one pipeline only.

Engines:
  atheris     coverage-guided libFuzzer mutation (``pip install atheris``, in the
              ``bench`` extra), seeded with the XSS corpus of the tests;
  hypothesis  the tests' HTML-fragment strategy and arbitrary text, without a deadline.

Usage: python scripts/fuzz_sanitizer.py [--seconds 600] [--engine atheris|hypothesis]
       [--target all|comments|articles] [--crash-dir DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
TESTS = REPOSITORY / "tests" / "discussion" / "test_discussion_richtext.py"
ARTICLE_TESTS = REPOSITORY / "tests" / "publishing" / "test_publishing_richtext.py"
TARGET = "all"


def _setup() -> tuple:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commonground.site.settings")
    import django

    django.setup()
    from commonground.discussion.richtext import render_markdown, sanitize

    return sanitize, render_markdown


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_article(text: str, articles) -> None:
    """The article pipeline's pass criteria (images, figures, interviews)."""
    from commonground.discussion.richtext import (
        render_article_markdown,
        sanitize_article,
    )

    outputs = [sanitize_article(text)]
    for speakers in (None, articles.SPEAKERS):
        outputs.append(
            str(
                render_article_markdown(text, images=articles.IMAGES, speakers=speakers)
            )
        )
    for output in outputs:
        assert sanitize_article(output) == output, "sanitize_article is not idempotent"
        articles.assert_article_inert(output)


def check(text: str, sanitize, render_markdown, assert_inert, articles=None) -> None:
    """Raise AssertionError if ``text`` breaks a pass criterion."""
    if TARGET in ("all", "comments"):
        for output in (sanitize(text), str(render_markdown(text))):
            assert sanitize(output) == output, "sanitize is not idempotent"
            assert_inert(output)
    if TARGET in ("all", "articles") and articles is not None:
        check_article(text, articles)


def _save(crash_dir: Path, data: bytes) -> Path:
    crash_dir.mkdir(parents=True, exist_ok=True)
    path = crash_dir / f"sanitizer-crash-{int(time.time() * 1000)}.txt"
    path.write_bytes(data)
    return path


def run_hypothesis(seconds: int, crash_dir: Path) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    sanitize, render_markdown = _setup()
    module = _load(TESTS, "richtext_tests")
    articles = _load(ARTICLE_TESTS, "article_richtext_tests")
    deadline = time.monotonic() + seconds
    examples = 0

    @settings(
        max_examples=10**9,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.one_of(
            module.html_fragments, articles.article_fragments, st.text(max_size=200)
        )
    )
    def one(text: str) -> None:
        nonlocal examples
        if time.monotonic() > deadline:
            raise TimeoutError
        examples += 1
        try:
            check(text, sanitize, render_markdown, module.assert_inert, articles)
        except AssertionError:
            print(
                f"failing input saved to {_save(crash_dir, text.encode('utf-8', 'surrogatepass'))}"
            )
            raise

    try:
        one()
    except TimeoutError:
        pass
    except AssertionError as error:
        print(f"FAILED after {examples} inputs: {error}")
        return 1
    print(f"ok: {examples} inputs in {seconds} s, no failure")
    return 0


def run_atheris(seconds: int, crash_dir: Path) -> int:
    import atheris

    with atheris.instrument_imports():
        import markdown_it  # noqa: F401

    sanitize, render_markdown = _setup()
    module = _load(TESTS, "richtext_tests")
    articles = _load(ARTICLE_TESTS, "article_richtext_tests")
    corpus = Path(tempfile.mkdtemp(prefix="sanitizer-corpus-"))
    for number, payload in enumerate(module.XSS_CORPUS + articles.XSS_CORPUS_EXTRA):
        (corpus / f"seed-{number}").write_text(payload, encoding="utf-8")

    def one(data: bytes) -> None:
        text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(4096)
        try:
            check(text, sanitize, render_markdown, module.assert_inert, articles)
        except AssertionError:
            print(f"failing input saved to {_save(crash_dir, text.encode('utf-8'))}")
            raise

    crash_dir.mkdir(parents=True, exist_ok=True)
    atheris.Setup(
        [
            sys.argv[0],
            f"-max_total_time={seconds}",
            f"-artifact_prefix={crash_dir}/",
            str(corpus),
        ],
        one,
    )
    atheris.Fuzz()  # exits the process: 0 when the time is up, non-zero on a failure
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/fuzz_sanitizer.py")
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument(
        "--engine", choices=["atheris", "hypothesis"], default="atheris"
    )
    parser.add_argument("--crash-dir", type=Path, default=REPOSITORY / "var" / "fuzz")
    parser.add_argument(
        "--target", choices=["all", "comments", "articles"], default="all"
    )
    args = parser.parse_args(argv)
    global TARGET
    TARGET = args.target
    sys.path.insert(0, str(REPOSITORY / "tests"))
    if args.engine == "atheris":
        return run_atheris(args.seconds, args.crash_dir)
    return run_hypothesis(args.seconds, args.crash_dir)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
