"""The picture of a parcel's tracking history that the post-office kit carries (PNG, via Pillow).

Drawn by us from the merged tracking view, so it works for every carrier and needs no browser:
a header with the post office and the number it knows the parcel by, then the timeline newest
first, the delivered scan on a green band and the hand-over on an amber one. 1080 px wide, large
type: readable on a phone. Text from carriers is drawn as text, never interpreted; every other word
is in the message's language (rules/picture_words.yaml) and dates in the customer's locale.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from inbox_agent.render.localize import Reader
from inbox_agent.render.templates import PictureWords
from inbox_agent.tracking.status import TrackingEvent

WIDTH = 1080
MARGIN = 40
BACKGROUND = (255, 255, 255)
INK = (33, 37, 41)
MUTED = (108, 117, 125)
DELIVERED_BAND = (209, 241, 218)
HANDOVER_BAND = (255, 236, 196)
HEADER_BAND = (24, 63, 120)
WHITE = (255, 255, 255)
HEADER_MUTED = (220, 230, 245)
# Every text colour on the background it is drawn on: the PNG's palette holds, for each pair,
# the background, SHADES steps towards the text colour (the antialiased edges of the letters) and
# the text colour, nothing else. The picture is drawn as palette indices (see `_Canvas`).
TEXT_ON = ((BACKGROUND, INK), (BACKGROUND, MUTED), (DELIVERED_BAND, INK), (DELIVERED_BAND, MUTED),
           (HANDOVER_BAND, INK), (HANDOVER_BAND, MUTED), (HEADER_BAND, WHITE), (HEADER_BAND, HEADER_MUTED))
SHADES = 16
# Texts drawn lately, each with its box and its letters rendered (a few KB to ~60 KB each, at most
# ~2 MB for all): the same words come back picture after picture (the footer, the post office,
# the carriers' phrases for their scans), and FreeType rendering them again is most of the
# picture's drawing.
LINE_CACHE = 64
FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
              "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "/Library/Fonts/Arial Unicode.ttf",
              "/System/Library/Fonts/Supplemental/Arial.ttf", "C:/Windows/Fonts/arial.ttf")
_HANDOVER_WORDS = ("hand", "handed over", "remis", "übergeben", "entregado a", "last mile", "destination post",
                   "arrived in destination", "arrival at destination")


@dataclass(frozen=True)
class Row:
    time: str
    place: str
    text: str
    source: str
    kind: str


def tracking_image(events: Sequence[TrackingEvent], delivered_at: str | None, post_name: str, last_mile_number: str,
                   words: PictureWords, status_text: str, reader: Reader) -> Image.Image:
    """The picture of a parcel's merged tracking `events` (and when it was delivered), our words
    in `words`' language and dates as `reader` reads them; `png_bytes` encodes it."""
    rows = _rows(events, reader)
    fonts = _fonts()
    header_h = 210
    row_h = 132
    height = header_h + MARGIN + max(1, len(rows)) * row_h + MARGIN + 40
    canvas = _Canvas(height)
    canvas.fill((0, 0, WIDTH, header_h), HEADER_BAND)
    canvas.text((MARGIN, 28), post_name, fonts["title"], WHITE, HEADER_BAND)
    canvas.text((MARGIN, 92), words.tracking_number.format(number=last_mile_number), fonts["body"], WHITE, HEADER_BAND)
    delivered = delivered_at or ""
    summary = words.status.format(status=status_text)
    if delivered:
        summary += "  ·  " + words.delivered_on.format(date=reader.moment(delivered))
    canvas.text((MARGIN, 140), summary, fonts["body"], HEADER_MUTED, HEADER_BAND)
    y = header_h + MARGIN
    if not rows:
        canvas.text((MARGIN, y), words.no_events, fonts["body"], MUTED, BACKGROUND)
    for row in rows:
        band = DELIVERED_BAND if row.kind == "delivered" else HANDOVER_BAND if row.kind == "handover" else BACKGROUND
        if band != BACKGROUND:
            canvas.fill((MARGIN // 2, y - 12, WIDTH - MARGIN // 2, y + row_h - 16), band, radius=14)
        canvas.text((MARGIN, y), f"{row.time}   {row.place}", fonts["small"], MUTED, band)
        canvas.text((MARGIN, y + 36), row.text, fonts["body"], INK, band)
        if row.source:
            canvas.text((MARGIN, y + 84), row.source, fonts["tiny"], MUTED, band, fit=False)
        y += row_h
    canvas.text((MARGIN, height - 50), words.footer, fonts["tiny"], MUTED, BACKGROUND)
    return canvas.image()


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


_LINE_BREAKS = re.compile(r"[^\S\r\n]*[\r\n]+[^\S\r\n]*")  # a line break and the blanks around it


class _Canvas:
    """The picture drawn straight as palette indices, on a one-byte-a-pixel ("L") image: pair `k`
    of TEXT_ON owns the indices k * (SHADES + 1) ... k * (SHADES + 1) + SHADES, its background
    first, its text colour last. A text is drawn with its last index on pixels holding its pair's
    first, so Pillow's antialiasing (a blend of the two values by the glyph's coverage) lands on
    the pair's steps between them: the letters' edges keep SHADES levels and no colour has to be
    looked up afterwards. A background shared by two pairs (white under ink and under grey text)
    is one colour under two indices; the area under a text gets its pair's."""

    def __init__(self, height: int) -> None:
        self._image = Image.new("L", (WIDTH, height), _index(BACKGROUND, INK))
        self._draw = ImageDraw.Draw(self._image)

    def fill(self, box: tuple[int, int, int, int], colour: tuple[int, int, int], radius: int = 0) -> None:
        """A flat `colour` (as the background of its first pair in TEXT_ON)."""
        index = _index(colour, next(ink for bg, ink in TEXT_ON if bg == colour))
        if radius:
            self._draw.rounded_rectangle(box, radius=radius, fill=index)
        else:
            self._draw.rectangle(box, fill=index)

    def text(self, at: tuple[int, int], text: str, font: Font, ink: tuple[int, int, int],
             background: tuple[int, int, int], fit: bool = True) -> None:
        """`text` in `ink` on `background` at `at` (cut to the picture's width when `fit`: one line,
        so a carrier's description holding line breaks is drawn with spaces instead)."""
        if fit and ("\n" in text or "\r" in text):
            text = _LINE_BREAKS.sub(" ", text)
        base = _index(background, ink)
        fill = self._draw.draw.draw_ink(base + SHADES)
        line = _line(text, font, fit, fill) if isinstance(font, ImageFont.FreeTypeFont) and "\n" not in text else None
        if line is None:  # Pillow's own font, or several lines: drawn as Pillow draws them
            if fit:
                text = _fit(self._draw, text, font, WIDTH - 2 * MARGIN)
            bounds = self._draw.textbbox(at, text, font=font)
        else:
            bounds = (line.box[0] + at[0], line.box[1] + at[1], line.box[2] + at[0], line.box[3] + at[1])
        left, top, right, bottom = bounds
        box = (math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom))
        # the background's pixels under the text take this pair's index: the table applied by the
        # core image itself (`Image.point` would round each of its 256 values again on every call)
        area = self._image.crop(box)
        self._image.paste(area.im.point(_rebase(background, base), None), box)
        if line is None:
            self._draw.text(at, text, font=font, fill=base + SHADES)
        else:  # what ImageDraw.text does for one line at whole-pixel coordinates, its letters rendered once
            self._draw.draw.draw_bitmap((at[0] + line.offset[0], at[1] + line.offset[1]), line.mask, fill)

    def image(self) -> Image.Image:
        """The picture as a palette image (the indices as they are, the palette attached)."""
        self._image.putpalette(_palette_channels())
        return self._image


@dataclass(frozen=True)
class _Line:
    """One line of text (cut to fit) as ImageDraw lays it out at (0, 0): its box, and its letters
    rendered by FreeType (`mask`, a Pillow core image of coverage) with their offset."""

    box: tuple[float, float, float, float]
    mask: Any
    offset: tuple[int, int]


_SCRATCH = ImageDraw.Draw(Image.new("L", (1, 1)))  # measures and renders text as a canvas's draw does


@lru_cache(maxsize=LINE_CACHE)
def _line(text: str, font: ImageFont.FreeTypeFont, fit: bool, fill: int) -> _Line:
    """`text` (one line) laid out and rendered as `ImageDraw.text` would in `font`, ink `fill`."""
    if fit:
        text = _fit(_SCRATCH, text, font, WIDTH - 2 * MARGIN)
    box = _SCRATCH.textbbox((0, 0), text, font=font)
    mask, offset = font.getmask2(text, _SCRATCH.fontmode, None, None, None, 0, "la", fill, (0.0, 0.0),
                                 stroke_filled=True)
    return _Line(box, mask, offset)


def _index(background: tuple[int, int, int], ink: tuple[int, int, int]) -> int:
    """The first index of the (background, ink) pair: its background."""
    return TEXT_ON.index((background, ink)) * (SHADES + 1)


@lru_cache(maxsize=len(TEXT_ON))
def _rebase(background: tuple[int, int, int], base: int) -> list[int]:
    """A lookup table moving every index that shows `background` flat to `base`, others kept."""
    flat = {_index(bg, ink) for bg, ink in TEXT_ON if bg == background}
    return [base if value in flat else value for value in range(256)]


@lru_cache(maxsize=1)
def _palette_channels() -> list[int]:
    """The palette: for each pair of TEXT_ON its background, the SHADES steps and its text colour."""
    return [round(b + (i - b) * step / SHADES) for background, ink in TEXT_ON for step in range(SHADES + 1)
            for b, i in zip(background, ink, strict=True)]


def png_bytes(image: Image.Image) -> bytes:
    """`image` encoded as the PNG a message carries: a palette image, one byte a pixel instead of
    three (~45 KB instead of ~100 KB). `tracking_image` draws one already; any other image is
    mapped to the same palette first, its flat colours exactly, the letters' edges to a near step."""
    out = io.BytesIO()
    if image.mode != "P":
        palette = Image.new("P", (1, 1))
        palette.putpalette(_palette_channels())
        image = image.convert("RGB").quantize(palette=palette, dither=Image.Dither.NONE)
    # optimize=True costs ~5x the CPU for a file 3% smaller; zlib level 1 takes less than half the
    # default level's CPU for a file ~35% larger
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _rows(events: Sequence[TrackingEvent], reader: Reader) -> list[Row]:
    rows = []
    for e in events:
        text = e.description
        lowered = text.lower()
        code = e.code
        if code in ("01", "DI1", "GTMS_SIGNED", "Delivered_Other", "delivered", "EVKSP", "EVKSF", "EVKOP") or (
                lowered.startswith("delivered") or "distribué" in lowered or "zugestellt" in lowered):
            kind = "delivered"
        elif any(w in lowered for w in _HANDOVER_WORDS):
            kind = "handover"
        else:
            kind = "event"
        rows.append(Row(reader.moment(e.time), e.location, text, e.source, kind))
    return rows


@lru_cache(maxsize=1)
def _fonts() -> dict[str, ImageFont.FreeTypeFont | ImageFont.ImageFont]:
    """A system sans-serif that covers the accents of every store language, else Pillow's own font
    (whose glyphs stop at ASCII; `make test` installs Debian's fonts-dejavu-core)."""
    path = font_file()
    sizes = (("title", 52), ("body", 36), ("small", 28), ("tiny", 24))
    if path is None:
        return {name: ImageFont.load_default(size=size) for name, size in sizes}
    return {name: ImageFont.truetype(path, size=size) for name, size in sizes}


@lru_cache(maxsize=1)
def font_file() -> str | None:
    """The first readable font of FONT_FILES, else what fontconfig names for sans-serif."""
    for candidate in FONT_FILES:
        if Path(candidate).is_file():
            return candidate
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        found = subprocess.run([fc_match, "-f", "%{file}", "sans-serif:lang=fr"], capture_output=True, text=True,
                               timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found if found.endswith((".ttf", ".otf")) and Path(found).is_file() else None


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> str:
    """`text` cut with an ellipsis so it fits `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"
