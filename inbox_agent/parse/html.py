"""HTML to plain text with selectolax, keeping link targets and marking quoted blocks.

Link targets are kept because numbers inside an href count (corpus policy). Text inside
<blockquote> and Gmail/Outlook quote containers is prefixed with "> " so the quote splitter sees it
as history, exactly like a plain-text quote (not a blockquote without a border: Gmail's and Apple
Mail's "indent" button makes one around the writer's own words). White space is read as a browser
shows it: a run of blanks and line breaks in the source is one space (a sentence the writer's
editor wrapped is one line, as a reader sees it), except in <pre>, <textarea> and under a
`white-space: pre` style, whose line breaks stay; <br> breaks a line, a block starts and ends one,
and a table cell ends with a tab.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from selectolax.lexbor import LexborHTMLParser, LexborNode

_BLOCKS = "p, div, tr, li, dt, dd, h1, h2, h3, h4, h5, h6, table, blockquote, hr, pre, textarea"
_QUOTES = "blockquote, div.gmail_quote, div#appendonsend, div#divRplyFwdMsg"
_LINED = "pre, textarea, [style*=white-space]"  # where the source's line breaks may show
_SHOWS_LINES = re.compile(r"white-space\s*:\s*(?:pre|break-spaces)", re.IGNORECASE)
_NO_BORDER = re.compile(r"border\s*:\s*(?:none|0)\b", re.IGNORECASE)  # an indent, not a quote
# A line break and a cell's end, marked apart from the source's own white space until it folds
# (characters of Unicode's private use area, which no mail's text means as breaks)
_BREAK, _CELL = "\ue000", "\ue001"
_WHITE = re.compile(r"[ \t\n\r\f]+")  # HTML's white space (not the no-break space): a run shows as one space
_MARK_EDGES = re.compile(f" ?([{_BREAK}{_CELL}]) ?")
_BLANK_RUNS = re.compile(r"\n[ \t\xa0]*(?:\n[ \t\xa0]*)+")
# An HTML part is read up to this many characters: a person's mail, even a long newsletter, is far
# shorter, and past them a hostile part would cost about half a second a megabyte
MAX_HTML_CHARS = 2_000_000
# ... and up to this many block tags: a long newsletter holds a few thousand, and the parser's cost
# grows with the square of the blocks a hostile part nests (64,000 nested <div>s, 1.7 MB: 12 s)
MAX_HTML_BLOCKS = 20_000
_BLOCK_TAG = re.compile(r"<(?:div|blockquote|p|li|ul|ol|dl|dd|dt|table|tbody|thead|tfoot|tr|td|th|section|article|"
                        r"aside|header|footer|nav|main|center|form|fieldset|address|figure|pre|h[1-6])\b",
                        re.IGNORECASE)


def html_to_text(html: str) -> str:
    """Return readable text of `html` (its first `MAX_HTML_CHARS` characters and
    `MAX_HTML_BLOCKS` block tags); every href is appended after its link text as <url>."""
    tree = LexborHTMLParser(_capped(html))
    for node in tree.css("script, style, head, title"):
        node.decompose()
    for node in tree.css("a[href]"):
        href = (node.attributes.get("href") or "").strip()
        if href and not href.startswith(("mailto:", "#")) and href not in (node.text() or ""):
            node.insert_after(f" <{href}> ")
    root = tree.body or tree.root
    if root is None:
        return ""
    _mark_lines(root)
    for node in _outermost(tree.css(_QUOTES), _is_quote):
        quoted = _plain(node)
        lines = _BREAK.join("> " + line for line in quoted.splitlines()).replace("\t", _CELL)
        node.replace_with(f"{_BREAK}{lines}{_BREAK}")  # marks again: the whole text's white space folds next
    return _plain(root)


def _capped(html: str) -> str:
    """The start of `html` that the parser reads: `MAX_HTML_CHARS` characters, cut before the
    block tag past `MAX_HTML_BLOCKS`."""
    html = html[:MAX_HTML_CHARS]
    for count, tag in enumerate(_BLOCK_TAG.finditer(html), 1):
        if count > MAX_HTML_BLOCKS:
            return html[: tag.start()]
    return html


def _is_quote(node: LexborNode) -> bool:
    """A quote container: not a blockquote drawn without a border (an indent)."""
    return node.tag != "blockquote" or not _NO_BORDER.search(node.attributes.get("style") or "")


def _shows_lines(node: LexborNode) -> bool:
    """Whether a browser shows the line breaks of the text inside `node`."""
    return node.tag in ("pre", "textarea") or bool(_SHOWS_LINES.search(node.attributes.get("style") or ""))


def _outermost(nodes: list[LexborNode], keep: Callable[[LexborNode], bool]) -> list[LexborNode]:
    """The `nodes` that `keep` takes and none of whose ancestors it takes, in document order.
    Every node's answer is kept, so each is asked once however deep a hostile part nests them."""
    kept = [n for n in nodes if keep(n)]
    ids = {n.mem_id for n in kept}
    under: dict[int, bool] = {}  # a node's id: whether it or one of its ancestors is kept
    outer = []
    for candidate in kept:
        path, node, inside = [], candidate.parent, False
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
            outer.append(candidate)
    return outer


def _mark_lines(root: LexborNode) -> None:
    """Mark the breaks a browser shows: each <br>, and the source's line breaks where they show."""
    for br in root.css("br"):
        br.insert_after(_BREAK)
    for lined in _outermost(root.css(_LINED), _shows_lines):
        texts = [n for n in lined.traverse(include_text=True) if n.tag == "-text"]  # then changed: not while walking
        for node in texts:
            text = node.text_content or ""
            if "\n" in text:
                node.replace_with(text.replace("\r", "").replace("\n", _BREAK))


def _plain(node: LexborNode) -> str:
    for block in node.css(_BLOCKS):
        block.insert_before(_BREAK)
        block.insert_after(_BREAK)
    for cell in node.css("td, th"):
        cell.insert_after(_CELL)
    text: str = node.text(separator="", deep=True)
    text = _MARK_EDGES.sub(r"\1", _WHITE.sub(" ", text)).replace(_BREAK, "\n").replace(_CELL, "\t")
    return _BLANK_RUNS.sub("\n\n", text).strip()
