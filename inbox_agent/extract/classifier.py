"""The learned intent reader: a linear model over character and word n-grams, with what is known.

Character n-grams (2 to 5, within words, accents folded) hold up across languages, typos and
missing diacritics; word n-grams add the phrases; the subject has its own words, since a reply's
subject names the old topic. The clues known for sure join them as features: the lexicon's
score per intent for the newest text and for the subject (a store's own phrases count here),
the sender role, whether the subject is a reply, whether a tracking or order number is written.
A multinomial logistic regression gives calibrated probabilities; the caller keeps only the
intents the sender's role allows.

Training is deterministic and takes seconds. The fitted model is cached on disk (joblib, under
`[reading] cache_dir`) keyed by a hash of the training data, the lexicons and this code's
version, so it is trained once, at first use, and again only when one of them changes.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import sklearn
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from inbox_agent.domain import CUSTOMER_INTENTS, SUPPLIER_INTENTS, Intent, Role
from inbox_agent.extract.lexicon import score
from inbox_agent.extract.orders import find_order_numbers
from inbox_agent.extract.tracking import find_tracking_numbers
from inbox_agent.extract.training import TrainingExample, digest
from inbox_agent.parse.message import subject_topic
from inbox_agent.rules import rules_dir

MODEL_VERSION = "1"
INTENTS = tuple(Intent)
_ROLES = tuple(Role)
_C = 8.0
_CLUE_WEIGHT = 0.5
_MAX_TEXT = 1500  # the newest text's start says what it is about; a long tail only costs time


@dataclass(frozen=True)
class Clues:
    """What is known about a message besides its words."""

    role: Role
    subject_is_reply: bool
    has_tracking: bool
    has_order: bool
    lexicon: dict[Intent, float]  # the lexicon's score per intent over the newest text
    subject_lexicon: dict[Intent, float]  # and over the subject (without its prefixes)


@dataclass(frozen=True)
class Reading:
    """The model's probability per intent for one message (all ten intents, summing to 1)."""

    probabilities: dict[Intent, float]
    features: list[str]  # the n-grams and clues that weighed most for the best intent


class IntentModel:
    """Vectorizers and the linear model, fitted together."""

    def __init__(self) -> None:
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), strip_accents="unicode",
                                     sublinear_tf=True, min_df=2, dtype=np.float32)
        self.words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), strip_accents="unicode",
                                     token_pattern=r"(?u)\b\w+\b", sublinear_tf=True, dtype=np.float32)
        self.subject_words = TfidfVectorizer(analyzer="word", strip_accents="unicode", token_pattern=r"(?u)\b\w+\b",
                                             sublinear_tf=True, dtype=np.float32)
        self.model = LogisticRegression(C=_C, max_iter=3000)
        self.classes: tuple[Intent, ...] = ()
        self._names: list[str] = []

    def fit(self, examples: Sequence[TrainingExample]) -> IntentModel:
        texts = [_body(e.subject, e.text) for e in examples]
        subjects = [subject_topic(e.subject) or "-" for e in examples]
        clues = [clues_of(e) for e in examples]
        x = sparse.hstack([
            self.chars.fit_transform(texts),
            self.words.fit_transform(texts),
            self.subject_words.fit_transform(subjects),
            sparse.csr_matrix(np.array([_clue_vector(c) for c in clues], dtype=np.float32)),
        ]).tocsr()
        self.model.fit(x, [e.intent.value for e in examples])
        self.classes = tuple(Intent(c) for c in self.model.classes_)
        return self

    def read(self, text: str, subject: str, clues: Clues, explain: bool = False) -> Reading:
        """Probabilities for one message (newest text and subject as written)."""
        body = _body(subject, text)
        row = sparse.hstack([
            self.chars.transform([body]),
            self.words.transform([body]),
            self.subject_words.transform([subject_topic(subject) or "-"]),
            sparse.csr_matrix(np.array([_clue_vector(clues)], dtype=np.float32)),
        ]).tocsr()
        logits = row @ self.model.coef_.T + self.model.intercept_
        logits = np.asarray(logits).ravel()
        exp = np.exp(logits - logits.max())
        probs = exp / exp.sum()
        probabilities = {intent: 0.0 for intent in INTENTS}
        for intent, p in zip(self.classes, probs, strict=True):
            probabilities[intent] = float(p)
        features = self._weighed(row, int(np.argmax(probs))) if explain else []
        return Reading(probabilities, features)

    def _weighed(self, row: sparse.csr_matrix, klass: int, top: int = 5) -> list[str]:
        if not self._names:
            self._names = [*(f'chars "{n}"' for n in self.chars.get_feature_names_out()),
                           *(f'words "{n}"' for n in self.words.get_feature_names_out()),
                           *(f'subject "{n}"' for n in self.subject_words.get_feature_names_out()),
                           *_CLUE_NAMES]
        names = self._names
        contributions = row.multiply(self.model.coef_[klass]).tocsr()
        order = np.argsort(contributions.data)[::-1][:top]
        return [names[contributions.indices[i]] for i in order if contributions.data[i] > 0]


