#!/usr/bin/env python3
"""Draw the app icons (home screen, manifest, apple-touch-icon) with Pillow.

The mark is three overlapping rings, their common ground filled: white on the
accent green (#0b5c3b) of the site stylesheet. It is drawn from the same geometry
as an SVG and as PNGs, into src/commonground/static/pwa/:

- icon.svg                 any size (browsers that take SVG icons)
- icon-192.png, icon-512.png   rounded square, transparent corners ("any")
- icon-maskable-512.png   full-bleed square, the mark inside the 80 % safe zone
- apple-touch-icon.png     180 px full-bleed square (iOS rounds it itself)

The PNGs are committed; run this again (`.venv/bin/python scripts/make_icons.py`)
to reproduce them after changing the colours or the geometry.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "src" / "commonground" / "static" / "pwa"
ACCENT = "#0b5c3b"
INK = "#ffffff"
COMMON = "#ffbf47"  # the focus colour of the stylesheet: the shared middle
SUPERSAMPLE = 4  # draw 4x larger, then downsample: smooth edges without a renderer

# Geometry in units of the icon's side (0..1), for the "any" icon. The maskable
# icon scales the mark down by MASKABLE_SCALE so it stays inside the safe zone (a
# circle of 40 % radius): the mark reaches 0.41 from the centre, 0.41 x 0.8 < 0.4.
RING_RADIUS = 0.25
RING_OFFSET = 0.14  # distance of each ring's centre from the icon's centre
RING_STROKE = 0.045
CORNER_RADIUS = 0.22
MASKABLE_SCALE = 0.8
ANGLES = (-90.0, 30.0, 150.0)  # one ring on top, two below
PALETTE_COLOURS = 64


def _centres(scale: float) -> list[tuple[float, float]]:
    return [
        (
            0.5 + scale * RING_OFFSET * math.cos(math.radians(angle)),
            0.5 + scale * RING_OFFSET * math.sin(math.radians(angle)),
        )
        for angle in ANGLES
    ]


def _disc(size: int, centre: tuple[float, float], radius: float) -> Image.Image:
    mask = Image.new("L", (size, size), 0)
    x, y = centre[0] * size, centre[1] * size
    r = radius * size
    ImageDraw.Draw(mask).ellipse((x - r, y - r, x + r, y + r), fill=255)
    return mask


def draw_png(side: int, *, maskable: bool) -> Image.Image:
    size = side * SUPERSAMPLE
    scale = MASKABLE_SCALE if maskable else 1.0
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, size, size), fill=ACCENT)
    else:
        draw.rounded_rectangle(
            (0, 0, size - 1, size - 1), radius=CORNER_RADIUS * size, fill=ACCENT
        )
    centres = _centres(scale)
    radius = scale * RING_RADIUS
    # The common ground: the intersection of the three discs.
    common = _disc(size, centres[0], radius)
    for centre in centres[1:]:
        common = ImageChops.multiply(common, _disc(size, centre, radius))
    image.paste(COMMON, (0, 0), common)
    stroke = scale * RING_STROKE * size
    for cx, cy in centres:
        x, y, r = cx * size, cy * size, radius * size
        draw.ellipse(
            (x - r, y - r, x + r, y + r), outline=INK, width=max(1, round(stroke))
        )
    return image.resize((side, side), Image.Resampling.LANCZOS)


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def quantize(image: Image.Image) -> Image.Image:
    """64 colours (alpha kept) are plenty for flat shapes and their smooth edges and
    make the files a fifth of the size. Palette entries within a shade of one of
    our colours become exactly that colour: the icon's green is the theme colour."""
    image = image.quantize(PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE)
    mode = image.palette.mode if image.palette else "RGB"
    width = len(mode)
    palette = image.getpalette(mode) or []
    exact = [_rgb(colour) for colour in (ACCENT, INK, COMMON)]
    for start in range(0, len(palette), width):
        entry = palette[start : start + 3]
        for colour in exact:
            if max(abs(a - b) for a, b in zip(entry, colour, strict=True)) <= 3:
                palette[start : start + 3] = colour
        if width == 4:  # per-entry alpha: near opaque or near clear becomes exact
            alpha = palette[start + 3]
            palette[start + 3] = 255 if alpha >= 252 else 0 if alpha <= 3 else alpha
    image.putpalette(palette, mode)
    return image


def svg() -> str:
    centres = _centres(1.0)
    unit = 512

    def n(value: float) -> str:
        return f"{value * unit:.1f}".rstrip("0").rstrip(".")

    circles = [f'cx="{n(x)}" cy="{n(y)}" r="{n(RING_RADIUS)}"' for x, y in centres]
    rings = "\n".join(f"    <circle {c}/>" for c in circles)
    return f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {unit} {unit}" width="{unit}" height="{unit}">
  <title>Common Ground</title>
  <defs>
    <clipPath id="a"><circle {circles[0]}/></clipPath>
    <clipPath id="b" clip-path="url(#a)"><circle {circles[1]}/></clipPath>
  </defs>
  <rect width="{unit}" height="{unit}" rx="{n(CORNER_RADIUS)}" fill="{ACCENT}"/>
  <circle {circles[2]} fill="{COMMON}" clip-path="url(#b)"/>
  <g fill="none" stroke="{INK}" stroke-width="{n(RING_STROKE)}">
{rings}
  </g>
</svg>
"""


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    outputs = {
        "icon-192.png": draw_png(192, maskable=False),
        "icon-512.png": draw_png(512, maskable=False),
        # Full bleed: opaque, so no alpha channel at all.
        "icon-maskable-512.png": draw_png(512, maskable=True).convert("RGB"),
        "apple-touch-icon.png": draw_png(180, maskable=True).convert("RGB"),
    }
    for name, image in outputs.items():
        # No metadata, so the bytes reproduce.
        quantize(image).save(OUT / name, optimize=True)
    (OUT / "icon.svg").write_text(svg(), encoding="utf-8")
    for path in sorted(OUT.iterdir()):
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
