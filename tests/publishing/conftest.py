"""Shared set-up for the publishing tests: a movement's national group with a writer,
an editor, a moderator and members, and builders for published articles."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from PIL import Image

from commonground.members.models import Group, Role
from commonground.publishing import services
from factories import UserFactory, make_group, make_member, make_role


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded pictures go to a temporary folder, and mail is captured."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def national(db):
    return make_group(name="National", kind=Group.Kind.NATIONAL)


@pytest.fixture
def branch(national):
    return make_group(parent=national, name="Leeds branch")


@pytest.fixture
def writer(national):
    return make_role(
        national,
        Role.WRITER,
        user=make_member(national, UserFactory(display_name="Wren Writer")),
    )


@pytest.fixture
def editor(national):
    return make_role(
        national,
        Role.EDITOR,
        user=make_member(national, UserFactory(display_name="Eddie Editor")),
    )


@pytest.fixture
def moderator(national):
    return make_role(national, Role.MODERATOR)


@pytest.fixture
def member(national):
    return make_member(national, UserFactory(display_name="Alex Member"))


@pytest.fixture
def draft(writer, national):
    return services.article_create(
        actor=writer,
        group=national,
        title="Rent caps pass their first vote",
        standfirst="A motion from our branch wins.",
        body="## What happened\n\nThe council voted **7 to 4**.\n\n> We brought 2,000 signatures.",
        tags=["Housing", "Leeds"],
    )


def _publish(article, editor, **kwargs):
    services.article_publish(actor=editor, article=article, **kwargs)
    article.refresh_from_db()
    return article


@pytest.fixture
def publish():
    """``publish(article, editor, at=None, correction="")``, refreshed."""
    return _publish


@pytest.fixture
def published(draft, editor):
    return _publish(draft, editor)


@pytest.fixture
def make_article(national, writer, editor):
    """``make_article(title=..., body=..., tags=[...], kind=..., group=...)``: published."""

    def make(**fields):
        fields.setdefault("title", "An article")
        fields.setdefault("body", "Some text.")
        group = fields.pop("group", national)
        article = services.article_create(actor=writer, group=group, **fields)
        return _publish(article, editor)

    return make


@pytest.fixture
def picture():
    """``picture(width, height, mode="RGB", fmt="PNG", **save)``: image file bytes."""

    def make(width=1200, height=800, mode="RGB", fmt="PNG", **save):
        image = Image.new(mode, (width, height), (200, 40, 40, 255)[: len(mode)])
        buffer = io.BytesIO()
        image.save(buffer, format=fmt, **save)
        return buffer.getvalue()

    return make
