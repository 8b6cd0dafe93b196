"""How an organisation looks: its accent colour (WCAG-checked) and its logo (checked by
content, stripped of metadata, resized).

Colours: ``accent_check("#7fd3a0")`` returns the text colour that reads best on it
(white or the site's dark ink) and its WCAG 2.1 contrast ratio, or raises a
``ValidationError`` naming the ratio and a nearby colour that passes AA (4.5:1).

Logos: ``logo_prepare(uploaded_file)`` refuses anything that is not a PNG, JPEG or WebP
by its bytes (never by its name), too many bytes or too many pixels, and returns the
cleaned source and the renditions (``LOGO_WIDTHS``) as PNG bytes with their sizes.
``members.services.organisation_branding_update`` stores them.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .models import DEFAULT_ACCENT

# The two text colours the design system puts on an accent (site.css --accent-ink,
# --ink): light on dark accents, dark on light ones.
WHITE = "#ffffff"
DARK_INK = "#1b1b1b"
PAGE_BACKGROUND = "#ffffff"
AA_NORMAL_TEXT = 4.5

LOGO_FORMATS = frozenset({"PNG", "JPEG", "WEBP"})
LOGO_WIDTHS = (64, 128, 256)
# The source kept for later renditions is at most this wide.
LOGO_SOURCE_MAX_WIDTH = 1024
MEGABYTE = 1024 * 1024


def logo_max_bytes() -> int:
    return int(getattr(settings, "COMMONGROUND_LOGO_MAX_BYTES", 2 * MEGABYTE))


def logo_max_side() -> int:
    return int(getattr(settings, "COMMONGROUND_LOGO_MAX_SIDE", 4000))


# Colours.


def _channel(value: int) -> float:
    srgb = value / 255
    return srgb / 12.92 if srgb <= 0.04045 else ((srgb + 0.055) / 1.055) ** 2.4


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def relative_luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of "#rrggbb" (0 black .. 1 white)."""
    red, green, blue = (_channel(value) for value in _rgb(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio, 1 (none) .. 21 (black on white)."""
    lighter, darker = sorted(
        (relative_luminance(first), relative_luminance(second)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def best_ink(colour: str) -> tuple[str, float]:
    """The text colour that reads best on ``colour`` and its ratio (white on a tie)."""
    on_white, on_dark = contrast_ratio(colour, WHITE), contrast_ratio(colour, DARK_INK)
    return (WHITE, on_white) if on_white >= on_dark else (DARK_INK, on_dark)


def ratio_text(ratio: float) -> str:
    """ "4.4:1": rounded down, so a failing ratio never reads as a passing one."""
    return number_format(math.floor(ratio * 10) / 10, 1) + ":1"


def _hex(red: float, green: float, blue: float) -> str:
    return "#" + "".join(
        f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in (red, green, blue)
    )


def _lightness_steps(colour: str, direction: int) -> list[str]:
    """The colour lightened (+1) or darkened (-1) in HSL steps of 2 %, nearest first."""
    red, green, blue = (value / 255 for value in _rgb(colour))
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    steps = []
    for step in range(1, 51):
        shifted = lightness + direction * step * 0.02
        if not 0 <= shifted <= 1:
            break
        steps.append(_hex(*colorsys.hls_to_rgb(hue, shifted, saturation)))
    return steps


def passing_neighbour(colour: str, against: str | None = None) -> str:
    """The nearest colour (same hue and saturation, lightness changed in steps) that
    reaches AA: against ``against`` if given, else against its own best ink."""

    def passes(candidate: str) -> bool:
        if against is not None:
            return contrast_ratio(candidate, against) >= AA_NORMAL_TEXT
        return best_ink(candidate)[1] >= AA_NORMAL_TEXT

    darker, lighter = _lightness_steps(colour, -1), _lightness_steps(colour, +1)
    for index in range(max(len(darker), len(lighter))):
        for candidates in (darker, lighter):
            if index < len(candidates) and passes(candidates[index]):
                return candidates[index]
    return DEFAULT_ACCENT


@dataclass(frozen=True)
class AccentCheck:
    colour: str
    ink: str
    ratio: float


def accent_check(colour: str) -> AccentCheck:
    """Accept an accent whose best text colour reaches AA (4.5:1), else refuse it with
    the ratio and a nearby colour that passes."""
    colour = colour.strip().lower()
    ink, ratio = best_ink(colour)
    if ratio < AA_NORMAL_TEXT:
        raise ValidationError(
            _(
                "%(colour)s gives a contrast of %(ratio)s with the text on it; "
                "AA needs 4.5:1. Try %(suggestion)s."
            )
            % {
                "colour": colour,
                "ratio": ratio_text(ratio),
                "suggestion": passing_neighbour(colour),
            },
            code="low_contrast",
        )
    return AccentCheck(colour=colour, ink=ink, ratio=ratio)


# Logos.


@dataclass(frozen=True)
class PreparedImage:
    width: int
    height: int
    png: bytes


@dataclass(frozen=True)
class PreparedLogo:
    """A checked logo: the cleaned source and its renditions (narrowest first)."""

    digest: str
    source: PreparedImage
    renditions: tuple[PreparedImage, ...] = field(default_factory=tuple)


def _size_text(size: int) -> str:
    megabytes = size / MEGABYTE
    places = 0 if megabytes == int(megabytes) else 1
    return number_format(round(megabytes, places), places)


def _not_an_image() -> ValidationError:
    return ValidationError(
        _("This file is not an image (PNG, JPEG or WebP)."), code="not_an_image"
    )


def _too_many_pixels(
    width: int | None = None, height: int | None = None
) -> ValidationError:
    side = logo_max_side()
    if width is None or height is None:
        message = _(
            "The logo has too many pixels; the limit is %(side)d × %(side)d."
        ) % {"side": side}
    else:
        message = _(
            "The logo is %(width)d × %(height)d pixels; the limit is %(side)d × %(side)d."
        ) % {"width": width, "height": height, "side": side}
    return ValidationError(message, code="too_many_pixels")


def _open_checked(data: IO[bytes]) -> Image.Image:
    """Open by content, refuse other formats and oversized images before decoding."""
    try:
        data.seek(0)
        with Image.open(data) as probe:
            if probe.format not in LOGO_FORMATS:
                raise _not_an_image()
            width, height = probe.size
            if max(width, height) > logo_max_side():
                raise _too_many_pixels(width, height)
            probe.verify()
        data.seek(0)
        image = Image.open(data)  # verify() leaves the image unusable: reopen
        image.load()
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise _not_an_image() from None
    return image


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # Written from pixels only: no EXIF, ICC, XMP or text chunks survive.
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _resized(image: Image.Image, width: int) -> Image.Image:
    if image.width <= width:
        return image.copy()
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.LANCZOS)


def logo_prepare(upload: Any) -> PreparedLogo:
    """Check an uploaded logo by its content and make its renditions.

    Refuses (``ValidationError``): more than the byte limit (checked first, before
    decoding), anything Pillow does not read as PNG, JPEG or WebP, and more pixels on
    a side than the limit (checked before decoding; decompression bombs too).
    """
    size = upload.size
    if size is not None and size > logo_max_bytes():
        raise ValidationError(
            _("The logo is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": _size_text(size), "limit": _size_text(logo_max_bytes())},
            code="too_large",
        )
    file = upload.file if hasattr(upload, "file") else upload
    with _open_checked(file) as opened:
        upright = ImageOps.exif_transpose(opened)
        has_alpha = upright.mode in {"RGBA", "LA", "PA"} or (
            "transparency" in upright.info
        )
        pixels = upright.convert("RGBA" if has_alpha else "RGB")
    # A fresh image holds pixels only, whatever the upload carried.
    clean = Image.new(pixels.mode, pixels.size)
    clean.paste(pixels)
    source = _resized(clean, LOGO_SOURCE_MAX_WIDTH)
    source_png = _png(source)
    widths = [width for width in LOGO_WIDTHS if width < clean.width] or []
    widths.append(min(clean.width, LOGO_WIDTHS[-1]))
    renditions = []
    for width in sorted(set(widths)):
        rendition = _resized(clean, width)
        renditions.append(
            PreparedImage(rendition.width, rendition.height, _png(rendition))
        )
    return PreparedLogo(
        digest=hashlib.sha256(source_png).hexdigest()[:10],
        source=PreparedImage(source.width, source.height, source_png),
        renditions=tuple(renditions),
    )


# What pages read.


@dataclass(frozen=True)
class LogoRendition:
    url: str
    width: int
    height: int


@dataclass(frozen=True)
class Brand:
    """How an organisation's pages look (``org_brand`` in templates).

    ``accent``/``accent_ink``: background and text of accent surfaces (buttons, the
    header band); ``accent_text``: the accent darkened, if needed, to 4.5:1 on the page
    background, for links and headings; ``logo_url``/``logo_width``/``logo_height``:
    the 128 px rendition (or the nearest), ``logo_srcset`` every rendition.
    """

    name: str
    slug: str
    accent: str
    accent_ink: str
    accent_text: str
    renditions: tuple[LogoRendition, ...] = ()

    @property
    def logo(self) -> LogoRendition | None:
        if not self.renditions:
            return None
        return min(self.renditions, key=lambda r: (abs(r.width - 128), -r.width))

    @property
    def logo_url(self) -> str:
        logo = self.logo
        return logo.url if logo else ""

    @property
    def logo_width(self) -> int | None:
        logo = self.logo
        return logo.width if logo else None

    @property
    def logo_height(self) -> int | None:
        logo = self.logo
        return logo.height if logo else None

    @property
    def logo_srcset(self) -> str:
        return ", ".join(f"{r.url} {r.width}w" for r in self.renditions)

    @property
    def stylesheet(self) -> str:
        """The accent as the design system's custom properties (colours are
        validated "#rrggbb", so nothing else can reach the CSS)."""
        return (
            f":root {{ --accent: {self.accent}; --accent-ink: {self.accent_ink}; "
            f"--accent-text: {self.accent_text}; }}\n"
        )

    @property
    def stylesheet_url(self) -> str:
        """``<link rel="stylesheet" href="{{ org_brand.stylesheet_url }}">`` after
        site.css; versioned by its content, so it can be cached for a year."""
        version = hashlib.sha256(self.stylesheet.encode()).hexdigest()[:8]
        path = reverse("members:organisation_brand_css", args=[self.slug])
        return f"{path}?v={version}"


def brand_of(organisation: Any) -> Brand:
    """The brand of an organisation row (no query: reads its own fields)."""
    accent = (organisation.accent_colour or DEFAULT_ACCENT).lower()
    ink, _ratio = best_ink(accent)
    if contrast_ratio(accent, PAGE_BACKGROUND) >= AA_NORMAL_TEXT:
        accent_text = accent
    else:
        accent_text = passing_neighbour(accent, against=PAGE_BACKGROUND)
    renditions = tuple(
        LogoRendition(
            url=default_storage.url(item["name"]),
            width=int(item["width"]),
            height=int(item["height"]),
        )
        for item in organisation.logo_renditions or []
    )
    return Brand(
        name=organisation.name,
        slug=organisation.slug,
        accent=accent,
        accent_ink=ink,
        accent_text=accent_text,
        renditions=renditions,
    )