def ranked_intents(model: IntentModel, text: str, subject: str, clues: Clues) -> list[tuple[Intent, float]]:
    """The intents the sender's role allows (supplier intents for a supplier, customer intents for
    anyone else, `other` for both), best first, with probabilities renormalised over them."""
    allowed = (SUPPLIER_INTENTS if clues.role is Role.SUPPLIER else CUSTOMER_INTENTS) | {Intent.OTHER}
    probabilities = model.read(text, subject, clues).probabilities
    total = sum(p for i, p in probabilities.items() if i in allowed) or 1.0
    return sorted(((i, p / total) for i, p in probabilities.items() if i in allowed),
                  key=lambda item: (item[1], item[0] is not Intent.OTHER), reverse=True)


_CLUE_NAMES = [*(f"lexicon {i.value}" for i in INTENTS), *(f"subject lexicon {i.value}" for i in INTENTS),
               *(f"role {r.value}" for r in _ROLES), "subject is a reply", "tracking number written",
               "order number written"]


def _body(subject: str, text: str) -> str:
    return f"{subject_topic(subject)}\n{text[:_MAX_TEXT]}"


def lexicon_scores(text: str, subject: str) -> tuple[tuple[dict[Intent, float], list[str]], ...]:
    """The lexicon's scores and matched phrases for the newest text and for the subject."""
    body, topic = score([(text[:_MAX_TEXT], 1.0), (subject_topic(subject), 1.0)])
    return body, topic


def clues_of(example: TrainingExample) -> Clues:
    """The clues of a training example, found as in a message (numbers, lexicon scores)."""
    whole = f"{example.subject}\n{example.text}"
    tracking = find_tracking_numbers(whole)
    (body, _), (topic, _) = lexicon_scores(example.text, example.subject)
    return Clues(example.role, subject_topic(example.subject) != example.subject.strip(), bool(tracking),
                 bool(find_order_numbers(whole, [t.number for t in tracking])), body, topic)


def _clue_vector(clues: Clues) -> list[float]:
    values = [math.log1p(clues.lexicon.get(i, 0.0)) for i in INTENTS]
    values += [math.log1p(clues.subject_lexicon.get(i, 0.0)) for i in INTENTS]
    values += [1.0 if clues.role is r else 0.0 for r in _ROLES]
    values += [float(clues.subject_is_reply), float(clues.has_tracking), float(clues.has_order)]
    return [v * _CLUE_WEIGHT for v in values]


def model_key(examples: Sequence[TrainingExample]) -> str:
    """The cache key: training data, lexicons (they are features), code and library versions."""
    h = hashlib.sha256(f"{MODEL_VERSION}|{sklearn.__version__}|{digest(examples)}".encode())
    for path in sorted((rules_dir() / "lexicons").glob("*.yaml")):
        h.update(path.read_bytes())
    return h.hexdigest()[:32]


_loaded: dict[str, IntentModel] = {}


def trained_model(examples: Sequence[TrainingExample], cache_dir: Path) -> IntentModel:
    """The model for `examples`: from this process, else from the disk cache, else trained now
    and cached (written to a temporary file and renamed, so readers never see half a file)."""
    key = model_key(examples)
    if key in _loaded:
        return _loaded[key]
    path = cache_dir / f"intent-{key}.joblib"
    model: IntentModel | None = None
    if path.is_file():
        try:
            loaded = joblib.load(path)
            model = loaded if isinstance(loaded, IntentModel) else None
        except Exception:  # noqa: BLE001 - a damaged cache file is retrained, never fatal
            model = None
    if model is None:
        model = IntentModel().fit(examples)
        _save(model, path)
    _loaded.clear()
    _loaded[key] = model
    return model


def _save(model: IntentModel, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".intent-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            joblib.dump(model, f)
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache only means training again next start
