"""The two registries publishing added: home-page sections and calls to action."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from commonground.core import capabilities

pytestmark = pytest.mark.django_db


@pytest.fixture
def extra_capability():
    calls = []

    def section(request):
        calls.append(request)
        return {"events": ["Branch meeting, Thursday"]}

    def empty(request):
        return None

    def cta(request, article):
        return {"event": "Rally"} if article.title.startswith("Rally") else None

    capabilities.register(
        capabilities.Capability(
            app="tests.events",
            home_sections=(
                capabilities.HomeSection(
                    key="events",
                    title="Coming up",
                    template="x.html",
                    context=section,
                    order=20,
                ),
                capabilities.HomeSection(
                    key="nothing", title="Empty", template="x.html", context=empty
                ),
            ),
            calls_to_action=(
                capabilities.CallToAction(
                    key="rally",
                    label="Come to the rally",
                    template="y.html",
                    context=cta,
                ),
            ),
        )
    )
    yield calls
    capabilities.unregister("tests.events")


def test_home_sections_come_in_order_and_empty_ones_are_left_out(extra_capability):
    request = RequestFactory().get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    keys = [section.key for section in capabilities.home_sections()]
    assert keys.index("latest_articles") < keys.index("events") < keys.index("nothing")
    shown = capabilities.home_page_sections(request)
    assert [(s.key, context) for s, context in shown] == [
        ("events", {"events": ["Branch meeting, Thursday"]})
    ]
    assert extra_capability == [request]


def test_calls_to_action_by_key_only_when_they_apply(extra_capability):
    class Article:
        def __init__(self, title):
            self.title = title

    assert set(capabilities.calls_to_action()) >= {"join", "rally"}
    found = capabilities.call_to_action_for("rally", None, Article("Rally on Saturday"))
    assert found is not None and found[1] == {"event": "Rally"}
    assert capabilities.call_to_action_for("rally", None, Article("Other")) is None
    assert capabilities.call_to_action_for("", None, Article("Rally")) is None
    assert capabilities.call_to_action_for("gone", None, Article("Rally")) is None


def test_editors_choose_among_registered_blocks(extra_capability):
    from commonground.publishing.forms import ArticleForm

    choices = dict(ArticleForm().fields["call_to_action"].choices)
    assert (
        choices["rally"] == "Come to the rally" and "join" in choices and "" in choices
    )


def test_a_registered_block_is_shown_at_the_end_of_the_article(
    client, make_article, extra_capability, tmp_path, settings
):
    template_dir = tmp_path / "templates"
    template_dir.mkdir()
    (template_dir / "y.html").write_text(
        '<aside class="rally">{{ cta.event }} this weekend</aside>'
    )
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "DIRS": [*settings.TEMPLATES[0]["DIRS"], template_dir],
        }
    ]
    article = make_article(title="Rally for rent caps", call_to_action="rally")
    html = client.get(article.get_absolute_url()).content.decode()
    assert '<aside class="rally">Rally this weekend</aside>' in html
