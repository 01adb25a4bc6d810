"""Which of many patterns can match a text, found in one pass with RE2's pattern set.

Searching a text with a hundred Python patterns costs a hundred scans. RE2's `Set` runs a
couple of dozen at once (one lazily built DFA, linear in the text), so the rules engines ask a few sets
first and then run Python's `re` only on the few patterns they name, for the match itself.

Invariant: the filter never misses. Each pattern is rewritten into an RE2 pattern that matches
at least what the Python one matches: Unicode classes are spelled as Unicode properties, and
what RE2 lacks or spells differently (look-arounds, word boundaries, anchors, back-references)
is widened (dropped, or turned into "any text"). A filter for lower-cased text (the default)
keeps IGNORECASE patterns case-insensitive (their letters match their lower-case forms) and
always runs a case-sensitive one that names an upper-case letter. A pattern that cannot be
rewritten, or a set RE2 cannot build, means "always run": slower, still right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import re2

_TOKEN = re.compile(r"\\.|.", re.DOTALL)
# Patterns per RE2 set: one DFA over a hundred phrase patterns has so many states that it
# outgrows RE2's memory and rebuilds them for every text (a third of a millisecond a text). Sets
# of two dozen stay within it: over the 8,198 training texts read in turn, the lexicon's 122
# phrases cost a new text 11 us in sets of 24 against 14 us in sets of 12 (6 passes instead of
# 11; a text seen before, 7 us against 12), and ~20% more in the first thousands of texts, while
# their DFAs fill; sets of 40 cost more again, sets of 60 thrash.
_PATTERNS_PER_SET = 24
_ANY = r"(?s:.)"
_RANGE_KEPT = 2  # "{3,5}" is kept, "{0,30}" is opened
_EXACT_REPEAT_MAX = 24  # longer exact counts are lowered (still a wider filter)
_WORD = r"\p{L}\p{N}_"
_SPACE = r"\s\x{b}\x{1c}-\x{1f}\x{85}\p{Z}"
_IN_CLASS = {
    sre.CATEGORY_DIGIT: r"\p{Nd}",
    sre.CATEGORY_NOT_DIGIT: r"\P{Nd}",
    sre.CATEGORY_WORD: _WORD,
    sre.CATEGORY_SPACE: _SPACE,
}
_COMPLEMENT = {
    sre.CATEGORY_NOT_WORD: f"[{_WORD}]",
    sre.CATEGORY_NOT_SPACE: f"[{_SPACE}]",
}
_ALONE = {
    sre.CATEGORY_NOT_WORD: rf"[^{_WORD}]",
    sre.CATEGORY_NOT_SPACE: rf"[^{_SPACE}]",
}


class _Untranslatable(Exception):
    """A construct this module does not know; the pattern is then always run."""


class PatternFilter:
    """The indices of the patterns of a list that may match a text (a superset, never fewer)."""

    def __init__(self, patterns: Sequence[re.Pattern[str]], *, whole: bool = False, start: bool = False,
                 lowered: bool = True, per_set: int = _PATTERNS_PER_SET) -> None:
        """`whole`: a pattern must match the whole text (fullmatch), not somewhere in it.
        `start`: a pattern must match at the text's start, not necessarily to its end (so the
        patterns that may fullmatch some prefix of the text).
        `lowered`: texts given to `candidates` are lower-cased (see the module docstring).
        `per_set`: patterns per RE2 set (more for short texts, whose DFAs stay small)."""
        self._count = len(patterns)
        self._always: list[int] = []
        translated: list[tuple[int, str]] = []
        for index, pattern in enumerate(patterns):
            try:
                translated.append((index, _for_lowered_text(pattern) if lowered else _as_is(pattern)))
            except _Untranslatable:
                self._always.append(index)
        self._sets: list[tuple[Any, list[int]]] = []
        for first in range(0, len(translated), per_set):
            self._add_set(translated[first : first + per_set], whole, start)

    def _add_set(self, members: list[tuple[int, str]], whole: bool, start: bool) -> None:
        """One RE2 set over `members`. A pattern RE2 refuses is always run; so is every member
        when the set cannot be compiled."""
        options = re2.Options()
        options.log_errors = False
        if whole:
            built = re2.Set.FullMatchSet(options)
        else:
            built = re2.Set.MatchSet(options) if start else re2.Set.SearchSet(options)
        slots = []
        for index, pattern in members:
            try:
                built.Add(pattern)
            except re2.error:
                self._always.append(index)
                continue
            slots.append(index)
        try:
            built.Compile()
        except re2.error:
            self._always += slots
            return
        self._sets.append((built, slots))

    def may_match(self, text: str) -> bool:
        """Whether any of the patterns may match `text` (`candidates` is not empty)."""
        if self._always:
            return True
        try:
            encoded = text.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return any(built.Match(encoded) for built, _ in self._sets)

    def candidates(self, text: str) -> list[int]:
        """Indices, in ascending order, of the patterns that may match `text`."""
        try:
            encoded = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: RE2 reads UTF-8 only, so run everything
            return list(range(self._count))
        found = list(self._always)
        for built, slots in self._sets:
            found += [slots[i] for i in built.Match(encoded) or ()]
        return sorted(found)


class GuardedPattern:
    """One Python pattern that RE2 is asked about first: a text in which its RE2 filter finds no
    possible match is not searched by Python's `re` at all. The filter never misses, so the
    answers are always the pattern's own; only a text that may match pays for the Python search.
    Worth it for a large pattern (a long list of words) searched in many texts it rarely matches."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self._filter = PatternFilter([pattern], lowered=False)

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern.search(text) if self._filter.may_match(text) else None

    def finditer(self, text: str) -> list[re.Match[str]]:
        return list(self.pattern.finditer(text)) if self._filter.may_match(text) else []


