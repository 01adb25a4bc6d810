"""HTML to plain text with selectolax, keeping link targets and marking quoted blocks.

Link targets are kept because numbers inside an href count (corpus policy). Text inside
<blockquote> and Gmail/Outlook quote containers is prefixed with "> " so the quote splitter sees it
as history, exactly like a plain-text quote.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

_BLOCKS = "p, div, br, tr, li, dt, dd, h1, h2, h3, h4, h5, h6, table, blockquote, hr"
_QUOTES = "blockquote, div.gmail_quote, div#appendonsend, div#divRplyFwdMsg"
_BLANK_RUNS = re.compile(r"\n[ \t\xa0]*(?:\n[ \t\xa0]*)+")
# An HTML part is read up to this many characters: a person's mail, even a long newsletter, is far
# shorter, and past them a hostile part would cost about half a second a megabyte
MAX_HTML_CHARS = 2_000_000


def html_to_text(html: str) -> str:
    """Return readable text of `html` (its first `MAX_HTML_CHARS` characters); every href is
    appended after its link text as <url>."""
    tree = LexborHTMLParser(html[:MAX_HTML_CHARS])
    for node in tree.css("script, style, head, title"):
        node.decompose()
    for node in tree.css("a[href]"):
        href = (node.attributes.get("href") or "").strip()
        if href and not href.startswith(("mailto:", "#")) and href not in (node.text() or ""):
            node.insert_after(f" <{href}> ")
    for node in tree.css(_QUOTES):
        if node.parent is not None and node.parent.css_matches(_QUOTES):
            continue
        quoted = _plain(node)
        lines = "\n".join("> " + line for line in quoted.splitlines())
        node.replace_with(f"\n{lines}\n")
    root = tree.body or tree.root
    if root is None:
        return ""
    return _plain(root)


def _plain(node: object) -> str:
    for block in node.css(_BLOCKS):  # type: ignore[attr-defined]
        block.insert_before("\n")
        block.insert_after("\n")
    for cell in node.css("td, th"):  # type: ignore[attr-defined]
        cell.insert_after("\t")
    text: str = node.text(separator="", deep=True)  # type: ignore[attr-defined]
    return _BLANK_RUNS.sub("\n\n", text.replace("\r", "")).strip()
