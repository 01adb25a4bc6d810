"""TF-IDF rows of one text from a fitted vocabulary, as plain data (no scikit-learn at read time).

A `TfidfBlock` is what a fitted scikit-learn `TfidfVectorizer` (sublinear tf, l2 norm) keeps: the
grams it knows, in column order, and their idf weights. The grams are built here exactly as in
training: the character grams are the ones the trainer's vectorizers use (`char_grams`), and the
word grams follow scikit-learn's "word" analyzer (lower-cased, accents folded, tokens
`(?u)\\b\\w+\\b`, 1- or 1-2-grams); a test compares both ways on the dev corpus and the training texts.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from enum import StrEnum

import numpy as np

_GRAM_SIZES = (2, 3, 4, 5)
_LONGEST_GRAM = 5
_TOKEN = re.compile(r"(?u)\b\w+\b")
_WORD_MEMORY = 50_000  # words whose character-gram columns a block keeps while reading (a few MB)

Row = tuple[np.ndarray, np.ndarray]  # the non-zero columns of a text and their values


class Analyzer(StrEnum):
    """How a block cuts a text into grams."""

    CHARS = "chars"  # character 2- to 5-grams within words (`char_grams`)
    WORDS = "words"  # word 1- and 2-grams
    SINGLE_WORDS = "single words"  # word 1-grams


class TfidfBlock:
    """A fitted vocabulary (gram -> column) and its idf weights; `row` gives a text's l2-normalised
    sublinear TF-IDF values."""

    def __init__(self, analyzer: Analyzer, names: list[str], idf: np.ndarray) -> None:
        self.analyzer = analyzer
        self.names = names  # the grams in column order
        self.idf = np.asarray(idf, dtype=np.float64)
        self.vocabulary = dict(zip(names, range(len(names)), strict=True))
        self._word_columns: dict[str, tuple[int, ...]] = {}

    def __len__(self) -> int:
        return len(self.names)

    def row(self, text: str) -> Row:
        """The known grams of `text`: their columns and TF-IDF values (empty arrays when none)."""
        if self.analyzer is Analyzer.CHARS:
            counted = Counter(self._char_columns(text))
        else:
            grams = Counter(word_grams(text, 2 if self.analyzer is Analyzer.WORDS else 1))
            get = self.vocabulary.get
            counted = Counter({c: n for g, n in grams.items() if (c := get(g)) is not None})
        columns = np.fromiter(counted, dtype=np.int64, count=len(counted))
        tfidf = (np.log(np.fromiter(counted.values(), dtype=np.float64, count=len(counted))) + 1.0) * self.idf[columns]
        if len(columns):
            tfidf /= np.sqrt(tfidf @ tfidf)
        return columns, tfidf

    def _char_columns(self, text: str) -> list[int]:
        """The columns of the known character grams of `text`. Each word's columns are kept (up to
        `_WORD_MEMORY` words), so a word seen before costs one look-up instead of a dozen grams."""
        memory = self._word_columns
        vocabulary = self.vocabulary
        columns: list[int] = []
        for word in normal_words(text):
            known = memory.get(word)
            if known is None:
                if len(memory) >= _WORD_MEMORY:
                    memory.clear()
                found = (vocabulary.get(g) for g in _word_char_grams(word))
                known = memory[word] = tuple(c for c in found if c is not None)
            columns += known
        return columns


def fold_accents(text: str) -> str:
    """`text` with its accents removed (NFKD, combining marks dropped), as scikit-learn's
    strip_accents="unicode" does."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def word_grams(text: str, longest: int) -> list[str]:
    """The word 1- to `longest`-grams of `text`, lower-cased and accents folded (scikit-learn's
    "word" analyzer with token_pattern `(?u)\\b\\w+\\b`)."""
    tokens = _TOKEN.findall(fold_accents(text.lower()))
    grams = list(tokens)
    for n in range(2, longest + 1):
        grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return grams


def char_grams(text: str) -> list[str]:
    """Character 2- to 5-grams within words padded by a space (scikit-learn's `char_wb`, same
    grams), lower-cased and accents folded; written for speed, as it runs on every message."""
    grams: list[str] = []
    for word in normal_words(text):
        grams += _word_char_grams(word)
    return grams


def normal_words(text: str) -> list[str]:
    """The words of `text` lower-cased and accents folded, as the character grams see them."""
    return fold_accents(text.lower()).split()


def _word_char_grams(word: str) -> list[str]:
    """The character grams of one normalised word (see `char_grams`)."""
    padded = f" {word} "
    size = len(padded)
    if size > _LONGEST_GRAM:
        return [padded[i : i + n] for i in range(size - 1) for n in _GRAM_SIZES if i + n <= size]
    grams: list[str] = []
    for n in _GRAM_SIZES:  # a short word gives its grams up to its whole padded self, once
        if size <= n:
            grams.append(padded)
            break
        grams += [padded[i : i + n] for i in range(size - n + 1)]
    return grams
