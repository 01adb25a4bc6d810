"""TF-IDF rows of one text from a fitted vocabulary, as plain data (no scikit-learn at read time).

A `TfidfBlock` is what a fitted scikit-learn `TfidfVectorizer` (sublinear tf, l2 norm) keeps: the
grams it knows, in column order, and their idf weights. The grams are built here exactly as in
training: the character grams are the ones the trainer's vectorizers use (`char_grams`), and the
word grams follow scikit-learn's "word" analyzer (lower-cased, accents folded, tokens
`(?u)\\b\\w+\\b`, 1- or 1-2-grams); a test compares both ways on the dev corpus and the training texts.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from enum import StrEnum

import numpy as np

_GRAM_SIZES = (2, 3, 4, 5)
_LONGEST_GRAM = 5
_TOKEN = re.compile(r"\w+")  # scikit-learn's (?u)\b\w+\b: a longest run of word characters has \b at both ends
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_WORD_MEMORY = 50_000  # words whose character-gram ids the gram table keeps while reading (a few MB)
_FOLDED_MEMORY = 20_000  # characters whose folded form is kept (any mail's alphabets; < 2 MB)
_SUBLINEAR_KEPT = 4096  # counts whose sublinear tf (1 + log) is looked up rather than computed

Row = tuple[np.ndarray, np.ndarray]  # the non-zero columns of a text and their values


class Analyzer(StrEnum):
    """How a block cuts a text into grams."""

    CHARS = "chars"  # character 2- to 5-grams within words (`char_grams`)
    WORDS = "words"  # word 1- and 2-grams
    SINGLE_WORDS = "single words"  # word 1-grams


class _GramTable:
    """Every gram the blocks built in this process know, each kept once with an id: the intent
    and the stranger readers share most of their grams (97% of the stranger's), so both
    vocabularies together cost one table of strings (~11 MB less per worker than a dictionary
    each). A block maps ids to its own columns with an array. Each word's character-gram ids are
    kept too (up to `_WORD_MEMORY` words), so a word seen before costs one look-up instead of a
    dozen grams, for every block that reads characters. A model trained again (`inbox-agent
    learn`) adds only its new grams; the table never shrinks."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.names: list[str] = []  # each id's gram
        self._word_ids: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def add(self, grams: Sequence[str]) -> np.ndarray:
        """The ids of `grams`, the new ones added."""
        with self._lock:
            ids, names = self.ids, self.names
            before = len(names)
            for gram in grams:
                if gram not in ids:
                    ids[gram] = len(names)
                    names.append(gram)
            if len(names) > before:
                self._word_ids = {}  # a word's grams known now may be more
            return np.fromiter(map(ids.__getitem__, grams), dtype=np.int32, count=len(grams))

    def char_ids(self, text: str) -> list[int]:
        """The ids of the known character grams of `text`, one per occurrence."""
        memory = self._word_ids
        get = self.ids.get
        found: list[int] = []
        for word in normal_words(text):
            known = memory.get(word)
            if known is None:
                if len(memory) >= _WORD_MEMORY:
                    memory.clear()
                known = memory[word] = [i for i in map(get, _word_char_grams(word)) if i is not None]
            found += known
        return found

    def word_ids(self, text: str, longest: int) -> list[int]:
        """The ids of the known word 1- to `longest`-grams of `text`, one per occurrence."""
        return [i for i in map(self.ids.get, word_grams(text, longest)) if i is not None]


_GRAMS = _GramTable()


class TfidfBlock:
    """A fitted vocabulary and its idf weights. Its columns start at `offset`: the blocks of one
    model (`TfidfStack`) take consecutive columns, so their grams map straight to the model's."""

    def __init__(self, analyzer: Analyzer, names: Sequence[str], idf: np.ndarray, offset: int = 0) -> None:
        if len(names) != len(idf):
            raise ValueError(f"{len(names)} grams but {len(idf)} idf weights")
        self.analyzer = analyzer
        self.idf = np.asarray(idf, dtype=np.float64)
        self.offset = offset
        self._ids = _GRAMS.add(names)  # each column's gram
        # each gram id's column, -1 for the table's other grams; its last place, -1 too, stands for
        # the ids added after this block (a look-up clips them to it)
        self._columns = np.full(len(_GRAMS.names) + 1, -1, dtype=np.int32)
        self._columns[self._ids] = np.arange(offset, offset + len(names), dtype=np.int32)

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def names(self) -> list[str]:
        """The grams in column order."""
        return [_GRAMS.names[i] for i in self._ids.tolist()]

    def gram(self, column: int) -> str:
        """The gram of one of the block's columns (counted from the model's first)."""
        return _GRAMS.names[int(self._ids[column - self.offset])]

    def knows(self, gram: str) -> bool:
        """Whether `gram` is one of the block's."""
        found = _GRAMS.ids.get(gram)
        return found is not None and found < len(self._columns) - 1 and bool(self._columns[found] >= 0)

    def columns(self, text: str) -> np.ndarray:
        """The columns of the known grams of `text`, one per occurrence."""
        if self.analyzer is Analyzer.CHARS:
            ids = _GRAMS.char_ids(text)
        else:
            ids = _GRAMS.word_ids(text, 2 if self.analyzer is Analyzer.WORDS else 1)
        found = self._columns.take(np.array(ids, dtype=np.int64), mode="clip")
        return found[found >= 0]


class TfidfStack:
    """The TF-IDF blocks of one model, side by side (consecutive columns); `row` gives the non-zero
    values of texts (one per block), each block l2-normalised on its own, as scikit-learn's
    vectorizers stacked side by side would."""

    def __init__(self, parts: Sequence[tuple[Analyzer, Sequence[str], np.ndarray]]) -> None:
        self.blocks: list[TfidfBlock] = []
        offset = 0
        for analyzer, names, idf in parts:
            self.blocks.append(TfidfBlock(analyzer, names, idf, offset))
            offset += len(names)
        self.width = offset
        self._idf = np.concatenate([b.idf for b in self.blocks]) if self.blocks else np.zeros(0)
        self._ends = np.array([b.offset + len(b) for b in self.blocks], dtype=np.int64)
        self._sublinear = np.concatenate([[0.0], np.log(np.arange(1, _SUBLINEAR_KEPT, dtype=np.float64)) + 1.0])

    def row(self, texts: Sequence[str]) -> Row:
        """The non-zero columns of `texts` (the i-th read by the i-th block), in column order, and
        their sublinear TF-IDF values."""
        found = [block.columns(text) for block, text in zip(self.blocks, texts, strict=True)]
        columns, counts = np.unique(np.concatenate(found) if found else np.zeros(0, dtype=np.int32),
                                    return_counts=True)
        tfidf = self._tf(counts) * self._idf.take(columns)
        if len(columns):
            block_of = np.searchsorted(self._ends, columns, side="right")
            norms = np.sqrt(np.bincount(block_of, weights=tfidf * tfidf, minlength=len(self.blocks)))
            tfidf /= norms.take(block_of)
        return columns, tfidf

    def _tf(self, counts: np.ndarray) -> np.ndarray:
        """Sublinear term frequencies, 1 + log(count): looked up for the usual small counts (the
        table holds the very values numpy's log gives), computed for a text repeating a gram more
        (a count past the table's end fails the look-up; counts are positive, so none wraps)."""
        try:
            return self._sublinear.take(counts)
        except IndexError:
            return np.log(counts.astype(np.float64)) + 1.0


class _FoldedCharacters(dict[int, str]):
    """Each character's folded form (NFKD, combining marks dropped), found at first sight. Folding
    a text character by character gives what folding it whole gives: NFKD decomposes each
    character on its own and reorders only combining marks, which are all dropped."""

    def __missing__(self, code: int) -> str:
        folded = "".join(c for c in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(c))
        if len(self) < _FOLDED_MEMORY:
            self[code] = folded
        return folded


_FOLDED = _FoldedCharacters()


def fold_accents(text: str) -> str:
    """`text` with its accents removed (NFKD, combining marks dropped), as scikit-learn's
    strip_accents="unicode" does. ASCII folds to itself, so only the runs of other characters
    are translated (a character at a time, `str.translate` is slow on a long text)."""
    return text if text.isascii() else _NON_ASCII.sub(_folded_run, text)


def _folded_run(run: re.Match[str]) -> str:
    return run.group(0).translate(_FOLDED)


def word_grams(text: str, longest: int) -> list[str]:
    """The word 1- to `longest`-grams of `text`, lower-cased and accents folded (scikit-learn's
    "word" analyzer with token_pattern `(?u)\\b\\w+\\b`)."""
    tokens = _TOKEN.findall(fold_accents(text.lower()))
    grams = list(tokens)
    for n in range(2, longest + 1):
        grams += map(" ".join, zip(*[tokens[k:] for k in range(n)], strict=False))  # the shortest slice ends it
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
