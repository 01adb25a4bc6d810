"""The language reader's cleaned start decides the same sample as cleaning the whole start."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from inbox_agent.extract.language import _SAMPLE_CHARS, _URLS, _cleaned

_PIECES = ["a", "ab ", "Colis ", "AB", "ABCDEFGHIJ", " ", "\n", "x@y.example ", "https://a.example/c?d=1 ", "12345678",
           "é", "\u00a0", ". ", "word ", "\u2028", "1 "]


def _sample(cleaned: str) -> str | None:
    if not re.search(r"[^\W\d_]{2,}", cleaned):
        return None
    return cleaned if len(cleaned) <= _SAMPLE_CHARS else cleaned[:_SAMPLE_CHARS].rsplit(" ", 1)[0]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=220).map("".join))
def test_the_sample_is_that_of_the_whole_start(text: str) -> None:
    whole = " ".join(_URLS.sub(" ", text[: 4 * _SAMPLE_CHARS]).split())
    assert _sample(_cleaned(text)) == _sample(whole)
    assert whole.startswith(_cleaned(text))
