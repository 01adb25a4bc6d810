"""Training the learned readers with scikit-learn, and turning each fit into its plain-data reader.

The only module that imports scikit-learn (and through it SciPy). The daemon and `inbox-agent
parse` never import it: a reader missing from the cache is trained by running this module in a
child process (`python -m inbox_agent.extract.fitting KIND PATH`, the examples on standard input,
one JSON object a line), which saves it to PATH atomically. `inbox-agent learn` and
benchmarks/intent_cv.py use it directly.

The intent reader: TF-IDF over character grams (extract/tfidf.py's `char_grams`), word 1-2-grams
and subject words, with the clues as extra columns; a linear SVM, and a logistic regression over
its scores learned on texts of groups the scoring model never saw (grouped folds), so a writer's
memorised phrasing does not inflate the calibration. The stranger reader: TF-IDF over the
character and word grams of the subject and text, and a balanced logistic regression.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline, make_union
from sklearn.svm import LinearSVC

from inbox_agent.domain import Intent, Role
from inbox_agent.extract import classifier, stranger
from inbox_agent.extract.classifier import Calibration, IntentModel, clue_vector, clues_of, model_texts, read_subject
from inbox_agent.extract.model_cache import read_examples, save
from inbox_agent.extract.stranger import StrangerModel
from inbox_agent.extract.tfidf import Analyzer, TfidfStack, char_grams
from inbox_agent.extract.training import TrainingExample

_INTENT_C = 0.5
_CALIBRATION_FOLDS = 3
_CALIBRATION_C = 1.0
_STRANGER_C = 16.0
_TOKEN_PATTERN = r"(?u)\b\w+\b"


class IntentFit:
    """The intent reader's vectorizers, linear model and calibration, fitted together."""

    def __init__(self) -> None:
        self.chars = TfidfVectorizer(analyzer=char_grams, sublinear_tf=True, min_df=2, dtype=np.float32)
        self.words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), strip_accents="unicode", min_df=2,
                                     token_pattern=_TOKEN_PATTERN, sublinear_tf=True, dtype=np.float32)
        self.subject_words = TfidfVectorizer(analyzer="word", strip_accents="unicode", token_pattern=_TOKEN_PATTERN,
                                             sublinear_tf=True, dtype=np.float32)
        self.svm = LinearSVC(C=_INTENT_C, random_state=0)
        self.calibration = LogisticRegression(C=_CALIBRATION_C, max_iter=1000)
        self.classes: list[str] = []

    def matrix(self, examples: Sequence[TrainingExample], fit: bool = False) -> sparse.csr_matrix:
        """The feature rows of `examples` (fitting the vectorizers when asked)."""
        texts = list(zip(*(model_texts(read_subject(e.subject, e.state), e.text) for e in examples), strict=True))
        clues = np.array([clue_vector(clues_of(e)) for e in examples], dtype=np.float32)
        parts = zip((self.chars, self.words, self.subject_words), texts, strict=True)
        blocks = [v.fit_transform(t) if fit else v.transform(t) for v, t in parts]
        return sparse.hstack([*blocks, sparse.csr_matrix(clues)]).tocsr()

    def fit(self, examples: Sequence[TrainingExample]) -> IntentFit:
        """Fit on `examples`; the calibration learns from held-out scores (grouped folds)."""
        x = self.matrix(examples, fit=True)
        y = np.array([e.intent.value for e in examples])
        classes = sorted(set(y))
        groups = [e.group for e in examples]
        held_out = np.full((len(examples), len(classes)), -1.0)
        folds = min(_CALIBRATION_FOLDS, len(set(groups)))
        if folds >= 2:
            for train, test in GroupKFold(n_splits=folds).split(x, y, groups):
                held_out[test] = _scores_by_class(LinearSVC(C=_INTENT_C, random_state=0).fit(x[train], y[train]),
                                                  x[test], classes)
        else:
            held_out = _scores_by_class(self.svm.fit(x, y), x, classes)
        self.calibration.fit(held_out, y)
        self.svm.fit(x, y)
        self.classes = classes
        return self

    def probabilities(self, examples: Sequence[TrainingExample]) -> np.ndarray:
        """scikit-learn's probabilities for `examples` (example x class, in the order of `classes`)."""
        return self.calibration.predict_proba(_scores_by_class(self.svm, self.matrix(examples), self.classes))

    def reader(self) -> IntentModel:
        """The fitted model as plain data."""
        grams = TfidfStack([_block(self.chars, Analyzer.CHARS), _block(self.words, Analyzer.WORDS),
                            _block(self.subject_words, Analyzer.SINGLE_WORDS)])
        coef, intercept = np.asarray(self.svm.coef_), np.asarray(self.svm.intercept_)
        if coef.shape[0] == 1:  # two classes: one score, for the second
            coef, intercept = np.vstack([-coef, coef]), np.array([-intercept[0], intercept[0]])
        have = [str(c) for c in self.svm.classes_]
        weights = _by_class(coef.T, have, self.classes, 0.0).astype(np.float32)
        intercepts = _by_class(intercept, have, self.classes, 0.0)
        calibration = _calibration(self.calibration, self.classes)
        return IntentModel(grams, weights, intercepts, calibration, [Intent(c) for c in self.classes])


