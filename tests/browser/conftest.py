"""Browser-test fixtures: Playwright (sync API) driving Debian's chromium.

- ``browser``: one headless chromium per test session, launched from
  /usr/bin/chromium (never a downloaded browser). Playwright gives each launch a
  fresh temporary profile (user data dir), removed on close.
- ``new_page``: a factory of pages, each in its own browser context (own cookies),
  so one test can act as two people; ``page`` is the first of them.
- ``axe_check(page)``: runs axe-core (axe-playwright-python) on the current page and
  fails listing every violation of impact "serious" or "critical" (it runs a script
  in the page, so not in a context opened with ``java_script_enabled=False``).
- The site is served by pytest-django's ``live_server`` (a real HTTP server in a
  thread, transactional database); e-mail is captured in django.core.mail.outbox.

Without chromium the tests skip with a message, except in CI (CI=true): there they
fail, so the browser tests cannot silently disappear.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls
# from a thread with a running loop unless told that this is intended.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path(os.environ.get("COMMONGROUND_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERIOUS_IMPACTS = frozenset({"serious", "critical"})
DEFAULT_TIMEOUT_MS = 15_000


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _require_chromium() -> None:
    problem = None
    if not CHROMIUM.exists():
        problem = (
            f"chromium not found at {CHROMIUM}: install Debian's package with "
            "`apt-get install -y chromium` to run the browser tests"
        )
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is missing: `pip install -e .[test]`"
    if problem is None:
        return
    if _in_ci():
        pytest.fail(problem + " (CI=true: browser tests must run)", pytrace=False)
    pytest.skip(problem)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Callable[[], Any]]:
    """``new_page(**context_options)`` opens a page in a fresh context (its own
    cookies and storage); options go to ``browser.new_context`` (e.g.
    ``java_script_enabled=False``).

    Pages collect browser-side problems: console errors (CSP violations among them),
    uncaught page errors and JavaScript dialogs; a test fails if any occurred.
    """
    contexts = []
    problems: list[str] = []

    def make(**context_options: Any) -> Any:
        context = browser.new_context(
            base_url=live_server.url, locale="en-GB", **context_options
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()

        def on_console(message: Any) -> None:
            # Browsers ask for /favicon.ico on their own; its 404 is not a page problem.
            if message.type == "error" and not message.location.get("url", "").endswith(
                "/favicon.ico"
            ):
                problems.append(f"console {message.type}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

        def on_dialog(dialog: Any) -> None:
            problems.append(f"dialog: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, "browser reported problems:\n" + "\n".join(problems)


@pytest.fixture
def page(new_page: Callable[[], Any]) -> Any:
    return new_page()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core violations of impact serious or critical on the current page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        violation
        for violation in results.response["violations"]
        if violation.get("impact") in SERIOUS_IMPACTS
    ]


def format_violations(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [
        f"axe-core found {len(violations)} serious/critical violation(s) on {url}:"
    ]
    for violation in violations:
        lines.append(
            f"- [{violation['impact']}] {violation['id']}: {violation['help']}"
        )
        for node in violation.get("nodes", [])[:5]:
            target = ", ".join(str(t) for t in node.get("target", []))
            lines.append(f"    at {target}: {node.get('failureSummary', '').strip()}")
    return "\n".join(lines)


@pytest.fixture
def axe_check() -> Callable[[Any], None]:
    """``axe_check(page)``: fail on any serious or critical accessibility violation."""

    def check(page: Any) -> None:
        violations = axe_violations(page)
        if violations:
            pytest.fail(format_violations(page.url, violations), pytrace=False)

    return check


@pytest.fixture(autouse=True)
def _browser_test_isolation(settings: Any) -> Iterator[None]:
    """Fresh cache per test (rate limits) and captured e-mail."""
    from django.core.cache import cache

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    yield
    cache.clear()
