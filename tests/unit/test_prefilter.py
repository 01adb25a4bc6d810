"""The RE2 pre-filter never misses a pattern that Python's `re` would match."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox_agent.extract import _cold_rules as cold_rules
from inbox_agent.extract.formats import load_format_book
from inbox_agent.extract.lexicon import load_lexicon
from inbox_agent.extract.orders import _rules as order_rules
from inbox_agent.extract.patterns import CaselessSet, caseless
from inbox_agent.extract.prefilter import PatternFilter, names_no_upper_case, to_re2
from inbox_agent.parse import parse_email


def _matching(patterns: list[re.Pattern[str]], text: str) -> set[int]:
    return {i for i, p in enumerate(patterns) if p.search(text)}


@pytest.mark.parametrize("pattern, text", [
    (r"refund(?:ed)?(?! id)", "your refunded amount"),
    (r"(?<=n°)\d+", "commande n°1043"),
    (r"\bcaf\w\b", "un café noir"),
    (r"colis\sperdu", "colis\u00a0perdu"),
    (r"[^\s\d]{3}", "été"),
    (r"\d{3}", "١٢٣"),
    (r"(a)\1", "aa"),
    (r"^livr[ée]$", "un\nlivré\ndeux"),
])
def test_python_constructs_are_widened_never_narrowed(pattern: str, text: str) -> None:
    compiled = re.compile(pattern, re.MULTILINE)
    assert compiled.search(text)
    assert PatternFilter([compiled]).candidates(text.lower()) == [0]


def test_a_pattern_that_cannot_match_is_left_out() -> None:
    patterns = [re.compile(r"colis perdu"), re.compile(r"never arrived"), re.compile(r"\d{16}")]
    assert PatternFilter(patterns).candidates("my parcel never arrived") == [1]


def test_case_insensitive_patterns_see_lowered_text() -> None:
    patterns = [re.compile(r"Never Arrived", re.IGNORECASE), re.compile(r"[A-Z]{2}\d+")]
    found = PatternFilter(patterns).candidates("it never arrived, ab12")
    assert found == [0, 1]  # the case-sensitive upper-case pattern is always run


def test_whole_text_filter_for_number_formats() -> None:
    book = load_format_book()
    possible = {book.formats[i].id for i in book.prefilter.candidates("RR123456785CN")} if book.prefilter else set()
    assert "s10" in possible
    assert len(possible) < len(book.formats)


def test_names_no_upper_case() -> None:
    assert names_no_upper_case(r"[^\S\n]*order\W+(\d+)\b")
    assert not names_no_upper_case(r"[A-Z]{2}")
    assert not names_no_upper_case(r"\x41")
    assert not names_no_upper_case(r"\\S")


def test_negated_classes_of_negated_categories_are_widened() -> None:
    letter_x = re.compile(r"[^\W\d]x")  # "a letter, then x": RE2 cannot spell this class
    blank = re.compile(r"n°[^\S\n]\d")  # a space but not a line break
    patterns = [letter_x, blank]
    assert PatternFilter(patterns).candidates("éx and n°\u00a05") == [0, 1]
    assert PatternFilter(patterns).candidates("nothing to see") == []


@cache
def _lexicon_set() -> CaselessSet:
    return CaselessSet([p.pattern for p in load_lexicon().phrases])


def _rule_texts(corpus: Path) -> list[str]:
    texts = []
    for path in sorted(corpus.glob("*.eml")):
        parsed = parse_email(path.read_bytes())
        texts += [parsed.all_text, parsed.new_text, parsed.subject_topic]
    return texts


def test_lexicon_order_and_cold_sets_agree_with_running_every_pattern(corpus: Path) -> None:
    sets = [_lexicon_set(), order_rules().patterns, cold_rules().screen]
    for text in _rule_texts(corpus):
        lower = text.lower()
        for group in sets:
            everything = {i for i, m in enumerate(group.members) if m.search(text, lower)}
            assert everything <= set(group.candidates(text, lower)), text[:80]


def test_format_filter_agrees_with_every_format_on_the_courier_data() -> None:
    book = load_format_book()
    assert book.prefilter is not None
    samples = ["RR123456785CN", "1Z999AA10123456784", "9400111899223334445561", "LP00612849305172",
               "YT2507305518826043", "3SDFC0123456789", "JJD000390007882366", "00340434511539026190"]
    for text in samples:
        everything = {i for i, f in enumerate(book.formats) if f.pattern.fullmatch(text)}
        assert everything and everything <= set(book.prefilter.candidates(text)), text


_PIECES = ["never", "not", "arrived", "received", "refund", "refunded", " id", "tracking", "delivered", "says",
           "n'ai", "rien", "reçu", "livré", "colis", "pas", "ricevuto", "il pacco", "zugestellt", "nie",
           "bezorgd", "maar", "llegó", "pedido", "chegou", "order", "#", "1043", "Ä", "İ", "É", " ", "  ",
           "\n", "\u00a0", ",", ".", "'", "-"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_no_lexicon_phrase_is_missed_on_any_text(text: str) -> None:
    group = _lexicon_set()
    lower = text.lower()
    everything = {i for i, m in enumerate(group.members) if m.search(text, lower)}
    assert everything <= set(group.candidates(text, lower))


def test_translation_spells_unicode_classes() -> None:
    assert r"\p{L}" in to_re2(r"\w+") and r"\p{Nd}" in to_re2(r"\d")
    assert to_re2(r"a(?!b)") == to_re2("a")
    assert caseless(r"order \d+").lowered


def test_text_that_is_not_utf8_runs_every_pattern() -> None:
    patterns = [re.compile("a\ud800"), re.compile("zz")]
    assert PatternFilter(patterns).candidates("xa\ud800") == [0, 1]
    assert PatternFilter(patterns).candidates("zz") == [1]


def test_a_pattern_re2_refuses_is_always_run_alone() -> None:
    too_many_repeats = re.compile(r"(?:(?:a{24}){24}){24}")  # Python takes it, RE2 does not
    patterns = [re.compile("colis"), too_many_repeats, re.compile("parcel")]
    assert PatternFilter(patterns).candidates("a parcel") == [1, 2]


def test_a_case_sensitive_part_of_a_caseless_pattern_is_widened() -> None:
    pattern = re.compile(r"order (?-i:MM)#\d+", re.IGNORECASE)
    assert PatternFilter([pattern]).candidates("order mm#2051") == [0]


def test_many_patterns_are_split_over_several_sets() -> None:
    words = [re.compile(f"word{n}x") for n in range(40)]
    assert PatternFilter(words).candidates("a word7x and a word33x") == [7, 33]


_ATOMS = ["a", "é", "b", "1", " ", "'", r"\w", r"\d", r"\s", r"\W", r"\S", r"[^\S\n]", r"[a-zé]", r"[^.\n]", r"\.",
          "[^a1]", "."]
_ALPHABET = list("aAébB1 '.\n\u00a0_-")


@st.composite
def _patterns(draw: st.DrawFn, depth: int = 0) -> str:
    """Random Python patterns built from the constructs rule files use."""
    pieces = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 9 if depth < 2 else 5))
        if kind <= 5:
            piece = draw(st.sampled_from(_ATOMS))
        elif kind == 6:
            piece = "(?:" + "|".join(draw(st.lists(_patterns(depth + 1), min_size=1, max_size=3))) + ")"
        elif kind == 7:
            piece = draw(st.sampled_from([r"\b", "^", "$", "(?!a)", "(?<=b)", "(?<!1)"]))
        elif kind == 8:
            piece = "(" + draw(_patterns(depth + 1)) + ")"
        else:
            piece = "(?i:" + draw(_patterns(depth + 1)) + ")"
        # Only atoms take any quantifier: a repeated group of repeats makes Python's own matcher
        # backtrack exponentially, which would test nothing of ours.
        quantifiers = ["", "", "?", "*", "+", "{2}", "{0,30}", "{1,3}", "*?"] if kind <= 5 else ["", "?"]
        pieces.append(piece if kind == 7 else piece + draw(st.sampled_from(quantifiers)))
    return "".join(pieces)


@settings(max_examples=400, deadline=None)
@given(_patterns(), st.booleans(), st.text(alphabet=st.sampled_from(_ALPHABET), max_size=40))
def test_no_random_pattern_is_missed(pattern: str, ignore_case: bool, text: str) -> None:
    try:
        compiled = re.compile(pattern, re.IGNORECASE | re.MULTILINE if ignore_case else re.MULTILINE)
    except re.error:
        return
    group = CaselessSet([caseless(pattern, re.MULTILINE)])
    lower = text.lower()
    if group.members[0].search(text, lower):
        assert group.candidates(text, lower) == [0], (pattern, text)
    if compiled.search(lower):
        assert PatternFilter([compiled]).candidates(lower) == [0], (pattern, text)


_ORDER_PIECES = ["ticket", "invoice", "rechnung", "store", "no.", "nr", "number", "ref", "#", ":", "order", "dispute",
                 "px-", "wx", "ab", "30422", "2051", "1043", "ch-8001", " ", "\n", "\t", "-", ".", "é", "İ"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_ORDER_PIECES), max_size=14).map("".join))
def test_a_guarded_pattern_answers_as_the_pattern_alone(text: str) -> None:
    rules = order_rules()
    for guarded in (rules.not_store_before, rules.not_lettered_before):
        found = guarded.search(text)
        alone = guarded.pattern.search(text)
        assert (found and found.span()) == (alone and alone.span()), text


def test_a_guarded_pattern_skips_a_text_that_cannot_match() -> None:
    rules = order_rules()
    assert rules.not_store_before.search("my ticket no. ") is not None
    assert rules.not_store_before.search("hello, my order ") is None
