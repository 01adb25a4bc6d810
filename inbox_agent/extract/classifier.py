"""The learned intent reader: a linear model over character and word n-grams, with what is known.

Character n-grams (2 to 5, within words, accents folded) hold up across languages, typos and
missing diacritics; word n-grams add the phrases; the subject has its own words, since a reply's
subject names the old topic. The clues known for sure join them as features: the lexicon's
score per intent for the newest text and for the subject (a store's own phrases count here),
the sender role, whether the subject is a reply, whether a tracking or order number is written.
A linear support vector machine separates the intents (it trains in a second or two); a small
logistic regression over its scores, learned on texts of groups the scoring model had not seen,
turns them into calibrated probabilities. The caller keeps only the intents the sender's role
allows.

Training is deterministic and takes seconds. The fitted model is cached on disk (joblib, under
`[reading] cache_dir`) keyed by a hash of the training data, the lexicons and this code's
version, so it is trained once, at first use, and again only when one of them changes.
"""

from __future__ import annotations

import hashlib
import inspect
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer, strip_accents_unicode
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.svm import LinearSVC

from inbox_agent.domain import CUSTOMER_INTENTS, SUPPLIER_INTENTS, Intent, Role
from inbox_agent.extract.lexicon import Score, score
from inbox_agent.extract.model_cache import cached_model
from inbox_agent.extract.orders import find_order_numbers
from inbox_agent.extract.tracking import find_tracking_numbers
from inbox_agent.extract.training import TrainingExample, digest
from inbox_agent.parse.message import subject_topic
from inbox_agent.rules import rules_dir

