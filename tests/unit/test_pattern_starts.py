"""A pattern whose matches all begin with one of several words is tried only where they occur,
with exactly the matches of `finditer`."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox_agent.extract import _cold_rules
from inbox_agent.extract.lexicon import load_lexicon
from inbox_agent.extract.orders import _rules as order_rules
from inbox_agent.extract.patterns import Caseless, caseless, literal_starts


@pytest.mark.parametrize(
    ("pattern", "starts"),
    [
        (r"(?:order\b|orders\b|commande)[^\S\n]*(\d+)", ("order", "commande")),
        (r"\b(?:my order|i bought)\b", ("i bought", "my order")),
        (r"(?<!\w)(your|votre)\s+ref", ("your", "votre")),
        (r"(?:order|\d+)x", None),  # a match may begin with a digit
        (r"(?:ab|cd)x", None),  # words this short are everywhere
        (r"#(\d+)", None),  # one literal beginning: Python's re finds it fast itself
        (r"(?i:order|commande)", None),  # a group that sets a flag
        (r"(?:order|)x", None),  # an empty branch begins with what follows
    ],
)
def test_literal_starts(pattern: str, starts: tuple[str, ...] | None) -> None:
    assert literal_starts(re.compile(pattern)) == starts


def _with_starts() -> list[Caseless]:
    members = [*order_rules().patterns.members, *(p.pattern for p in load_lexicon().phrases), _cold_rules().purchase]
    return [m for m in members if m.starts is not None]


WORDS = ["order", "orders", "Order", "my order", "commande", "bestellung", "your", "ref", "ordine", "no.", "#",
         "is", "3042", "20514", "n°", " ", "  ", "\n", ",", ":", "-", "/", "=", "i bought", "mein paket", "ordord"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=40).map("".join))
def test_matches_are_those_of_finditer(text: str) -> None:
    patterns = _with_starts()
    assert len(patterns) > 10
    lower = text.lower()
    for p in patterns:
        assert [m.span() for m in p.finditer(text, lower)] == [m.span() for m in p.pattern.finditer(lower)]
        first = p.search(text, lower)
        assert (first.span() if first else None) == next((m.span() for m in p.pattern.finditer(lower)), None)


def test_a_text_whose_lower_case_is_longer_reads_as_before() -> None:
    """'İ' lower-cases to two characters: the case-insensitive pattern reads the text itself."""
    p = caseless(r"(?:order|commande)[^\S\n]*(\d+)")
    text = "İ order 3042"
    assert [m.group(1) for m in p.finditer(text, text.lower())] == ["3042"]
