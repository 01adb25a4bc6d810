"""HTML to plain text with selectolax, keeping link targets and marking quoted blocks.

Link targets are kept because numbers inside an href count (corpus policy). Text inside
<blockquote> and Gmail/Outlook quote containers is prefixed with "> " so the quote splitter sees it
as history, exactly like a plain-text quote. White space is read as a browser shows it: a run of
blanks and line breaks in the source is one space (a sentence the writer's editor wrapped is one
line, as a reader sees it), outside <pre>, whose lines stay; blocks and <br> break lines, and a
table cell ends with a tab.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

_BLOCKS = "p, div, br, tr, li, dt, dd, h1, h2, h3, h4, h5, h6, table, blockquote, hr"
_QUOTES = "blockquote, div.gmail_quote, div#appendonsend, div#divRplyFwdMsg"
# A block's edge and a cell's end, marked apart from the source's own white space until it folds
# (characters of Unicode's private use area, which no mail's text means as breaks)
_BREAK, _CELL = "\ue000", "\ue001"
_WHITE = re.compile(r"[ \t\n\r\f]+")  # HTML's white space (not the no-break space): a run shows as one space
_MARK_EDGES = re.compile(f" ?([{_BREAK}{_CELL}]) ?")
_BLANK_RUNS = re.compile(r"\n[ \t\xa0]*(?:\n[ \t\xa0]*)+")
# An HTML part is read up to this many characters: a person's mail, even a long newsletter, is far
# shorter, and past them a hostile part would cost about half a second a megabyte
MAX_HTML_CHARS = 2_000_000
# ... and up to this many tags: a long newsletter holds a few thousand, and the parser's cost grows
# with the square of the blocks a hostile part nests (64,000 nested <div>s, 1.7 MB: 12 s)
MAX_HTML_TAGS = 20_000
_TAG = re.compile(r"<[a-zA-Z]")


def html_to_text(html: str) -> str:
    """Return readable text of `html` (its first `MAX_HTML_CHARS` characters); every href is
    appended after its link text as <url>."""
    tree = LexborHTMLParser(_capped(html))
    for node in tree.css("script, style, head, title"):
        node.decompose()
    for node in tree.css("a[href]"):
        href = (node.attributes.get("href") or "").strip()
        if href and not href.startswith(("mailto:", "#")) and href not in (node.text() or ""):
            node.insert_after(f" <{href}> ")
    for node in _outer_quotes(tree):
        quoted = _plain(node)
        lines = _BREAK.join("> " + line for line in quoted.splitlines()).replace("\t", _CELL)
        node.replace_with(f"{_BREAK}{lines}{_BREAK}")  # marks again: the whole text's white space folds next
    root = tree.body or tree.root
    if root is None:
        return ""
    return _plain(root)


def _capped(html: str) -> str:
    """The start of `html` that the parser reads: `MAX_HTML_CHARS` characters, cut before the
    tag past `MAX_HTML_TAGS`."""
    html = html[:MAX_HTML_CHARS]
    for count, tag in enumerate(_TAG.finditer(html), 1):
        if count > MAX_HTML_TAGS:
            return html[: tag.start()]
    return html


def _outer_quotes(tree: LexborHTMLParser) -> list[LexborNode]:
    """The quote containers (`_QUOTES`) inside no other, in document order (an inner one is marked
    with its outer one). Every node's answer is kept, so each is asked once however deep a
    hostile part nests its quotes."""
    quotes = tree.css(_QUOTES)
    ids = {q.mem_id for q in quotes}
    under: dict[int, bool] = {}  # a node's id: whether it or one of its ancestors is a quote
    outer = []
    for quote in quotes:
        path, node, inside = [], quote.parent, False
        while node is not None:
            if node.mem_id in under:
                inside = under[node.mem_id]
                break
            path.append(node.mem_id)
            if node.mem_id in ids:
                inside = True
                break
            node = node.parent
        under.update(dict.fromkeys(path, inside))
        if not inside:
            outer.append(quote)
    return outer


def _plain(node: object) -> str:
    for pre in node.css("pre"):  # type: ignore[attr-defined]
        lines = (pre.text(separator="", deep=True) or "").replace("\r", "").replace("\n", _BREAK)
        pre.replace_with(f"{_BREAK}{lines}{_BREAK}")
    for block in node.css(_BLOCKS):  # type: ignore[attr-defined]
        block.insert_before(_BREAK)
        block.insert_after(_BREAK)
    for cell in node.css("td, th"):  # type: ignore[attr-defined]
        cell.insert_after(_CELL)
    text: str = node.text(separator="", deep=True)  # type: ignore[attr-defined]
    text = _MARK_EDGES.sub(r"\1", _WHITE.sub(" ", text)).replace(_BREAK, "\n").replace(_CELL, "\t")
    return _BLANK_RUNS.sub("\n\n", text).strip()
