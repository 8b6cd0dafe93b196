"""Turning an article's Markdown into what readers get: safe HTML, its plain words
and its reading time (``discussion.richtext`` does the sanitising)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from commonground.discussion.richtext import (
    EmbeddedImage,
    Speakers,
    plain_text,
    render_article_markdown,
)

from .models import WORDS_PER_MINUTE, Article, ArticleImage


def rendition_url(name: str) -> str:
    return str(default_storage.url(name))


def embedded(image: ArticleImage, *, preferred_width: int = 960) -> EmbeddedImage:
    """An image as a page shows it: the rendition nearest ``preferred_width`` as its
    source, every rendition in ``srcset``."""
    renditions = sorted(image.renditions or [], key=lambda r: int(r["width"]))
    if not renditions:
        raise ValueError("an image without renditions")
    default = min(
        renditions,
        key=lambda r: (abs(int(r["width"]) - preferred_width), -int(r["width"])),
    )
    return EmbeddedImage(
        src=rendition_url(default["name"]),
        width=int(default["width"]),
        height=int(default["height"]),
        alt=image.alt,
        caption=image.caption,
        srcset=", ".join(
            f"{rendition_url(r['name'])} {int(r['width'])}w" for r in renditions
        ),
    )


def article_images(article: Article) -> dict[int, EmbeddedImage]:
    """The article's uploads by id (one query)."""
    return {
        image.pk: embedded(image)
        for image in ArticleImage.objects.filter(article=article)
        if image.renditions
    }


def speakers(article_kind: str, interviewee: str) -> Speakers | None:
    if article_kind != Article.Kind.INTERVIEW:
        return None
    return Speakers(question=_("Question"), answer=interviewee or _("Answer"))


@dataclass(frozen=True)
class RenderedBody:
    html: str
    text: str
    reading_minutes: int


def reading_minutes(words: int) -> int:
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def render_body(
    body: str, *, kind: str, interviewee: str, images: dict[int, Any]
) -> RenderedBody:
    html = str(
        render_article_markdown(
            body, images=images, speakers=speakers(kind, interviewee)
        )
    )
    text = plain_text(html)
    return RenderedBody(
        html=html, text=text, reading_minutes=reading_minutes(len(text.split()))
    )