def _as_is(pattern: re.Pattern[str]) -> str:
    translated = to_re2(pattern.pattern, pattern.flags)
    return f"(?i){translated}" if pattern.flags & re.IGNORECASE else translated


def _for_lowered_text(pattern: re.Pattern[str]) -> str:
    if pattern.flags & re.IGNORECASE:
        return _as_is(pattern)
    if not names_no_upper_case(pattern.pattern):
        raise _Untranslatable("case-sensitive pattern with upper-case letters")
    return to_re2(pattern.pattern, pattern.flags)


def names_no_upper_case(pattern: str) -> bool:
    """Whether `pattern` names no upper-case character, so it means the same on lower-cased text.

    Class escapes (\\S, \\W, \\D) and assertions (\\B, \\A, \\Z) are not letters; code-point
    escapes (\\x, \\u, \\U, \\N) might name an upper-case one, so they count as upper case.
    """
    for token in _TOKEN.findall(pattern):
        if token[0] == "\\":
            if token[1] in "xuUN":
                return False
        elif token != token.lower():
            return False
    return True


def to_re2(pattern: str, flags: int = 0) -> str:
    """An RE2 pattern matching at least what the Python `pattern` matches (see module docstring)."""
    return _sequence(sre_parse.parse(pattern, flags))


def _sequence(items: Any) -> str:
    return "".join(_item(op, av) for op, av in items)


def _item(op: Any, av: Any) -> str:
    if op is sre.LITERAL:
        return _char(av)
    if op is sre.NOT_LITERAL:
        return f"[^{_char(av)}]"
    if op is sre.ANY:
        return _ANY
    if op is sre.IN:
        return _charset(av)
    if op is sre.BRANCH:
        return "(?:" + "|".join(_sequence(branch) for branch in av[1]) + ")"
    if op is sre.SUBPATTERN:
        _, add, remove, body = av
        # "(?-i:...)" stays case-insensitive: the set may read lower-cased text, and wider is safe
        case = "i" if (add | remove) & re.IGNORECASE else ""
        return f"(?{case}:{_sequence(body)})"
    if op is sre.ATOMIC_GROUP:
        return f"(?:{_sequence(av)})"
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        return _repeat(*av)
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return ""
    if op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
        return f"{_ANY}*"
    raise _Untranslatable(str(op))


def _repeat(low: int, high: Any, body: Any) -> str:
    """A repeat; a wide range ("{0,30}") becomes open-ended: counting would multiply the states
    of the set's DFA, and an open end only widens the filter."""
    inner = f"(?:{_sequence(body)})"
    low = min(low, _EXACT_REPEAT_MAX)
    if high is sre.MAXREPEAT or high - low > _RANGE_KEPT:
        return f"{inner}{{{low},}}" if low else f"{inner}*"
    return f"{inner}{{{low},{high}}}"


def _charset(items: Any) -> str:
    """A character class. Categories RE2 cannot combine widen it: in a plain class to any
    character; in a negated one, "not (\\S or ...)" to \\s ("not non-space" is at most space)."""
    if len(items) == 1 and items[0][0] is sre.CATEGORY and items[0][1] in _ALONE:
        return _ALONE[items[0][1]]
    negate = bool(items) and items[0][0] is sre.NEGATE
    parts = []
    for op, av in items[1:] if negate else items:
        if op is sre.LITERAL:
            parts.append(_char(av))
        elif op is sre.RANGE:
            parts.append(f"{_char(av[0])}-{_char(av[1])}")
        elif op is sre.CATEGORY and av in _IN_CLASS:
            parts.append(_IN_CLASS[av])
        elif negate and op is sre.CATEGORY and av in _COMPLEMENT:
            return _COMPLEMENT[av]
        elif negate:
            raise _Untranslatable(f"negated class with {av}")
        else:
            return _ANY
    return f"[{'^' if negate else ''}{''.join(parts)}]"


def _char(code: int) -> str:
    return f"\\x{{{code:x}}}"
