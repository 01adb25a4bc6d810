"""The learned intent reader: a linear model over character and word n-grams, with what is known.

Character n-grams (2 to 5, within words, accents folded) hold up across languages, typos and
missing diacritics; word n-grams add the phrases; the subject has its own words, since a reply's
subject names the old topic. The clues known for sure join them as features: the lexicon's
score per intent for the newest text and for the subject (a store's own phrases count here),
the sender role, whether the subject is a reply, whether a tracking or order number is written,
and the case's context: our last reply to the sender's party (extract/context.py, one column per
context, all zero when there is none, as for `inbox-agent parse`). A message read in a context
answers our reply, so its subject is ours ("Re: Your parcel: how to get USPS to find it"): the
context stands for it, and the subject's words are not read (`read_subject`).
A linear support vector machine separates the intents; a small logistic regression over its
scores, learned on texts of groups the scoring model had not seen, turns them into calibrated
probabilities (extract/fitting.py trains both with scikit-learn). The caller keeps only the
intents the sender's role allows.

This module reads: the fitted model is plain data (vocabularies, idf weights, the weight matrix,
intercepts and calibration), applied with numpy, so a worker never imports scikit-learn or SciPy.
It is cached on disk (extract/model_cache.py) keyed by a hash of the training data, the lexicons
and the code, so it is trained once, at first use, and again only when one of them changes.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np

from inbox_agent.domain import CUSTOMER_INTENTS, SUPPLIER_INTENTS, Intent, Role
from inbox_agent.extract import context, tfidf
from inbox_agent.extract.context import ReplyContext
from inbox_agent.extract.lexicon import Score, score
from inbox_agent.extract.model_cache import cached_model, model_key
from inbox_agent.extract.orders import find_order_numbers
from inbox_agent.extract.tfidf import Analyzer, TfidfStack
from inbox_agent.extract.tracking import find_tracking_numbers
from inbox_agent.extract.training import TrainingExample, TrainingFiles, digest
from inbox_agent.parse.message import subject_topic, subject_words
from inbox_agent.rules import rules_dir

KIND = "intent"
INTENTS = tuple(Intent)
_ROLES = tuple(Role)
_CLUE_WEIGHT = 1.0
_CONTEXTS = tuple(ReplyContext)
_MAX_TEXT = 800  # the newest text's start says what it is about; a long tail only costs time
_CHAR_TEXT = 300  # character n-grams (the costly ones) over the subject and the text's start
_BLOCKS = ("chars", "words", "subject")  # the TF-IDF blocks, in column order (the clues follow)
_ANALYZERS = (Analyzer.CHARS, Analyzer.WORDS, Analyzer.SINGLE_WORDS)
_TOP_FEATURES = 5
# The words of a newest text (links and addresses aside; in a sentence-case text only the
# lower-case ones, as capitalised ones may be names, a signature's) are looked up in the word
# vocabulary; a text of at least this many whose words the reader mostly never saw is in a
# language it was not trained on (a Polish or Turkish mail), and its reading is a guess. A run of a
# script without spaces between words (Chinese, Japanese) counts a word for every two characters.
KNOWN_WORDS_COUNTED = 8
_LINKS = re.compile(r"(?:https?://|www\.)\S+|(?<!\S)[^\s@]+@\S+")  # tried at a word's start only
_PLAIN_WORD = re.compile(r"\b[^\W\d_]{2,}\b")  # not letters glued to digits (a tracking number's)


@dataclass(frozen=True)
class Clues:
    """What is known about a message besides its words."""

    role: Role
    subject_is_reply: bool
    has_tracking: bool
    has_order: bool
    lexicon: dict[Intent, float]  # the lexicon's score per intent over the newest text
    subject_lexicon: dict[Intent, float]  # and over the subject (without its prefixes)
    context: ReplyContext | None = None  # our last reply to the sender's party in the case


@dataclass(frozen=True)
class Reading:
    """The model's probability per intent for one message (all ten intents, summing to 1), with
    the message's features and the best class, so its telling features can be named later."""

    probabilities: dict[Intent, float]
    columns: np.ndarray
    values: np.ndarray
    best: int  # the best class's position in the model's classes


@dataclass(frozen=True)
class Calibration:
    """A multinomial logistic regression over the classes' scores: softmax(coef @ scores + intercept)."""

    coef: np.ndarray  # class x class
    intercept: np.ndarray  # class


