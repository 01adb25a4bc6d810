"""The bare store references are found where a run of digits is, exactly as scanning the whole
text with orders.yaml's `store_reference` finds them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from inbox_agent.extract.orders import _rules, _store_references

_PIECES = ["px", "wx", "ab", "abcdef", "x", "-", " ", "\n", "\t", "\u00a0", "12345", "2019", "1234", "1234567",
           "12345678", "ny 10001", "ch-8001", ".", "/", "_", "é", "\u0661\u0662\u0663\u0664\u0665", "9", "#", "="]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=14).map("".join))
def test_store_references_are_those_of_the_whole_scan(text: str) -> None:
    pattern = _rules().store_reference
    assert [m.span() for m in _store_references(text, pattern)] == [m.span() for m in pattern.finditer(text)]


def test_store_references_examples() -> None:
    found = _store_references("about px-30422, wx 32051 and ab12345 (not ss-2025)", _rules().store_reference)
    assert [m.group(1, 2) for m in found] == [("px", "30422"), ("wx", "32051"), ("ab", "12345")]
