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
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from operator import add

from inbox_agent.extract.formats import FormatBook, Identified, load_format_book
from inbox_agent.extract.prefilter import PatternFilter
from inbox_agent.rules import load_rules_file

_GROUP = re.compile(r"[A-Za-z0-9]+")
_JOINER = r"(?:[ \u00a0]{1,3}|[ \u00a0]?-[ \u00a0]?)"
_DIGIT = re.compile(r"[0-9]")
_JOINERS = re.compile(r"[^A-Za-z0-9]+")
_MAX_GROUPS = 34
_MAX_LEN = 34
_MIN_LEN = 10
_CONTEXT_CHARS = 48
_UNGATED_WINDOWS = 3  # a start with more windows than this first asks whether any can be a number there
_PREFIX_LETTERS = 4
_SUFFIX_LETTERS = 3
_INNER_LETTERS = 2  # LaserShip writes "1LS CX VE00 58631Y"
# A bare digit run without a check digit is not read across pieces that are all this long:
# "1007802 1007955" are two numbers side by side (orders, references), not one written in pieces
# ("5108 7693037816" is DHL eCommerce's own way of writing one).
_WEAK_PIECE = 6
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
    may_be_before: PatternFilter  # RE2's quick "no tracking word here" (the words are many, the texts short)


@lru_cache(maxsize=1)
def _context() -> _Context:
    data = load_rules_file("tracking_context.yaml")
    before = re.compile(data["before"], re.IGNORECASE)
    return _Context(before, re.compile(data["not_before"], re.IGNORECASE), PatternFilter([before], lowered=False))


def find_tracking_numbers(text: str, book: FormatBook | None = None) -> list[FoundNumber]:
    """Every valid tracking number in `text`, once each, in order of first appearance."""
    book = book or load_format_book()
    found: dict[str, FoundNumber] = {}
    reader = _Reader(text, book)
    for start, end in _runs(text):
        groups = _Groups(text, start, end)
        i = 0
        while i < len(groups.starts):
            hit = reader.longest_at(groups, i)
            if hit is None:
                i += 1
                continue
            identified, j = hit
            written = text[groups.starts[i] : groups.ends[j]]
            found.setdefault(identified.number, FoundNumber(identified.number, identified.carrier,
                                                            identified.format.id, written))
            i = j + 1
    return list(found.values())


def _runs(text: str) -> list[tuple[int, int]]:
    """Where the runs of groups joined by a space or dash that may hold a number are written: with
    enough characters and digits for one. Most of a text is prose, dates or prices: a first regex
    scan drops the runs too short or without digits, a second one cuts what is left at words."""
    runs = []
    for run in _RUN.finditer(text):
        if run.end() - run.start() >= _MIN_LEN and _may_hold_number(run.group(0)):
            for part in _NUMBER_LIKE.finditer(text, run.start(), run.end()):
                if _may_hold_number(part.group(0)):
                    runs.append(part.span())
    return runs


def _may_hold_number(written: str) -> bool:
    return len(written) >= _MIN_LEN and len(_DIGIT.findall(written)) >= 4


class _Groups:
    """The groups of one run, measured once: where each is written (`starts`, `ends`), the run as
    the format book reads it (`compact`: upper case, blanks removed, a joiner's dash kept) with
    where each group starts in it, and prefix sums of characters and digits, so that any window
    of groups costs a slice, whatever its size."""

    def __init__(self, text: str, start: int, end: int) -> None:
        written = text[start:end]  # groups and their joiners, a group at each end
        pieces = _GROUP.findall(written)
        joiners = _JOINERS.findall(written)
        sizes = list(map(len, pieces))
        self.starts = list(accumulate(map(add, sizes, map(len, joiners)), initial=start))
        self.ends = list(map(add, self.starts, sizes))
        self.compact = written.replace(" ", "").replace("\u00a0", "").upper()  # a joiner's blanks go, its dash stays
        self.compact_starts = list(accumulate(map(add, sizes, ["-" in j for j in joiners]), initial=0))
        digit_counts = [n if p.isdigit() else 0 if p.isalpha() else len(_DIGIT.findall(p))
                        for p, n in zip(pieces, sizes, strict=True)]
        self.letters = [0 if d else n for n, d in zip(sizes, digit_counts, strict=True)]  # 0: a group with a digit
        self.lengths = [0, *accumulate(sizes)]
        self.digits = [0, *accumulate(digit_counts)]

    def candidate(self, i: int, j: int) -> str:
        """Groups i..j as the format book reads them."""
        return self.compact[self.compact_starts[i] : self.compact_starts[j] + self.lengths[j + 1] - self.lengths[j]]


