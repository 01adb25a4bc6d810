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
_JOINER = r"(?:[ \u00a0]{1,3}|[ \u00a0]?-[ \u00a0]?)"
_DIGIT = re.compile(r"[0-9]")
_BLANKS = re.compile(r"\s")
_MAX_GROUPS = 34
_MAX_LEN = 34
_MIN_LEN = 10
_CONTEXT_CHARS = 48
_PREFIX_LETTERS = 4
_SUFFIX_LETTERS = 3
_INNER_LETTERS = 2  # LaserShip writes "1LS CX VE00 58631Y"
# A piece of a number holds a digit or is a short prefix/suffix: a word (letters only, longer
# than any prefix) never is, so runs stop at words ("CN4471 est indiqué" is no number).
_PIECE = rf"(?:[A-Za-z0-9]*[0-9][A-Za-z0-9]*|[A-Za-z]{{1,{_PREFIX_LETTERS}}}(?![A-Za-z0-9]))"
_RUN = re.compile(rf"[A-Za-z0-9]+(?:{_JOINER}[A-Za-z0-9]+)*")
_NUMBER_LIKE = re.compile(rf"(?<![A-Za-z0-9]){_PIECE}(?:{_JOINER}{_PIECE})*")


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
    formats = _FormatsOf(book)
    for run in _runs(text):
        lengths, digits = _prefix_sums(run)
        letters = [0 if any(c.isdigit() for c in m.group(0)) else len(m.group(0)) for m in run]
        i = 0
        while i < len(run):
            hit = _longest_at(text, run, i, formats, lengths, digits, letters)
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
    """Runs of groups joined by a space or dash that may hold a number, with enough characters
    and digits for one. Most of a text is prose, dates or prices: a first regex scan drops the
    runs too short or without digits, a second one cuts what is left at words."""
    runs = []
    for run in _RUN.finditer(text):
        if run.end() - run.start() >= _MIN_LEN and _may_hold_number(run.group(0)):
            for part in _NUMBER_LIKE.finditer(text, run.start(), run.end()):
                if _may_hold_number(part.group(0)):
                    runs.append(list(_GROUP.finditer(text, part.start(), part.end())))
    return runs


def _may_hold_number(written: str) -> bool:
    return len(written) >= _MIN_LEN and len(_DIGIT.findall(written)) >= 4


def _prefix_sums(run: list[re.Match[str]]) -> tuple[list[int], list[int]]:
    """Characters and digits in groups [0, k) of a run, for every k: window sizes in O(1)."""
    lengths, digits = [0], [0]
    for m in run:
        piece = m.group(0)
        lengths.append(lengths[-1] + len(piece))
        count = len(piece) if piece.isdigit() else 0 if piece.isalpha() else len(_DIGIT.findall(piece))
        digits.append(digits[-1] + count)
    return lengths, digits


def _worth_trying(first: str) -> bool:
    return len(first) <= 4 or any(c.isdigit() for c in first)


class _FormatsOf:
    """The formats accepting a candidate, asked once per candidate string within one text (a
    thread quotes the same numbers again and again)."""

    def __init__(self, book: FormatBook) -> None:
        self.book = book
        self._known: dict[str, list[Identified]] = {}

    def __call__(self, candidate: str) -> list[Identified]:
        if candidate not in self._known:
            self._known[candidate] = self.book.candidates(candidate)
        return self._known[candidate]


def _longest_at(text: str, run: list[re.Match[str]], i: int, formats: _FormatsOf,
                lengths: list[int], digits: list[int], letters: list[int]) -> tuple[Identified, int] | None:
    """The longest window of groups starting at group i that is a valid number, and its last group
    (`letters`: the length of each group made of letters only, 0 for one with a digit)."""
    if not _worth_trying(run[i].group(0)):
        return None
    end = min(len(run), i + _MAX_GROUPS)
    while end > i and lengths[end] - lengths[i] > _MAX_LEN:
        end -= 1
    if digits[end] - digits[i] < 4:
        return None
    inner = [0, 0]  # inner[j - i]: the longest group of letters only strictly between i and j
    for k in range(i + 1, end - 1):
        inner.append(max(inner[-1], letters[k]))
    before = text[max(0, run[i].start() - _CONTEXT_CHARS) : run[i].start()]
    context: bool | None = None  # a tracking word just before group i, asked once for all its windows
    for j in range(end - 1, i - 1, -1):
        size = lengths[j + 1] - lengths[i]
        if size < _MIN_LEN:
            break
        if digits[j + 1] - digits[i] < 4 or not _plausible_split(letters, inner[j - i], i, j):
            continue
        found = formats(_BLANKS.sub("", text[run[i].start() : run[j].end()]).upper())
        if not found:
            continue
        after = text[run[j].end() : run[j].end() + _CONTEXT_CHARS]
        identified = formats.book.choose(found, f"{before} {after}")
        if not identified.format.strong:
            context = _has_tracking_context(before) if context is None else context
            if not context:
                continue
        return identified, j
    return None


def _plausible_split(letters: list[int], inner: int, i: int, j: int) -> bool:
    """Whether groups i..j can be one number written in pieces: words are not pieces. A group of
    letters alone must be short: a prefix ("LP", "YT"), an S10 country ("CN") or a courier's
    inner code ("CX"); "CN4471 est indiqué" is a number followed by words. `inner` is the longest
    group of letters only between i and j, known beforehand so each window costs the same however
    long (a hostile "1 1 1 ..." made every window count its groups again)."""
    if j == i:
        return letters[i] <= _PREFIX_LETTERS
    return letters[i] <= _PREFIX_LETTERS and letters[j] <= _SUFFIX_LETTERS and inner <= _INNER_LETTERS


def _has_tracking_context(before: str) -> bool:
    ctx = _context()
    line = before.rsplit("\n", 1)[-1]
    last_good = max((m.end() for m in ctx.before.finditer(line)), default=-1)
    if last_good < 0:
        return False
    last_bad = max((m.end() for m in ctx.not_before.finditer(line)), default=-1)
    return last_good > last_bad
