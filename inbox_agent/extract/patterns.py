"""Case-insensitive patterns, compiled for speed.

`re.IGNORECASE` makes Python's matcher several times slower. A pattern that names no upper-case
character (class escapes such as \\S or \\W are fine) means the same thing run case-sensitively
on lower-cased text, so such patterns are compiled without the flag and searched in `lower(text)`.
Lower-casing keeps positions when it keeps the length (nearly always); otherwise the flag is used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from inbox_agent.extract.prefilter import PatternFilter, names_no_upper_case


@dataclass(frozen=True)
class Caseless:
    pattern: re.Pattern[str]
    lowered: bool

    def finditer(self, text: str, lower: str) -> list[re.Match[str]]:
        """Matches in `text`; `lower` is `text.lower()`, computed once by the caller."""
        if self.lowered and len(lower) == len(text):
            return list(self.pattern.finditer(lower))
        return list(self.fallback().finditer(text))

    def search(self, text: str, lower: str) -> re.Match[str] | None:
        if self.lowered and len(lower) == len(text):
            return self.pattern.search(lower)
        return self.fallback().search(text)

    def fallback(self) -> re.Pattern[str]:
        return re.compile(self.pattern.pattern, re.IGNORECASE) if self.lowered else self.pattern


def caseless(pattern: str, flags: int = 0) -> Caseless:
    """Compile `pattern` to match regardless of case (see the module docstring)."""
    lowered = names_no_upper_case(pattern)
    return Caseless(re.compile(pattern, flags if lowered else flags | re.IGNORECASE), lowered)


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