INTENTS = tuple(Intent)
_ROLES = tuple(Role)
_C = 0.5
_CALIBRATION_FOLDS = 3
_CALIBRATION_C = 1.0
_CLUE_WEIGHT = 1.0
_MAX_TEXT = 800  # the newest text's start says what it is about; a long tail only costs time
_GRAM_SIZES = (2, 3, 4, 5)
_LONGEST_GRAM = 5
_CHAR_TEXT = 300  # character n-grams (the costly ones) over the subject and the text's start
_WORD_MEMORY = 50_000  # words whose character-gram columns a model keeps while reading (a few MB)


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
    """Vectorizers, the linear model and its calibration, fitted together.

    Reading one message does not go through scikit-learn's batch machinery (its input checks
    cost more than the arithmetic): the fitted vocabularies, idf weights, coefficients and
    calibration are applied directly, with the same results (a test compares both ways).
    """

    def __init__(self) -> None:
        self.chars = TfidfVectorizer(analyzer=char_grams, sublinear_tf=True, min_df=2, dtype=np.float32)
        self.words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), strip_accents="unicode",
                                     token_pattern=r"(?u)\b\w+\b", sublinear_tf=True, dtype=np.float32)
        self.subject_words = TfidfVectorizer(analyzer="word", strip_accents="unicode", token_pattern=r"(?u)\b\w+\b",
                                             sublinear_tf=True, dtype=np.float32)
        self.svm = LinearSVC(C=_C, random_state=0)
        self.calibration = LogisticRegression(C=_CALIBRATION_C, max_iter=1000)
        self.classes: tuple[Intent, ...] = ()
        self._weights = np.zeros((0, 0), dtype=np.float32)  # feature x intent
        self._intercepts = np.zeros(0)
        self._fast: list[tuple[Callable[[str], list[str]], dict[str, int], np.ndarray, int]] | None = None
        self._word_columns: dict[str, tuple[int, ...]] = {}
        self._names: list[str] = []

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_fast"], state["_names"], state["_word_columns"] = None, [], {}  # rebuilt on first use
        return state

    def matrix(self, examples: Sequence[TrainingExample], fit: bool = False) -> sparse.csr_matrix:
        """The feature rows of `examples` through scikit-learn (fitting the vectorizers when asked)."""
        texts = [_body(e.subject, e.text) for e in examples]
        subjects = [subject_topic(e.subject) or "-" for e in examples]
        clues = np.array([_clue_vector(clues_of(e)) for e in examples], dtype=np.float32)
        parts = [(self.chars, [t[:_CHAR_TEXT] for t in texts]), (self.words, texts), (self.subject_words, subjects)]
        blocks = [v.fit_transform(t) if fit else v.transform(t) for v, t in parts]
        return sparse.hstack([*blocks, sparse.csr_matrix(clues)]).tocsr()

    def fit(self, examples: Sequence[TrainingExample]) -> IntentModel:
        """Fit on `examples`. The calibration learns from scores of texts whose group the scoring
        model never saw (grouped folds), so a writer's memorised phrasing does not inflate it."""
        x = self.matrix(examples, fit=True)
        y = np.array([e.intent.value for e in examples])
        classes = sorted(set(y))
        groups = [e.group for e in examples]
        held_out = np.full((len(examples), len(classes)), -1.0)
        folds = min(_CALIBRATION_FOLDS, len(set(groups)))
        if folds >= 2:
            for train, test in GroupKFold(n_splits=folds).split(x, y, groups):
                held_out[test] = _scores_by_class(LinearSVC(C=_C, random_state=0).fit(x[train], y[train]),
                                                  x[test], classes)
        else:
            held_out = _scores_by_class(self.svm.fit(x, y), x, classes)
        self.calibration.fit(held_out, y)
        self.svm.fit(x, y)
        self.classes = tuple(Intent(c) for c in classes)
        self._weights = _scores_by_class_weights(self.svm, classes)
        self._intercepts = _by_class(self.svm.intercept_, list(self.svm.classes_), classes, 0.0)
        return self

    def read(self, text: str, subject: str, clues: Clues, explain: bool = False) -> Reading:
        """Probabilities for one message (newest text and subject as written)."""
        index, values = self._row(_body(subject, text), subject_topic(subject) or "-", clues)
        scores = values @ self._weights[index] + self._intercepts
        logits = self.calibration.coef_ @ scores + self.calibration.intercept_
        exp = np.exp(logits - logits.max())
        probs = exp / exp.sum()
        probabilities = dict.fromkeys(INTENTS, 0.0)
        for intent, p in zip(self.classes, probs, strict=True):
            probabilities[intent] = float(p)
        features = self._weighed(index, values, int(np.argmax(scores))) if explain else []
        return Reading(probabilities, features)

    def _row(self, body: str, topic: str, clues: Clues) -> tuple[np.ndarray, np.ndarray]:
        """The non-zero features of one message: their columns and TF-IDF (or clue) values."""
        if self._fast is None:
            offset, fast = 0, []
            for vectorizer in (self.chars, self.words, self.subject_words):
                fast.append((vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, offset))
                offset += len(vectorizer.vocabulary_)
            self._fast = fast
            self._word_columns = {}
        indices: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for block, ((analyze, vocabulary, idf, offset), text) in enumerate(
                zip(self._fast, (body[:_CHAR_TEXT], body, topic), strict=True)):
            if block == 0:  # the character grams, word by word: mail repeats its words
                counted = Counter(self._char_columns(text, vocabulary))
                columns = np.fromiter(counted, dtype=np.int64, count=len(counted))
                counts = np.fromiter(counted.values(), dtype=np.float64, count=len(counted))
            else:
                grams = Counter(analyze(text))
                found = np.fromiter(map(vocabulary.get, grams, repeat(-1)), dtype=np.int64, count=len(grams))
                known = found >= 0
                columns = found[known]
                counts = np.fromiter(grams.values(), dtype=np.float64, count=len(grams))[known]
            if not len(columns):
                continue
            tfidf = (np.log(counts) + 1.0) * idf[columns]
            indices.append(columns + offset)
            values.append(tfidf / np.sqrt(tfidf @ tfidf))
        clue_offset = self._fast[-1][3] + len(self._fast[-1][1])
        clue_values = np.array(_clue_vector(clues))
        nonzero = np.flatnonzero(clue_values)
        indices.append(nonzero + clue_offset)
        values.append(clue_values[nonzero])
        return np.concatenate(indices), np.concatenate(values)

    def _char_columns(self, text: str, vocabulary: dict[str, int]) -> list[int]:
        """The columns of the known character grams of `text`, in the order `char_grams` gives
        them. Each word's columns are kept (up to `_WORD_MEMORY` words), so a word seen before
        costs one look-up instead of a dozen grams built and looked up."""
        memory = self._word_columns
        columns: list[int] = []
        for word in _normal_words(text):
            known = memory.get(word)
            if known is None:
                if len(memory) >= _WORD_MEMORY:
                    memory.clear()
                found = (vocabulary.get(g) for g in _word_grams(word))
                known = memory[word] = tuple(c for c in found if c is not None)
            columns += known
        return columns

    def _weighed(self, index: np.ndarray, values: np.ndarray, klass: int, top: int = 5) -> list[str]:
        if not self._names:
            self._names = [*(f'chars "{n}"' for n in self.chars.get_feature_names_out()),
                           *(f'words "{n}"' for n in self.words.get_feature_names_out()),
                           *(f'subject "{n}"' for n in self.subject_words.get_feature_names_out()),
                           *_CLUE_NAMES]
        contributions = values * self._weights[index, klass]
        order = np.argsort(contributions)[::-1][:top]
        return [self._names[index[i]] for i in order if contributions[i] > 0]


