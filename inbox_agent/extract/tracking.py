"""Find parcel tracking numbers in free text, as people write them.

The text is cut into alphanumeric groups. Groups joined by a single space or dash may form one
number ("9400 1118 9922 3334 4455 61", "yt-2507-3055-1882-6043"); any other character (URL
punctuation, a line break) ends a run but each group still stands alone, so numbers inside URLs
are found. Every window of consecutive groups that starts and ends on a group boundary is
checked against the format book, longest first; a window is accepted only when a format
validates it (check digit included). Formats that are bare digit runs also need a tracking word
just before them (rules/tracking_context.yaml), so phones, orders and references stay out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from inbox_agent.extract.formats import FormatBook, Identified, load_format_book
from inbox_agent.rules import load_rules_file

_GROUP = re.compile(r"[A-Za-z0-9]+")
_JOINER = re.compile(r"[ \u00a0]{1,3}|[ \u00a0]?-[ \u00a0]?")
_MAX_GROUPS = 34
_MAX_LEN = 34
_MIN_LEN = 10
_CONTEXT_CHARS = 48


@dataclass(frozen=True)
class FoundNumber:
    number: str
    carrier: str
    format_id: str
    written: str


@dataclass(frozen=True)
class _Context:
    before: re.Pattern[str]
    not_before: re.Pattern[str]


@lru_cache(maxsize=1)
def _context() -> _Context:
    data = load_rules_file("tracking_context.yaml")
    return _Context(re.compile(data["before"], re.IGNORECASE), re.compile(data["not_before"], re.IGNORECASE))


def find_tracking_numbers(text: str, book: FormatBook | None = None) -> list[FoundNumber]:
    """Every valid tracking number in `text`, once each, in order of first appearance."""
    book = book or load_format_book()
    found: dict[str, FoundNumber] = {}
    for run in _runs(text):
        i = 0
        while i < len(run):
            hit = _longest_at(text, run, i, book)
            if hit is None:
                i += 1
                continue
            identified, j = hit
            written = text[run[i].start() : run[j].end()]
            found.setdefault(identified.number, FoundNumber(identified.number, identified.carrier,
                                                            identified.format.id, written))
            i = j + 1
    return list(found.values())


def _runs(text: str) -> list[list[re.Match[str]]]:
    runs: list[list[re.Match[str]]] = []
    current: list[re.Match[str]] = []
    last_end = -1
    for m in _GROUP.finditer(text):
        gap = text[last_end : m.start()] if last_end >= 0 else None
        if current and not _JOINER.fullmatch(gap or ""):
            runs.append(current)
            current = []
        current.append(m)
        last_end = m.end()
    if current:
        runs.append(current)
    return runs


def _worth_trying(first: str) -> bool:
    return len(first) <= 4 or any(c.isdigit() for c in first)


def _longest_at(
    text: str, run: list[re.Match[str]], i: int, book: FormatBook
) -> tuple[Identified, int] | None:
    first = run[i].group(0)
    if not _worth_trying(first):
        return None
    end = min(len(run), i + _MAX_GROUPS)
    pieces = [run[k].group(0) for k in range(i, end)]
    lengths = [0]
    for piece in pieces:
        lengths.append(lengths[-1] + len(piece))
    for j in range(end - 1, i - 1, -1):
        if lengths[j - i + 1] > _MAX_LEN:
            continue
        compact = "".join(pieces[: j - i + 1])
        if not _MIN_LEN <= len(compact) <= _MAX_LEN or sum(c.isdigit() for c in compact) < 4:
            continue
        candidate = re.sub(r"\s", "", text[run[i].start() : run[j].end()]).upper()
        before = text[max(0, run[i].start() - _CONTEXT_CHARS) : run[i].start()]
        identified = book.identify(candidate, hint=before)
        if identified is None:
            continue
        if not identified.format.strong and not _has_tracking_context(before):
            continue
        return identified, j
    return None


def _has_tracking_context(before: str) -> bool:
    ctx = _context()
    line = before.rsplit("\n", 1)[-1]
    last_good = max((m.end() for m in ctx.before.finditer(line)), default=-1)
    if last_good < 0:
        return False
    last_bad = max((m.end() for m in ctx.not_before.finditer(line)), default=-1)
    return last_good > last_bad
