"""Every customer message in every store language, as the HTML a mail client shows, and its
screenshots at phone and desktop widths (`inbox-agent screenshots`, `make screenshots`).

The pages are the previews' own .eml files with the inline picture turned into a data: URI, as a
client shows a `cid:` part, so what is looked at (and checked in a real browser by the tests) is
exactly what a customer receives. Screenshots need the dev extra (Playwright) and a Chromium.
"""

from __future__ import annotations

import base64
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from inbox_agent.config import Config
from inbox_agent.errors import PermanentError
from inbox_agent.render.preview import preview
from inbox_agent.render.screenshot import find_browser
from inbox_agent.render.templates import CUSTOMER_TEMPLATES, URL

WIDTHS = (375, 1024)
BROWSER_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync")


@dataclass(frozen=True)
class Page:
    """One customer message as a client shows it."""

    template: str
    language: str
    subject: str
    text: str
    html: str
    links: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.template}.{self.language}"


def gallery(config: Config, country: str = "US") -> list[Page]:
    """Every customer template in every store language, with the sample case bound for `country`."""
    return [page(config, template, language, country)
            for template in CUSTOMER_TEMPLATES for language in config.store.languages]


def page(config: Config, template: str, language: str, country: str = "US") -> Page:
    message = BytesParser(policy=email.policy.default).parsebytes(preview(config, template, language, country).eml)
    assert isinstance(message, EmailMessage)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    if text_part is None or html_part is None:
        raise PermanentError(f"{template}.{language} has no text and HTML alternatives")
    text = text_part.get_content()
    html = html_part.get_content()
    for part in message.walk():
        cid = str(part.get("Content-ID") or "").strip("<>")
        payload = part.get_payload(decode=True)
        if cid and part.get_content_type().startswith("image/") and isinstance(payload, bytes):
            data = base64.b64encode(payload).decode("ascii")
            html = html.replace(f"cid:{cid}", f"data:{part.get_content_type()};base64,{data}")
    links = tuple(dict.fromkeys(m.group(0) for m in URL.finditer(text)))
    return Page(template, language, str(message["Subject"]), text, html, links)


@contextmanager
def browser_page(width: int, browser: str | None = None) -> Iterator[Any]:
    """A headless Chromium tab `width` pixels wide (Playwright driving the system's Chromium)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise PermanentError("screenshots need Playwright: pip install 'inbox-agent[dev]'") from None
    binary = find_browser(browser)
    if binary is None:
        raise PermanentError("no Chromium found: install Debian's chromium package (make test does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=binary, args=list(BROWSER_ARGS))
        try:
            yield chromium.new_page(viewport={"width": width, "height": 900})
        finally:
            chromium.close()


def write_screenshots(pages: list[Page], out: Path, browser: str | None = None) -> list[Path]:
    """A full-page PNG of every page at every width of WIDTHS, named TEMPLATE.LANG.WIDTH.png."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for width in WIDTHS:
        with browser_page(width, browser) as tab:
            for p in pages:
                tab.set_content(p.html)
                target = out / f"{p.name}.{width}.png"
                tab.screenshot(path=str(target), full_page=True)
                written.append(target)
    return written
