"""The quick test of whether the reply library has anything to cut answers as the one regex it
replaces, and blanks are removed as the regex `\\s` removes them."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from inbox_agent.extract.formats import _unblanked
from inbox_agent.parse.quotes import _history_hint

_HINT = re.compile(r"(?m)^[^\n]*(?:\d|@)[^\n]*:[^\S\n]*$|^[^\S\n]*-{2,}")
_PIECES = ["1", "@", ":", " ", "\n", "-", "--", "a", "On Mon", "wrote", "\t", "\u0663", "\u00a0", "\r", "\x0b"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=16).map("".join))
def test_history_hint_is_the_regex(text: str) -> None:
    assert _history_hint(text) == bool(_HINT.search(text))


def test_history_hint_examples() -> None:
    assert _history_hint("Hi\nOn Mon, 3 Mar 2025, Ann <a@b.example> wrote:\n> old")
    assert _history_hint("thanks\n-- \nAnn")
    assert not _history_hint("Where is it: please tell me\nOrder 2051 here")
    assert not _history_hint("Note: 2051")


@given(st.text(st.sampled_from(list(" \t\n\r\x0b\x0c\x1c\x85\u00a0\u2028\u3000\u200bab-")), max_size=20))
def test_unblanked_removes_what_the_regex_removes(text: str) -> None:
    assert _unblanked(text) == re.sub(r"\s", "", text)
