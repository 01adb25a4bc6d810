"""The picture of a parcel's tracking history that the post-office kit carries (PNG, via Pillow).

Drawn by us from the merged tracking view, so it works for every carrier and needs no browser:
a header with the post office and the number it knows the parcel by, then the timeline newest
first, the delivered scan on a green band and the hand-over on an amber one. 1080 px wide, large
type: readable on a phone. Text from carriers is drawn as text, never interpreted; every other word
is in the message's language (rules/picture_words.yaml) and dates in the customer's locale.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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
# Every text colour on the background it is drawn on: the PNG's palette holds these colours and
# SHADES steps between each pair (the antialiased edges of the letters), nothing else.
TEXT_ON = ((BACKGROUND, INK), (BACKGROUND, MUTED), (DELIVERED_BAND, INK), (DELIVERED_BAND, MUTED),
           (HANDOVER_BAND, INK), (HANDOVER_BAND, MUTED), (HEADER_BAND, WHITE), (HEADER_BAND, HEADER_MUTED))
SHADES = 16
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
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, header_h), fill=HEADER_BAND)
    draw.text((MARGIN, 28), _fit(draw, post_name, fonts["title"], WIDTH - 2 * MARGIN), font=fonts["title"],
              fill=WHITE)
    draw.text((MARGIN, 92), _fit(draw, words.tracking_number.format(number=last_mile_number), fonts["body"],
                                 WIDTH - 2 * MARGIN), font=fonts["body"], fill=WHITE)
    delivered = delivered_at or ""
    summary = words.status.format(status=status_text)
    if delivered:
        summary += "  ·  " + words.delivered_on.format(date=reader.moment(delivered))
    draw.text((MARGIN, 140), _fit(draw, summary, fonts["body"], WIDTH - 2 * MARGIN), font=fonts["body"],
              fill=HEADER_MUTED)
    y = header_h + MARGIN
    if not rows:
        draw.text((MARGIN, y), words.no_events, font=fonts["body"], fill=MUTED)
    for row in rows:
        band = DELIVERED_BAND if row.kind == "delivered" else HANDOVER_BAND if row.kind == "handover" else None
        if band:
            draw.rounded_rectangle((MARGIN // 2, y - 12, WIDTH - MARGIN // 2, y + row_h - 16), radius=14, fill=band)
        draw.text((MARGIN, y), _fit(draw, f"{row.time}   {row.place}", fonts["small"], WIDTH - 2 * MARGIN),
                  font=fonts["small"], fill=MUTED)
        draw.text((MARGIN, y + 36), _fit(draw, row.text, fonts["body"], WIDTH - 2 * MARGIN), font=fonts["body"],
                  fill=INK)
        if row.source:
            draw.text((MARGIN, y + 84), row.source, font=fonts["tiny"], fill=MUTED)
        y += row_h
    draw.text((MARGIN, height - 50), _fit(draw, words.footer, fonts["tiny"], WIDTH - 2 * MARGIN), font=fonts["tiny"],
              fill=MUTED)
    return image


def png_bytes(image: Image.Image) -> bytes:
    """`image` encoded as the PNG a message carries: a palette image (one byte a pixel instead of
    three), its flat colours mapped exactly, the letters' edges to a near one of SHADES steps. A
    kit's picture is then ~45 KB instead of ~100 KB, and encoding it takes ~6 ms of CPU instead of
    ~23 (the mapping included; docs/scaling.md)."""
    out = io.BytesIO()
    # optimize=True costs ~5x the CPU for a file 3% smaller; zlib level 1 takes less than half the
    # default level's CPU for a file ~35% larger
    image.quantize(palette=_palette(), dither=Image.Dither.NONE).save(out, format="PNG", compress_level=1)
    return out.getvalue()


@lru_cache(maxsize=1)
def _palette() -> Image.Image:
    """The picture's colours: each of TEXT_ON's pairs and the SHADES steps between them."""
    colours: dict[tuple[int, ...], None] = {}
    for background, ink in TEXT_ON:
        for step in range(SHADES + 1):
            colours[tuple(round(b + (i - b) * step / SHADES) for b, i in zip(background, ink, strict=True))] = None
    palette = Image.new("P", (1, 1))
    palette.putpalette([channel for colour in colours for channel in colour])
    return palette


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


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> str:
    """`text` cut with an ellipsis so it fits `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"
