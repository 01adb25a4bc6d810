"""The picture of a parcel's tracking history that the post-office kit carries (PNG, via Pillow).

Drawn by us from the merged tracking view, so it works for every carrier and needs no browser:
a header with the post office and the number it knows the parcel by, then the timeline newest
first, the delivered scan on a green band and the hand-over on an amber one. 1080 px wide, large
type: readable on a phone. Text from carriers is drawn as text, never interpreted.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw, ImageFont

WIDTH = 1080
MARGIN = 40
BACKGROUND = (255, 255, 255)
INK = (33, 37, 41)
MUTED = (108, 117, 125)
DELIVERED_BAND = (209, 241, 218)
HANDOVER_BAND = (255, 236, 196)
HEADER_BAND = (24, 63, 120)
_HANDOVER_WORDS = ("hand", "handed over", "remis", "übergeben", "entregado a", "last mile", "destination post",
                   "arrived in destination", "arrival at destination")


@dataclass(frozen=True)
class Row:
    time: str
    place: str
    text: str
    source: str
    kind: str


def tracking_png(view: Mapping[str, Any], post_name: str, last_mile_number: str) -> bytes:
    """A PNG of the merged tracking `view` (TrackingStatus.to_json() shape)."""
    rows = _rows(view.get("events") or [])
    fonts = _fonts()
    header_h = 210
    row_h = 132
    height = header_h + MARGIN + max(1, len(rows)) * row_h + MARGIN + 40
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, header_h), fill=HEADER_BAND)
    draw.text((MARGIN, 28), _fit(draw, post_name, fonts["title"], WIDTH - 2 * MARGIN), font=fonts["title"],
              fill=(255, 255, 255))
    draw.text((MARGIN, 92), f"Tracking number: {last_mile_number}", font=fonts["body"], fill=(255, 255, 255))
    status = str(view.get("status") or "").replace("_", " ")
    delivered = str(view.get("delivered_at") or "")[:16].replace("T", " ")
    summary = f"Status: {status}" + (f"  ·  delivered {delivered}" if delivered else "")
    draw.text((MARGIN, 140), summary, font=fonts["body"], fill=(220, 230, 245))
    y = header_h + MARGIN
    if not rows:
        draw.text((MARGIN, y), "No tracking events yet.", font=fonts["body"], fill=MUTED)
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
    draw.text((MARGIN, height - 50), "Tracking history as reported by the carriers", font=fonts["tiny"], fill=MUTED)
    out = io.BytesIO()
    # optimize=True costs ~5x the CPU for a file 3% smaller; zlib level 1 saves a third of the default
    # level's CPU (18 ms against 27 ms here) for a file ~12% larger (~100 KB)
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _rows(events: Sequence[Mapping[str, Any]]) -> list[Row]:
    rows = []
    for e in events:
        text = str(e.get("description") or "")
        lowered = text.lower()
        code = str(e.get("code") or "")
        if code in ("01", "DI1", "GTMS_SIGNED", "Delivered_Other", "delivered", "EVKSP", "EVKSF", "EVKOP") or (
                lowered.startswith("delivered") or "distribué" in lowered or "zugestellt" in lowered):
            kind = "delivered"
        elif any(w in lowered for w in _HANDOVER_WORDS):
            kind = "handover"
        else:
            kind = "event"
        time = str(e.get("time") or "")[:16].replace("T", " ")
        rows.append(Row(time, str(e.get("location") or ""), text, str(e.get("source") or ""), kind))
    return rows


def _fonts() -> dict[str, ImageFont.FreeTypeFont | ImageFont.ImageFont]:
    return {name: ImageFont.load_default(size=size) for name, size in
            (("title", 52), ("body", 36), ("small", 28), ("tiny", 24))}


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> str:
    """`text` cut with an ellipsis so it fits `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"
