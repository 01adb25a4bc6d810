"""Is a sender who is not a party a buyer, or a stranger (a cold pitch, an invoice, a newsletter)?

Patterns catch the blatant cases (rules/cold_senders.yaml); this learned reader catches the rest,
in any of the store's languages: a logistic regression over character and word n-grams of the
subject and the newest text, trained (extract/fitting.py) on the labelled texts' senders (role
`customer` against role `unknown`). It is asked only about a sender with no word of a purchase
and no order or tracking number, and says "stranger" only when it is sure
(`STRANGER_PROBABILITY`): a buyer taken for a stranger would go unanswered, so it leans to
"customer". Like the intent reader it is plain data applied with numpy, trained at first use in
a child process and cached.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Self

import numpy as np

from inbox_agent.config import ReadingConfig
from inbox_agent.extract import tfidf
from inbox_agent.extract.intent import training_set
from inbox_agent.extract.model_cache import cached_model, model_key
from inbox_agent.extract.tfidf import Analyzer, TfidfStack
from inbox_agent.rules import rules_dir

KIND = "stranger"
STRANGER_PROBABILITY = 0.7  # grouped CV: 0.1% of buyers taken for strangers, 85% of strangers found
_MAX_TEXT = 800
_BLOCKS = ("chars", "words")
_ANALYZERS = (Analyzer.CHARS, Analyzer.WORDS)


class StrangerModel:
    """customer-vs-stranger probability over the subject and the newest text: two TF-IDF blocks
    (character and word grams of the same text) and a logistic regression's weights."""

    def __init__(self, grams: TfidfStack, weights: np.ndarray, intercept: float) -> None:
        if [b.analyzer for b in grams.blocks] != list(_ANALYZERS):
            raise ValueError("a stranger model needs its character and word blocks")
        if weights.shape != (grams.width,):
            raise ValueError(f"weights of shape {weights.shape} do not fit the vocabularies")
        self.grams = grams
        self.weights = weights
        self.intercept = intercept

    def probability(self, subject: str, text: str) -> float:
        """How likely the sender of this text is a stranger rather than a buyer (0..1)."""
        whole = model_text(subject, text)
        columns, values = self.grams.row([whole] * len(_BLOCKS))
        return 1.0 / (1.0 + math.exp(-(self.intercept + float(values @ self.weights.take(columns)))))

    def plain(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The model as a JSON-ready part and named arrays (extract/model_cache.py stores them)."""
        blocks = self.grams.blocks
        meta = {"names": {n: b.names for n, b in zip(_BLOCKS, blocks, strict=True)}, "intercept": self.intercept}
        arrays = {f"idf_{n}": b.idf for n, b in zip(_BLOCKS, blocks, strict=True)}
        return meta, {**arrays, "weights": self.weights}

    @classmethod
    def from_plain(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Self:
        grams = TfidfStack([(a, meta["names"][n], arrays[f"idf_{n}"]) for n, a in zip(_BLOCKS, _ANALYZERS, strict=True)])
        return cls(grams, arrays["weights"], float(meta["intercept"]))


def model_text(subject: str, text: str) -> str:
    """The text the model reads: the subject and the newest text's start."""
    return f"{subject}\n{text[:_MAX_TEXT]}"


def stranger_key(training: str) -> str:
    """The cache key: the training data's digest, the code that reads the data, the reading and
    training code."""
    here = Path(__file__)
    return model_key(training, [here, Path(tfidf.__file__), here.with_name("fitting.py"), here.with_name("training.py")])


def store_stranger_model(reading: ReadingConfig) -> StrangerModel:
    """The model trained on the shipped and the store's taught examples."""
    return _store_model(str(rules_dir()), reading)


@lru_cache(maxsize=4)
def _store_model(_rules: str, reading: ReadingConfig) -> StrangerModel:
    files = training_set(reading)
    return cached_model(KIND, stranger_key(files.digest()), reading.cache_path(), StrangerModel, files.examples)
