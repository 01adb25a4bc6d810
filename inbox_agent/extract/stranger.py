"""Is a sender who is not a party a buyer, or a stranger (a cold pitch, an invoice, a newsletter)?

Patterns catch the blatant cases (rules/cold_senders.yaml); this learned reader catches the rest,
in any of the store's languages: a logistic regression over character and word n-grams of the
subject and the newest text, trained on the labelled texts' senders (role `customer` against role
`unknown`). It is asked only about a sender with no word of a purchase and no order or tracking
number, and says "stranger" only when it is sure (`STRANGER_PROBABILITY`): a buyer taken for a
stranger would go unanswered, so it leans to "customer". Trained at first use and cached like the
intent reader.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from inbox_agent.config import ReadingConfig
from inbox_agent.domain import Role
from inbox_agent.extract.classifier import char_grams
from inbox_agent.extract.intent import shipped_examples, taught_examples
from inbox_agent.extract.model_cache import cached_model
from inbox_agent.extract.training import TrainingExample, digest
from inbox_agent.rules import rules_dir

STRANGER_PROBABILITY = 0.7  # grouped CV: 0.1% of buyers taken for strangers, 70% of strangers found
_C = 16.0
_MAX_TEXT = 800


class StrangerModel:
    """customer-vs-stranger probability over the subject and the newest text."""

    def __init__(self) -> None:
        self.pipeline: Pipeline = make_pipeline(
            make_union(TfidfVectorizer(analyzer=char_grams, sublinear_tf=True, min_df=2),
                       TfidfVectorizer(ngram_range=(1, 2), strip_accents="unicode", sublinear_tf=True,
                                       token_pattern=r"(?u)\b\w+\b")),
            LogisticRegression(C=_C, class_weight="balanced", max_iter=2000))

    def fit(self, examples: Sequence[TrainingExample]) -> StrangerModel:
        people = [e for e in examples if e.role in (Role.CUSTOMER, Role.UNKNOWN)]
        labels = np.array([e.role is Role.UNKNOWN for e in people])
        if labels.all() or not labels.any():
            raise ValueError("the stranger reader needs texts of both customers and strangers")
        self.pipeline.fit([_text(e.subject, e.text) for e in people], labels)
        return self

    def probability(self, subject: str, text: str) -> float:
        """How likely the sender of this text is a stranger rather than a buyer (0..1)."""
        return float(self.pipeline.predict_proba([_text(subject, text)])[0, 1])


def stranger_model(examples: Sequence[TrainingExample], cache_dir: Path) -> StrangerModel:
    """The model for `examples`, trained at first use and cached."""
    key = hashlib.sha256(f"{sklearn.__version__}|{digest(examples)}".encode())
    key.update(Path(__file__).read_bytes())
    return cached_model("stranger", key.hexdigest()[:32], cache_dir, StrangerModel,
                        lambda: StrangerModel().fit(examples))


def store_stranger_model(reading: ReadingConfig) -> StrangerModel:
    """The model trained on the shipped and the store's taught examples."""
    return _store_model(str(rules_dir()), reading)


@lru_cache(maxsize=4)
def _store_model(_rules: str, reading: ReadingConfig) -> StrangerModel:
    return stranger_model([*shipped_examples(), *taught_examples(reading)], reading.cache_path())


def _text(subject: str, text: str) -> str:
    return f"{subject}\n{text[:_MAX_TEXT]}"
