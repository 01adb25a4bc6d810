"""The HTML alternative of every customer message in every language, rendered by a real headless
Chromium at a phone's and a desktop's width: nothing wider than the screen, every link of the text
clickable, the tracking picture shown."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from inbox_agent.config import Config
from inbox_agent.render.gallery import WIDTHS, Page, browser_page, gallery
from inbox_agent.render.templates import CUSTOMER_TEMPLATES

PAGES = gallery(Config(), "FR")
MEASURE = """(expected) => ({
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  missing: expected.filter(url => !Array.from(document.links, a => a.href).includes(new URL(url).href)),
  pictures: Array.from(document.images, i => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0),
  widest: Math.max(...Array.from(document.body.querySelectorAll('*'), e => e.getBoundingClientRect().right)),
})"""


@pytest.fixture(scope="module", params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def tab(request: pytest.FixtureRequest) -> Iterator[tuple[int, Any]]:
    with browser_page(request.param) as page:
        yield request.param, page


def test_every_customer_message_in_every_language_is_checked() -> None:
    languages = {"en", "fr", "es", "de", "pt", "it", "nl"}
    assert {(p.template, p.language) for p in PAGES} == {(t, lang) for t in CUSTOMER_TEMPLATES for lang in languages}


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_fits_the_screen_with_every_link_and_the_picture(tab: tuple[int, Any], page: Page) -> None:
    width, browser = tab
    browser.set_content(page.html)
    seen = browser.evaluate(MEASURE, list(page.links))
    assert seen["overflow"] <= 0 and seen["widest"] <= width, f"{page.name} is wider than {width} px"
    assert seen["missing"] == [], f"{page.name} lost links"
    if page.template == "customer_post_office_kit":
        assert seen["pictures"] == [True] and len(page.links) >= 4
    else:
        assert seen["pictures"] == []