class _Reader:
    """Answers kept while reading one text: the formats accepting a candidate (a thread quotes the
    same numbers again and again), whether a strong format may begin a stretch, whether a tracking
    word stands before a position, and the stretches known to hold no number of any format (a
    hostile "1 1 1 ..." repeats one stretch thousands of times)."""

    def __init__(self, text: str, book: FormatBook) -> None:
        self.text = text
        self.book = book
        self._known: dict[str, list[Identified]] = {}
        self._barren: set[str] = set()
        self._strong: dict[str, bool] = {}
        self._context: dict[str, bool] = {}

    def formats(self, candidate: str) -> list[Identified]:
        if candidate not in self._known:
            self._known[candidate] = self.book.candidates(candidate)
        return self._known[candidate]

    def context(self, before: str) -> bool:
        if before not in self._context:
            self._context[before] = _has_tracking_context(before)
        return self._context[before]

    def longest_at(self, groups: _Groups, i: int) -> tuple[Identified, int] | None:
        """The longest window of groups starting at group i that is a valid number, and its last
        group. Windows are tried longest first; a start is skipped at once when its longest
        stretch is known to hold no number, or, when it has many windows, when no strong format can
        begin there and no tracking word stands before it (only a strong format is accepted
        without one)."""
        letters, lengths, digits, starts = groups.letters, groups.lengths, groups.digits, groups.starts
        if letters[i] > _PREFIX_LETTERS:
            return None
        end = min(len(starts), i + _MAX_GROUPS)
        while end > i and lengths[end] - lengths[i] > _MAX_LEN:
            end -= 1
        if digits[end] - digits[i] < 4:
            return None
        windows = end - bisect_left(lengths, lengths[i] + _MIN_LEN, i + 1, end + 1) + 1  # long enough ones
        if windows <= 0:
            return None
        stretch = self.text[starts[i] : groups.ends[end - 1]]
        if stretch in self._barren:
            return None
        before = self.text[max(0, starts[i] - _CONTEXT_CHARS) : starts[i]]
        context: bool | None = None  # a tracking word just before group i, asked once for all its windows
        if windows > _UNGATED_WINDOWS:
            strong = self._strong.get(stretch)
            if strong is None:
                strong = self._strong[stretch] = self.book.strong_may_start(groups.candidate(i, end - 1))
            if not strong:
                context = self.context(before)
                if not context:
                    return None
        inner = [0, 0]  # inner[j - i]: the longest group of letters only strictly between i and j
        for k in range(i + 1, end - 1):
            inner.append(max(inner[-1], letters[k]))
        shortest = list(accumulate((lengths[k + 1] - lengths[k] for k in range(i, end)), min))  # [j - i]: of i..j
        any_format = False
        loose: tuple[Identified, int] | None = None  # a window only a format without check digit accepts
        for j in range(end - 1, i - 1, -1):
            size = lengths[j + 1] - lengths[i]
            if size < _MIN_LEN:
                break
            if digits[j + 1] - digits[i] < 4 or not _plausible_split(letters, inner[j - i], i, j):
                continue
            found = self.formats(groups.candidate(i, j))
            if not found:
                continue
            any_format = True
            after = self.text[groups.ends[j] : groups.ends[j] + _CONTEXT_CHARS]
            identified = self.book.choose(found, f"{before} {after}")
            if not identified.format.strong:
                if identified.format.checksum is None and j > i and shortest[j - i] >= _WEAK_PIECE:
                    continue
                context = self.context(before) if context is None else context
                if not context:
                    continue
            if loose is None and identified.format.checksum is None:
                loose = identified, j  # a shorter window whose check digit holds is the number
                continue
            if loose is not None and identified.format.checksum is None:
                continue
            return identified, j
        if not any_format:
            self._barren.add(stretch)
        return loose


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
    if not ctx.may_be_before.may_match(line):
        return False
    last_good = max((m.end() for m in ctx.before.finditer(line)), default=-1)
    if last_good < 0:
        return False
    last_bad = max((m.end() for m in ctx.not_before.finditer(line)), default=-1)
    return last_good > last_bad
