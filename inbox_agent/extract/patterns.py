"""Case-insensitive patterns, compiled for speed.

`re.IGNORECASE` makes Python's matcher several times slower. A pattern with no upper-case
letters and no upper-case escapes (\\S, \\W, ...) means the same thing run case-sensitively on
lower-cased text, so such patterns are compiled without the flag and searched in `lower(text)`.
Lower-casing keeps positions when it keeps the length (nearly always); otherwise the flag is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


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
    lowered = pattern == pattern.lower()
    return Caseless(re.compile(pattern, flags if lowered else flags | re.IGNORECASE), lowered)