class StrangerFit:
    """The stranger reader's scikit-learn pipeline (TF-IDF union, logistic regression)."""

    def __init__(self) -> None:
        self.pipeline: Pipeline = make_pipeline(
            make_union(TfidfVectorizer(analyzer=char_grams, sublinear_tf=True, min_df=2),
                       TfidfVectorizer(ngram_range=(1, 2), strip_accents="unicode", sublinear_tf=True,
                                       token_pattern=_TOKEN_PATTERN, min_df=2)),
            LogisticRegression(C=_STRANGER_C, class_weight="balanced", max_iter=2000))

    def fit(self, examples: Sequence[TrainingExample]) -> StrangerFit:
        people = [e for e in examples if e.role in (Role.CUSTOMER, Role.UNKNOWN)]
        labels = np.array([e.role is Role.UNKNOWN for e in people])
        if labels.all() or not labels.any():
            raise ValueError("the stranger reader needs texts of both customers and strangers")
        self.pipeline.fit([stranger.model_text(e.subject, e.text) for e in people], labels)
        return self

    def probabilities(self, texts: Sequence[tuple[str, str]]) -> np.ndarray:
        """scikit-learn's stranger probability for each (subject, text)."""
        return self.pipeline.predict_proba([stranger.model_text(s, t) for s, t in texts])[:, 1]

    def reader(self) -> StrangerModel:
        """The fitted model as plain data."""
        union: FeatureUnion = self.pipeline.steps[0][1]
        regression: LogisticRegression = self.pipeline.steps[1][1]
        (_, chars), (_, words) = union.transformer_list
        weights = np.asarray(regression.coef_[0], dtype=np.float64)
        return StrangerModel(TfidfStack([_block(chars, Analyzer.CHARS), _block(words, Analyzer.WORDS)]), weights,
                             float(regression.intercept_[0]))


def _block(vectorizer: TfidfVectorizer, analyzer: Analyzer) -> tuple[Analyzer, list[str], np.ndarray]:
    """A fitted vectorizer's analyzer, grams in column order and idf weights."""
    names = [str(n) for n in vectorizer.get_feature_names_out()]
    return analyzer, names, np.asarray(vectorizer.idf_, dtype=np.float64)


def _calibration(regression: LogisticRegression, classes: Sequence[str]) -> Calibration:
    """The logistic regression as softmax coefficients (a binary one's single logit becomes the
    second class's, against zero for the first, which gives the same probabilities)."""
    if [str(c) for c in regression.classes_] != list(classes):
        raise ValueError("the calibration learned other classes than the scoring model")
    coef, intercept = np.asarray(regression.coef_), np.asarray(regression.intercept_)
    if coef.shape[0] == 1:
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.array([0.0, intercept[0]])
    return Calibration(coef, intercept)


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


def fit_reader(kind: str, examples: Sequence[TrainingExample]) -> IntentModel | StrangerModel:
    """The plain reader of `kind` ("intent" or "stranger") fitted on `examples`."""
    if kind == classifier.KIND:
        return IntentFit().fit(examples).reader()
    if kind == stranger.KIND:
        return StrangerFit().fit(examples).reader()
    raise ValueError(f"no reader named {kind!r}")


def main(argv: Sequence[str]) -> int:
    """`python -m inbox_agent.extract.fitting KIND PATH`: fit on the examples of standard input, save to PATH."""
    if len(argv) != 2:
        print("usage: python -m inbox_agent.extract.fitting intent|stranger PATH < examples.jsonl", file=sys.stderr)
        return 2
    kind, path = argv
    save(fit_reader(kind, read_examples(sys.stdin)), Path(path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
