"""Grouped cross-validation of the intent reader: whole groups (a writer, a template) are held out
together, never single lines, so a fold is scored on wording the model has not seen.

Each held-out example is read as the daemon reads it: the rules known for sure first (an
automated sender is an auto-reply, a distributor gives a last-mile number or `other`, an unknown
sender is `other`), then the model restricted to the intents the role allows. Figures: accuracy,
confident precision (accuracy of the answers at or above the confidence threshold) and coverage
(the share of such answers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sklearn.model_selection import GroupKFold

from inbox_agent.domain import Intent, Role
from inbox_agent.extract.classifier import IntentModel, clues_of, ranked_intents
from inbox_agent.extract.training import TrainingExample

FOLDS = 5


@dataclass(frozen=True)
class Figures:
    n: int
    accuracy: float
    confident_precision: float
    coverage: float

    def line(self) -> str:
        return (f"accuracy {self.accuracy:.3f}  confident precision {self.confident_precision:.3f}  "
                f"coverage {self.coverage:.3f}  ({self.n} texts)")


@dataclass(frozen=True)
class CrossValidation:
    groups: int
    folds: int
    overall: Figures
    taught: Figures | None  # the store's taught examples alone, when there are any


def read_example(model: IntentModel, example: TrainingExample) -> tuple[Intent, float]:
    """The intent and confidence the daemon would give this example."""
    clues = clues_of(example)
    if example.role is Role.AUTOMATED:
        return Intent.AUTO_REPLY, 1.0
    if example.role is Role.DISTRIBUTOR:
        return (Intent.LAST_MILE_TRACKING if clues.has_tracking else Intent.OTHER), 1.0
    if example.role is Role.UNKNOWN:
        return Intent.OTHER, 1.0
    return ranked_intents(model, example.text, example.subject, clues)[0]


def cross_validate(
    examples: Sequence[TrainingExample],
    min_confidence: float,
    train_on: Callable[[TrainingExample], bool] = lambda e: True,
    folds: int = FOLDS,
) -> CrossValidation:
    """Grouped k-fold over `examples`; each fold's model learns from the training part's examples
    that `train_on` keeps (so "before" leaves the taught ones out) and is scored on the rest."""
    groups = [e.group for e in examples]
    distinct = len(set(groups))
    folds = max(2, min(folds, distinct))
    answers: list[tuple[TrainingExample, Intent, float]] = []
    for train_index, test_index in GroupKFold(n_splits=folds).split(examples, groups=groups):
        train = [examples[i] for i in train_index if train_on(examples[i])]
        model = IntentModel().fit(train)
        answers += [(examples[i], *read_example(model, examples[i])) for i in test_index]
    taught = [a for a in answers if a[0].taught]
    return CrossValidation(distinct, folds, _figures(answers, min_confidence),
                           _figures(taught, min_confidence) if taught else None)


def _figures(answers: Sequence[tuple[TrainingExample, Intent, float]], min_confidence: float) -> Figures:
    n = len(answers)
    right = sum(e.intent is intent for e, intent, _ in answers)
    confident = [(e, intent) for e, intent, p in answers if p >= min_confidence]
    confident_right = sum(e.intent is intent for e, intent in confident)
    return Figures(n, right / n if n else 0.0, confident_right / len(confident) if confident else 0.0,
                   len(confident) / n if n else 0.0)


def before_after(shipped: Sequence[TrainingExample], taught: Sequence[TrainingExample],
                 min_confidence: float) -> tuple[CrossValidation, CrossValidation]:
    """The same folds over shipped + taught examples, scored by models that learned without the
    taught examples (before) and with them (after)."""
    examples = [*shipped, *taught]
    before = cross_validate(examples, min_confidence, train_on=lambda e: not e.taught)
    after = cross_validate(examples, min_confidence)
    return before, after