def _by_class(values: np.ndarray, have: Sequence[str], classes: Sequence[str], missing: float) -> np.ndarray:
    """`values` (last axis in the order of `have`) rearranged into the order of `classes`."""
    position = {c: i for i, c in enumerate(have)}
    out = np.full((*values.shape[:-1], len(classes)), missing, dtype=np.float64)
    for j, c in enumerate(classes):
        if c in position:
            out[..., j] = values[..., position[c]]
    return out


def _scores_by_class(svm: LinearSVC, x: sparse.csr_matrix, classes: Sequence[str]) -> np.ndarray:
    """The SVM's score per class of `classes` (a class it never saw scores -1)."""
    scores = svm.decision_function(x)
    if scores.ndim == 1:  # two classes: one score for the second
        scores = np.stack([-scores, scores], axis=1)
    return _by_class(scores, list(svm.classes_), classes, -1.0)


def _scores_by_class_weights(svm: LinearSVC, classes: Sequence[str]) -> np.ndarray:
    """The SVM's coefficients as a (feature x class) array in the order of `classes`."""
    coef = np.asarray(svm.coef_)
    if coef.shape[0] == 1:
        coef = np.vstack([-coef, coef])
    return _by_class(coef.T, list(svm.classes_), classes, 0.0).astype(np.float32)


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


def char_grams(text: str) -> list[str]:
    """Character 2- to 5-grams within words padded by a space (scikit-learn's `char_wb`, same
    grams), lower-cased and accents folded; written for speed, as it runs on every message."""
    grams: list[str] = []
    for word in _normal_words(text):
        grams += _word_grams(word)
    return grams


def _normal_words(text: str) -> list[str]:
    """The words of `text` lower-cased and accents folded, as the character grams see them."""
    return strip_accents_unicode(text.lower()).split()


def _word_grams(word: str) -> list[str]:
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


def _body(subject: str, text: str) -> str:
    return f"{subject_topic(subject)}\n{text[:_MAX_TEXT]}"


def lexicon_scores(text: str, subject: str) -> tuple[Score, Score]:
    """The lexicon's scores for the newest text and for the subject."""
    body, topic = score([(text[:_MAX_TEXT], 1.0), (subject_topic(subject), 1.0)])
    return body, topic


def clues_of(example: TrainingExample) -> Clues:
    """The clues of a training example, found as in a message (numbers, lexicon scores)."""
    whole = f"{example.subject}\n{example.text}"
    tracking = find_tracking_numbers(whole)
    body, topic = lexicon_scores(example.text, example.subject)
    return Clues(example.role, subject_topic(example.subject) != example.subject.strip(), bool(tracking),
                 bool(find_order_numbers(whole, [t.number for t in tracking])), body.totals, topic.totals)


def _clue_vector(clues: Clues) -> list[float]:
    values = [math.log1p(clues.lexicon.get(i, 0.0)) for i in INTENTS]
    values += [math.log1p(clues.subject_lexicon.get(i, 0.0)) for i in INTENTS]
    values += [1.0 if clues.role is r else 0.0 for r in _ROLES]
    values += [float(clues.subject_is_reply), float(clues.has_tracking), float(clues.has_order)]
    return [v * _CLUE_WEIGHT for v in values]


def model_key(examples: Sequence[TrainingExample]) -> str:
    """The cache key: training data, lexicons (they are features), this code, the order reader's
    code and rules (whether an order number is written is a feature) and the library version."""
    h = hashlib.sha256(f"{sklearn.__version__}|{digest(examples)}".encode())
    h.update(Path(__file__).read_bytes())
    h.update(Path(inspect.getfile(find_order_numbers)).read_bytes())
    h.update((rules_dir() / "orders.yaml").read_bytes())
    for path in sorted((rules_dir() / "lexicons").glob("*.yaml")):
        h.update(path.read_bytes())
    return h.hexdigest()[:32]


def trained_model(examples: Sequence[TrainingExample], cache_dir: Path) -> IntentModel:
    """The model for `examples`, trained at first use and cached (extract/model_cache.py)."""
    return cached_model("intent", model_key(examples), cache_dir, IntentModel, lambda: IntentModel().fit(examples))
