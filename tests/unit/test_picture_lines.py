"""The picture's texts, rendered once and drawn from the line cache, are the pixels Pillow's own
`ImageDraw.text` draws: first drawing and repeats alike, cut to fit or not, every colour pair."""

from __future__ import annotations

import math

import pytest
from PIL import Image, ImageDraw

from inbox_agent.render import picture
from inbox_agent.render.picture import MARGIN, SHADES, TEXT_ON, WIDTH, _Canvas, _fit, _fonts, _index, _rebase

TEXTS = ("Delivered, in/at mailbox", "Zugestellt an Nachbar – Württemberg", "Distribué — bureau À côté",
         "配達済み", "Entregado en Málaga, ESPAÑA " * 4, "", "AVAVA To Ty Wa fi ffl", "two\nlines")


def _reference(height: int, at: tuple[int, int], text: str, font_name: str, pair: int, fit: bool) -> bytes:
    """The text drawn as `_Canvas.text` drew it before the cache, straight with ImageDraw."""
    background, ink = TEXT_ON[pair]
    image = Image.new("L", (WIDTH, height), _index(TEXT_ON[0][0], TEXT_ON[0][1]))
    draw = ImageDraw.Draw(image)
    font = _fonts()[font_name]
    if fit:
        text = _fit(draw, text, font, WIDTH - 2 * MARGIN)
    base = _index(background, ink)
    left, top, right, bottom = draw.textbbox(at, text, font=font)
    box = (math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom))
    image.paste(image.crop(box).point(_rebase(background, base)), box)
    draw.text(at, text, font=font, fill=base + SHADES)
    return image.tobytes()


@pytest.mark.parametrize("font_name", ["title", "body", "small", "tiny"])
@pytest.mark.parametrize("pair", range(len(TEXT_ON)))
def test_a_cached_line_draws_what_imagedraw_draws(font_name: str, pair: int) -> None:
    picture._line.cache_clear()
    background, ink = TEXT_ON[pair]
    for text in TEXTS:
        fit = "\n" not in text  # a text to fit is one line (ImageDraw cannot measure several)
        for at in ((MARGIN, 28), (MARGIN + 3, 141)):
            for _ in range(2):  # rendered, then drawn from the cache
                canvas = _Canvas(260)
                canvas.text(at, text, _fonts()[font_name], ink, background, fit=fit)
                assert canvas.image().tobytes() == _reference(260, at, text, font_name, pair, fit), (text, at)
    assert picture._line.cache_info().hits > 0
