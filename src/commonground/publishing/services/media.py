"""Article images: upload (checked, stripped, resized) and delete.

Nothing is stored for a refused file: the checks run before any file is written,
and files written for a row that then fails to save are deleted again.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from commonground.audit.services import audit_record

from .. import images, rules
from ..models import ALT_MAX_LENGTH, Article, ArticleImage
from ._shared import locked, require, viewer_of


def _delete_files(names: list[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


def image_upload(
    *, actor: Any, article: Article, upload: Any, alt: str, caption: str = ""
) -> ArticleImage:
    """Add a picture to an article. ``alt`` (what it shows, for people who cannot see
    it) is required. Raises ValidationError (nothing stored) for a file that is not
    a PNG, JPEG or WebP image by its content, too many bytes or too many pixels."""
    alt = " ".join(alt.replace("\x00", "").split())
    caption = " ".join(caption.replace("\x00", "").split())
    errors: dict[str, Any] = {}
    if not alt:
        errors["alt"] = _("Describe the picture for people who cannot see it.")
    elif len(alt) > ALT_MAX_LENGTH:
        errors["alt"] = _("Keep the description under %(max)d characters.") % {
            "max": ALT_MAX_LENGTH
        }
    if len(caption) > 300:
        errors["caption"] = _("Keep the caption under 300 characters.")
    if errors:
        raise ValidationError(errors)
    viewer = viewer_of(actor, article)
    require(rules.can_edit(viewer, article), _("You cannot change this article now."))
    try:
        prepared = images.image_prepare(upload)
    except ValidationError as error:
        raise ValidationError({"image": error}) from None
    written: list[str] = []
    try:
        for rendition in prepared.renditions:
            name = f"articles/{article.pk}/{prepared.digest}-{rendition.width}.{rendition.extension}"
            written.append(default_storage.save(name, ContentFile(rendition.data)))
        with transaction.atomic():
            article = locked(article)
            image = ArticleImage.objects.create(
                article=article,
                alt=alt,
                caption=caption,
                width=prepared.width,
                height=prepared.height,
                renditions=[
                    {"width": r.width, "height": r.height, "name": name}
                    for r, name in zip(prepared.renditions, written, strict=True)
                ],
                uploaded_by=actor,
                uploaded_at=timezone.now(),
            )
            audit_record(
                actor=actor,
                action="article.image_added",
                target=article,
                group=article.group,
                data={"image": image.pk},
            )
    except BaseException:
        _delete_files(written)
        raise
    return image


@transaction.atomic
def image_delete(*, actor: Any, article: Article, image: ArticleImage) -> None:
    """Remove a picture the article no longer uses. Published revisions keep showing
    it only if it is still stored, so a picture a published version shows is kept."""
    article = locked(article)
    viewer = viewer_of(actor, article)
    require(rules.can_edit(viewer, article), _("You cannot change this article now."))
    if image.article_id != article.pk:
        raise ValidationError(_("This picture belongs to another article."))
    reference = f"(image:{image.pk}"
    if article.revisions.filter(body__contains=reference).exists():
        raise ValidationError(
            _(
                "A published version shows this picture: it stays, so that version stays whole."
            )
        )
    names = [item["name"] for item in image.renditions or []]
    image_id = image.pk
    image.delete()
    transaction.on_commit(lambda: _delete_files(names))
    audit_record(
        actor=actor,
        action="article.image_removed",
        target=article,
        group=article.group,
        data={"image": image_id},
    )
