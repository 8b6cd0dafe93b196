"""Pictures: checked by content, size and pixels (refusals store nothing), stripped of
metadata, resized into a few widths and shown with width, height and alt text."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from commonground.publishing import images, services
from commonground.publishing.models import ArticleImage

pytestmark = pytest.mark.django_db


def _files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _upload(data: bytes, name="photo.png", content_type="image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_picture_is_resized_into_widths_and_stripped(draft, writer, picture, settings):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # camera make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS
    data = picture(2000, 1000, fmt="JPEG", exif=exif.tobytes())
    image = services.image_upload(
        actor=writer,
        article=draft,
        upload=_upload(data, "p.jpg", "image/jpeg"),
        alt="A march",
    )
    assert [r["width"] for r in image.renditions] == [480, 960, 1600]
    assert [r["height"] for r in image.renditions] == [240, 480, 800]
    assert (image.width, image.height) == (1600, 800)
    for rendition in image.renditions:
        stored = Path(settings.MEDIA_ROOT) / rendition["name"]
        with Image.open(stored) as opened:
            assert opened.format == "JPEG"
            assert not opened.getexif()
            assert opened.size == (rendition["width"], rendition["height"])


def test_small_and_transparent_pictures_keep_their_size_and_alpha(
    draft, writer, picture
):
    image = services.image_upload(
        actor=writer,
        article=draft,
        upload=_upload(picture(300, 200, mode="RGBA")),
        alt="Logo",
    )
    assert [(r["width"], r["height"]) for r in image.renditions] == [(300, 200)]
    assert image.renditions[0]["name"].endswith(".png")


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "x.png",
            "not an image",
        ),
        (b"%PDF-1.4 not a picture", "doc.jpg", "not an image"),
        (b"", "empty.png", "not an image"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "anim.gif", "not an image"),
    ],
)
def test_files_that_are_not_pictures_are_refused_and_nothing_is_stored(
    draft, writer, settings, data, name, message
):
    with pytest.raises(ValidationError) as refused:
        services.image_upload(
            actor=writer, article=draft, upload=_upload(data, name), alt="x"
        )
    assert message in " ".join(refused.value.messages)
    assert not ArticleImage.objects.exists()
    assert _files(settings) == []


def test_too_many_bytes_is_refused_before_decoding(draft, writer, settings, picture):
    settings.COMMONGROUND_ARTICLE_IMAGE_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as refused:
        services.image_upload(
            actor=writer, article=draft, upload=_upload(picture(400, 400)), alt="x"
        )
    assert "the limit is" in " ".join(refused.value.messages)
    assert not ArticleImage.objects.exists() and _files(settings) == []


def test_too_many_pixels_is_refused_with_the_sizes(draft, writer, settings, picture):
    settings.COMMONGROUND_ARTICLE_IMAGE_MAX_SIDE = 500
    with pytest.raises(ValidationError) as refused:
        services.image_upload(
            actor=writer, article=draft, upload=_upload(picture(600, 100)), alt="x"
        )
    assert "600 × 100" in " ".join(refused.value.messages)
    assert not ArticleImage.objects.exists() and _files(settings) == []


def test_a_decompression_bomb_is_refused(settings, picture):
    settings.COMMONGROUND_ARTICLE_IMAGE_MAX_PIXELS = 1_000_000
    # 1 × 40,000 wide PNG compresses to almost nothing but claims many pixels.
    bomb = picture(8000, 8000, mode="L")
    settings.COMMONGROUND_ARTICLE_IMAGE_MAX_SIDE = 10_000
    with pytest.raises(ValidationError) as refused:
        images.image_prepare(io.BytesIO(bomb))
    assert refused.value.code == "too_many_pixels"


def test_alt_text_is_required(draft, writer, picture):
    with pytest.raises(ValidationError) as refused:
        services.image_upload(
            actor=writer, article=draft, upload=_upload(picture(100, 100)), alt="  "
        )
    assert "alt" in refused.value.message_dict
    assert not ArticleImage.objects.exists()


def test_upload_over_http_refuses_with_a_clear_message(client, draft, writer, settings):
    client.force_login(writer)
    url = reverse("publishing:image_upload", args=[draft.group.slug, draft.pk])
    response = client.post(
        url, {"image": _upload(b"not really", "x.png"), "alt": "x"}, follow=True
    )
    assert "This file is not an image we can use" in response.content.decode()
    assert _files(settings) == []


def test_picture_in_the_body_has_width_height_alt_and_srcset(
    client, draft, writer, editor, picture
):
    image = services.image_upload(
        actor=writer,
        article=draft,
        upload=_upload(picture(1200, 600)),
        alt="Marchers on Briggate",
        caption="Photo: Sam",
    )
    services.article_update(
        actor=writer,
        article=draft,
        title=draft.title,
        body=f"Before.\n\n{image.reference}\n\n![Tracker](https://tracker.example/x.png)",
        lead_image=image,
    )
    services.article_publish(actor=editor, article=draft)
    html = client.get(draft.get_absolute_url()).content.decode()
    assert 'alt="Marchers on Briggate"' in html
    assert 'width="960" height="480"' in html
    assert "480w" in html and "1200w" in html
    assert "<figcaption>Photo: Sam</figcaption>" in html
    assert "tracker.example" not in html
    assert 'property="og:image"' in html and "-1200.jpg" in html


def test_a_picture_a_published_version_shows_cannot_be_deleted(
    draft, writer, editor, picture
):
    image = services.image_upload(
        actor=writer, article=draft, upload=_upload(picture(100, 100)), alt="x"
    )
    services.article_update(
        actor=writer, article=draft, title=draft.title, body=image.reference
    )
    services.article_publish(actor=editor, article=draft)
    with pytest.raises(ValidationError):
        services.image_delete(actor=editor, article=draft, image=image)
    other = services.image_upload(
        actor=editor, article=draft, upload=_upload(picture(100, 100)), alt="y"
    )
    services.image_delete(actor=editor, article=draft, image=other)
    assert list(ArticleImage.objects.values_list("pk", flat=True)) == [image.pk]


def test_someone_who_cannot_edit_cannot_upload(draft, member, picture, settings):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.image_upload(
            actor=member, article=draft, upload=_upload(picture(100, 100)), alt="x"
        )
    assert _files(settings) == []
