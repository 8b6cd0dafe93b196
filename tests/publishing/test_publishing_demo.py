"""The demo movement's articles: a dozen, in two tags, one long interview with
comments and replies and a visitor's comment held for moderation; seeding twice
changes nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from commonground.discussion.models import Comment
from commonground.publishing.demo import INTERVIEW_TITLE
from commonground.publishing.models import Article, Revision, Tag

pytestmark = pytest.mark.django_db


def test_demo_articles_interview_comments_and_held_visitor_comment(client):
    call_command("seed_demo")
    counts = (
        Article.objects.count(),
        Revision.objects.count(),
        Comment.objects.count(),
    )
    call_command("seed_demo")
    assert (
        Article.objects.count(),
        Revision.objects.count(),
        Comment.objects.count(),
    ) == counts
    assert Article.objects.count() == 12
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Climate", "Housing"]
    interview = Article.objects.get(title=INTERVIEW_TITLE)
    assert interview.kind == "interview"
    from django.contrib.contenttypes.models import ContentType

    thread = Comment.objects.filter(
        content_type=ContentType.objects.get_for_model(Article),
        object_id=str(interview.pk),
    )
    assert thread.filter(parent__isnull=False, status="visible").count() >= 2
    held = thread.get(status=Comment.Status.HELD)
    assert held.author is None and held.visitor_confirmed_at is not None
    page = client.get(interview.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "qa--question" in html and held.body not in html
    assert "Latest articles" in client.get("/").content.decode()
