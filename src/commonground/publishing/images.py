"""Checking and resizing article images (the approach of ``members.branding`` logos).

``image_prepare(upload)`` refuses, with a message saying what is wrong and what the
limit is: more bytes than ``COMMONGROUND_ARTICLE_IMAGE_MAX_BYTES`` (checked first,
before decoding); anything Pillow does not read as PNG, JPEG or WebP by its bytes
(never by its name or declared type); more than ``COMMONGROUND_ARTICLE_IMAGE_MAX_SIDE``
pixels on a side or ``..._MAX_PIXELS`` in all (checked from the header, before
decoding; decompression bombs too). It returns renditions at ``WIDTHS`` (never wider
than the original), re-encoded from pixels only: no EXIF, GPS, ICC or text survives.
Opaque images become JPEG, images with transparency PNG.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = frozenset({"PNG", "JPEG", "WEBP"})
WIDTHS = (480, 960, 1600)
MEGABYTE = 1024 * 1024
JPEG_QUALITY = 82


def max_bytes() -> int:
    return int(getattr(settings, "COMMONGROUND_ARTICLE_IMAGE_MAX_BYTES", 8 * MEGABYTE))


def max_side() -> int:
    return int(getattr(settings, "COMMONGROUND_ARTICLE_IMAGE_MAX_SIDE", 8000))


def max_pixels() -> int:
    return int(getattr(settings, "COMMONGROUND_ARTICLE_IMAGE_MAX_PIXELS", 40_000_000))


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    data: bytes
    extension: str


@dataclass(frozen=True)
class PreparedImage:
    digest: str
    width: int
    height: int
    renditions: tuple[Rendition, ...]


def _megabytes(size: int) -> str:
    value = size / MEGABYTE
    places = 0 if value == int(value) else 1
    return number_format(round(value, places), places)


def _not_an_image() -> ValidationError:
    return ValidationError(
        _("This file is not an image we can use: upload a PNG, JPEG or WebP picture."),
        code="not_an_image",
    )


def _too_many_pixels(
    width: int | None = None, height: int | None = None
) -> ValidationError:
    if width is None or height is None:
        message = _(
            "The picture has too many pixels; the limit is %(side)d pixels on a side "
            "and %(megapixels)d megapixels in all."
        ) % {"side": max_side(), "megapixels": max_pixels() // 1_000_000}
    else:
        message = _(
            "The picture is %(width)d × %(height)d pixels; the limit is %(side)d "
            "pixels on a side and %(megapixels)d megapixels in all."
        ) % {
            "width": width,
            "height": height,
            "side": max_side(),
            "megapixels": max_pixels() // 1_000_000,
        }
    return ValidationError(message, code="too_many_pixels")


def _open_checked(data: IO[bytes]) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Our own limits are lower than Pillow's: its warning would only repeat it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            data.seek(0)
            with Image.open(data) as probe:
                if probe.format not in FORMATS:
                    raise _not_an_image()
                width, height = probe.size
                if max(width, height) > max_side() or width * height > max_pixels():
                    raise _too_many_pixels(width, height)
                probe.verify()
            data.seek(0)
            image = Image.open(data)
            image.load()
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise _not_an_image() from None
    return image


def _encode(image: Image.Image, *, transparent: bool) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if transparent:
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue(), "png"
    image.save(
        buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True
    )
    return buffer.getvalue(), "jpg"


def image_prepare(upload: Any) -> PreparedImage:
    """Check an uploaded picture by its content and make its renditions (see the
    module's docstring); ``ValidationError`` with a clear message otherwise."""
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes():
        raise ValidationError(
            _("The picture is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": _megabytes(size), "limit": _megabytes(max_bytes())},
            code="too_large",
        )
    file = upload.file if hasattr(upload, "file") else upload
    with _open_checked(file) as opened:
        upright = ImageOps.exif_transpose(opened)
        transparent = upright.mode in {"RGBA", "LA", "PA"} or (
            "transparency" in upright.info
        )
        pixels = upright.convert("RGBA" if transparent else "RGB")
    clean = Image.new(pixels.mode, pixels.size)
    clean.paste(pixels)
    widths = sorted(
        {w for w in WIDTHS if w < clean.width} | {min(clean.width, WIDTHS[-1])}
    )
    renditions = []
    for width in widths:
        if clean.width <= width:
            resized = clean
        else:
            height = max(1, round(clean.height * width / clean.width))
            resized = clean.resize((width, height), Image.Resampling.LANCZOS)
        data, extension = _encode(resized, transparent=transparent)
        renditions.append(Rendition(resized.width, resized.height, data, extension))
    widest = renditions[-1]
    return PreparedImage(
        digest=hashlib.sha256(widest.data).hexdigest()[:12],
        width=widest.width,
        height=widest.height,
        renditions=tuple(renditions),
    )
