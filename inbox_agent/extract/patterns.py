"""Case-insensitive patterns, compiled for speed.

`re.IGNORECASE` makes Python's matcher several times slower. A pattern that names no upper-case
character (class escapes such as \\S or \\W are fine) means the same thing run case-sensitively
on lower-cased text, so such patterns are compiled without the flag and searched in `lower(text)`.
Lower-casing keeps positions when it keeps the length (nearly always); otherwise the flag is used.

A pattern whose every match begins with one of several literal words ("order", "commande", ...)
is not tried at every position of a text: `str.find` lists where those words occur (a scan in C
per word), and the pattern is matched there only. The matches are exactly those of `finditer`:
every match starts at such a place, and the places are tried in order from the end of the last.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from inbox_agent.extract.prefilter import PatternFilter, names_no_upper_case

_START_WORD = 3  # the shortest start word worth finding with str.find


@dataclass(frozen=True)
class Caseless:
    pattern: re.Pattern[str]
    lowered: bool
    starts: tuple[str, ...] | None = None  # literal words one of which begins every match (lowered only)

    def finditer(self, text: str, lower: str) -> list[re.Match[str]]:
        """Matches in `text`; `lower` is `text.lower()`, computed once by the caller."""
        if self.lowered and len(lower) == len(text):
            if self.starts is None:
                return list(self.pattern.finditer(lower))
            return self._at_starts(lower, first=False)
        return list(self.fallback().finditer(text))

    def search(self, text: str, lower: str) -> re.Match[str] | None:
        if self.lowered and len(lower) == len(text):
            if self.starts is None:
                return self.pattern.search(lower)
            found = self._at_starts(lower, first=True)
            return found[0] if found else None
        return self.fallback().search(text)

    def _at_starts(self, lower: str, first: bool) -> list[re.Match[str]]:
        """The matches `finditer` gives, trying the pattern only where a start word occurs."""
        places: set[int] = set()
        for word in self.starts or ():
            at = lower.find(word)
            while at >= 0:
                places.add(at)
                at = lower.find(word, at + 1)
        found: list[re.Match[str]] = []
        end = 0
        for place in sorted(places):
            if place < end:
                continue
            m = self.pattern.match(lower, place)
            if m is not None:
                found.append(m)
                if first:
                    break
                end = m.end()
        return found

    def fallback(self) -> re.Pattern[str]:
        return re.compile(self.pattern.pattern, re.IGNORECASE) if self.lowered else self.pattern


def caseless(pattern: str, flags: int = 0) -> Caseless:
    """Compile `pattern` to match regardless of case (see the module docstring)."""
    lowered = names_no_upper_case(pattern)
    compiled = re.compile(pattern, flags if lowered else flags | re.IGNORECASE)
    return Caseless(compiled, lowered, literal_starts(compiled) if lowered else None)


def literal_starts(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Literal words one of which every match of `pattern` begins with (the shortest that cover
    them), or None when a match may begin otherwise. Only for a case-sensitive pattern."""
    if pattern.flags & re.IGNORECASE:
        return None
    starts = _starts(list(sre_parse.parse(pattern.pattern, pattern.flags)))
    if not starts:
        return None
    kept: list[str] = []
    for word in sorted(set(starts), key=lambda w: (len(w), w)):
        if not any(word.startswith(k) for k in kept):
            kept.append(word)
    if len(kept) < 2 or min(map(len, kept)) < _START_WORD:
        return None  # Python's `re` finds one literal beginning fast itself; short words are everywhere
    return tuple(kept)


def _starts(items: list[Any]) -> list[str] | None:
    """The literal beginnings of a parsed pattern's matches (zero-width assertions before them
    move no start), or None."""
    i = 0
    while i < len(items) and items[i][0] in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        i += 1
    if i == len(items):
        return None
    op, av = items[i]
    if op is sre.LITERAL:
        word = ""
        while i < len(items) and items[i][0] is sre.LITERAL:
            word += chr(items[i][1])
            i += 1
        return [word]
    if op is sre.BRANCH:
        words: list[str] = []
        for branch in av[1]:
            found = _starts(list(branch))
            if found is None:
                return None
            words += found
        return words
    if op is sre.SUBPATTERN and not av[1] and not av[2]:  # a group that sets no flag
        return _starts(list(av[3]))
    return None


class CaselessSet:
    """Caseless patterns searched together: RE2 names the few that can match a text in one pass
    (see prefilter.py), and only those are run. Results are exactly those of running them all."""

    def __init__(self, members: Sequence[Caseless]) -> None:
        self.members = tuple(members)
        self._filter = PatternFilter([m.pattern for m in self.members])

    def candidates(self, text: str, lower: str) -> list[int]:
        """Indices, ascending, of the members worth running on `text` (`lower` is its lower case)."""
        if len(lower) != len(text):
            return list(range(len(self.members)))
        return self._filter.candidates(lower)

    def searches(self, text: str, lower: str) -> list[tuple[int, re.Match[str]]]:
        """(index, first match) of every member that matches, in member order."""
        return self.searches_each([text])[0]

    def searches_each(self, texts: Sequence[str]) -> list[list[tuple[int, re.Match[str]]]]:
        """`searches` for several texts, with one pass of the filter over all of them (what can
        match in one of them can match in them joined)."""
        lowers = [t.lower() for t in texts]
        joined = "\n".join(texts)
        possible = self.candidates(joined, "\n".join(lowers))
        found: list[list[tuple[int, re.Match[str]]]] = []
        for text, lower in zip(texts, lowers, strict=True):
            matches = ((index, self.members[index].search(text, lower)) for index in possible)
            found.append([(index, m) for index, m in matches if m])
        return found