class IntentModel:
    """The fitted intent reader as plain data: three TF-IDF blocks (character grams, words, the
    subject's words), the clues' columns after them, the linear model's weights (feature x class)
    and intercepts, and the calibration."""

    def __init__(self, grams: TfidfStack, weights: np.ndarray, intercepts: np.ndarray, calibration: Calibration,
                 classes: Sequence[Intent]) -> None:
        if [b.analyzer for b in grams.blocks] != list(_ANALYZERS):
            raise ValueError("an intent model needs its character, word and subject blocks")
        if weights.shape != (grams.width + len(_CLUE_NAMES), len(classes)):
            raise ValueError(f"weights of shape {weights.shape} do not fit the vocabularies")
        self.grams = grams
        self.weights = weights
        self.intercepts = intercepts
        self.calibration = calibration
        self.classes = tuple(classes)

    def read(self, text: str, subject: str, clues: Clues) -> Reading:
        """Probabilities for one message (newest text and subject as written)."""
        columns, values = self.grams.row(model_texts(read_subject(subject, clues.context), text))
        clue_values = np.array(clue_vector(clues))
        known = np.flatnonzero(clue_values)
        index = np.concatenate([columns, known + self.grams.width])
        row = np.concatenate([values, clue_values[known]])
        scores = row @ self.weights.take(index, axis=0) + self.intercepts  # take: fancy indexing's rows, faster
        logits = self.calibration.coef @ scores + self.calibration.intercept
        exp = np.exp(logits - logits.max())
        probs = exp / exp.sum()
        probabilities = dict.fromkeys(INTENTS, 0.0)
        for intent, p in zip(self.classes, probs.tolist(), strict=True):
            probabilities[intent] = p
        return Reading(probabilities, index, row, int(np.argmax(scores)))

    def known_words(self, text: str) -> float:
        """The share of the words of `text` its word vocabulary holds (1.0 for a text of fewer than
        `KNOWN_WORDS_COUNTED` words: too few to judge); see `KNOWN_WORDS_COUNTED`."""
        words = _PLAIN_WORD.findall(_LINKS.sub(" ", text))
        lower = [w for w in words if not w[0].isupper()]
        if 2 * len(lower) >= len(words):  # sentence case: its capitalised words may be names
            words = lower
        word_block = self.grams.blocks[_BLOCKS.index("words")]
        counted = known = 0
        for word in words:
            if word.isascii() or word[0] <= "\u024f":  # Latin letters
                counted += 1
                known += word_block.knows(tfidf.fold_accents(word.lower()))
            else:
                counted += max(1, len(word) // 2)
        return known / counted if counted >= KNOWN_WORDS_COUNTED else 1.0

    def telling_features(self, reading: Reading) -> list[str]:
        """The n-grams and clues that weighed most for the reading's best intent."""
        contributions = reading.values * self.weights[reading.columns, reading.best]
        order = np.argsort(contributions)[::-1][:_TOP_FEATURES]
        return [self._name(int(reading.columns[i])) for i in order if contributions[i] > 0]

    def _name(self, column: int) -> str:
        for label, block in zip(_BLOCKS, self.grams.blocks, strict=True):
            if column < block.offset + len(block):
                return f'{label} "{block.gram(column)}"'
        return _CLUE_NAMES[column - self.grams.width]

    def plain(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The model as a JSON-ready part and named arrays (extract/model_cache.py stores them)."""
        names = {n: b.names for n, b in zip(_BLOCKS, self.grams.blocks, strict=True)}
        meta = {"classes": [c.value for c in self.classes], "names": names}
        arrays = {f"idf_{n}": b.idf for n, b in zip(_BLOCKS, self.grams.blocks, strict=True)}
        arrays.update(weights=self.weights, intercepts=self.intercepts, calibration_coef=self.calibration.coef,
                      calibration_intercept=self.calibration.intercept)
        return meta, arrays

    @classmethod
    def from_plain(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Self:
        grams = TfidfStack([(a, meta["names"][n], arrays[f"idf_{n}"]) for n, a in zip(_BLOCKS, _ANALYZERS, strict=True)])
        return cls(grams, arrays["weights"], arrays["intercepts"],
                   Calibration(arrays["calibration_coef"], arrays["calibration_intercept"]),
                   [Intent(c) for c in meta["classes"]])


def ranked_intents(probabilities: dict[Intent, float], role: Role) -> list[tuple[Intent, float]]:
    """The intents the sender's role allows (supplier intents for a supplier, customer intents for
    anyone else, `other` for both), best first, with probabilities renormalised over them."""
    allowed = (SUPPLIER_INTENTS if role is Role.SUPPLIER else CUSTOMER_INTENTS) | {Intent.OTHER}
    total = sum(p for i, p in probabilities.items() if i in allowed) or 1.0
    return sorted(((i, p / total) for i, p in probabilities.items() if i in allowed),
                  key=lambda item: (item[1], item[0] is not Intent.OTHER), reverse=True)


_CLUE_NAMES = [*(f"lexicon {i.value}" for i in INTENTS), *(f"subject lexicon {i.value}" for i in INTENTS),
               *(f"role {r.value}" for r in _ROLES), "subject is a reply", "tracking number written",
               "order number written", *(f"context {c.value}" for c in _CONTEXTS)]


def model_texts(subject: str, text: str) -> tuple[str, str, str]:
    """The text each TF-IDF block reads: the start of the body (the subject's topic and the
    newest text) for the character grams, the body for the words, the topic ("-" if none)."""
    topic = subject_words(subject)
    body = f"{topic}\n{text[:_MAX_TEXT]}"
    return body[:_CHAR_TEXT], body, topic or "-"


def read_subject(subject: str, context: ReplyContext | None) -> str:
    """The subject whose words the reader weighs: none in a context (the subject of an answer to
    our reply is our own words, which the context names), else the message's."""
    return "" if context is not None else subject


def lexicon_scores(text: str, subject: str) -> tuple[Score, Score]:
    """The lexicon's scores for the newest text and for the subject."""
    body, topic = score([(text[:_MAX_TEXT], 1.0), (subject_words(subject), 1.0)])
    return body, topic


def clues_of(example: TrainingExample) -> Clues:
    """The clues of a training example, found as in a message (numbers, lexicon scores), with
    the context it answers."""
    whole = f"{example.subject}\n{example.text}"
    tracking = find_tracking_numbers(whole)
    body, topic = lexicon_scores(example.text, read_subject(example.subject, example.state))
    orders = find_order_numbers(whole, [t.number for t in tracking], subject=example.subject)
    return Clues(example.role, subject_topic(example.subject) != example.subject.strip(), bool(tracking),
                 bool(orders), body.totals, topic.totals, example.state)


def clue_vector(clues: Clues) -> list[float]:
    """The clues as feature values, in the order of their columns (after the TF-IDF blocks)."""
    values = [math.log1p(clues.lexicon.get(i, 0.0)) for i in INTENTS]
    values += [math.log1p(clues.subject_lexicon.get(i, 0.0)) for i in INTENTS]
    values += [1.0 if clues.role is r else 0.0 for r in _ROLES]
    values += [float(clues.subject_is_reply), float(clues.has_tracking), float(clues.has_order)]
    values += [1.0 if clues.context is c else 0.0 for c in _CONTEXTS]
    return [v * _CLUE_WEIGHT for v in values]


def intent_key(training: str) -> str:
    """The cache key: the training data's digest and the code that reads the data, lexicons (they
    are features), the reading and training code with the contexts (extract/context.py), and the
    order and tracking readers' code and rules (whether such a number is written is a feature)."""
    fitting = Path(__file__).with_name("fitting.py")
    lexicons = sorted((rules_dir() / "lexicons").glob("*.yaml"))
    numbers = [Path(inspect.getfile(find_order_numbers)), rules_dir() / "orders.yaml",
               Path(inspect.getfile(find_tracking_numbers))]
    return model_key(training, [Path(__file__), Path(tfidf.__file__), Path(context.__file__), fitting,
                                Path(inspect.getfile(TrainingFiles)), *numbers, *lexicons])


def trained_model(examples: Sequence[TrainingExample], cache_dir: Path) -> IntentModel:
    """The model for `examples`, trained at first use (in a child process) and cached."""
    return cached_model(KIND, intent_key(digest(examples)), cache_dir, IntentModel, lambda: examples)


def files_model(files: TrainingFiles, cache_dir: Path) -> IntentModel:
    """The model for the examples of `files`, which are read only when it must be trained."""
    return cached_model(KIND, intent_key(files.digest()), cache_dir, IntentModel, files.examples)
