"""Grouped cross-validation of the intent reader: whole groups (a writer, a template) are held out
together, never single lines, so a fold is scored on wording the model has not seen.

Each held-out example is read as the daemon reads it: the rules known for sure first, then the
model restricted to the intents the role allows. An auto-reply is known by its headers (the
automated test), which training texts do not carry, so those examples are not scored; a
distributor's text is `last_mile_tracking` when it holds a destination carrier's tracking number,
else `other`;
an unknown sender's is `other`. The figures of the model (customer and supplier texts) are
given apart from those of the rules, and for the texts without a context (as every message
read alone) apart; texts written as answers to our replies (a "state") are also read without it,
to show what the context adds. Figures: accuracy, confident precision (accuracy of the answers
at or above the confidence threshold) and coverage (the share of such answers).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from sklearn.model_selection import GroupKFold

from inbox_agent.domain import Intent, Role
from inbox_agent.extract.classifier import IntentModel, clues_of, ranked_intents
from inbox_agent.extract.fitting import IntentFit
from inbox_agent.extract.formats import load_format_book
from inbox_agent.extract.tracking import find_tracking_numbers
from inbox_agent.extract.training import TrainingExample

FOLDS = 5
CURVE_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)  # where the precision/coverage curve is read


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
class Confusion:
    """How often the model gave `given` to texts labelled `labelled`, and how often confidently."""

    labelled: Intent
    given: Intent
    n: int
    confident: int


@dataclass(frozen=True)
class CrossValidation:
    groups: int
    folds: int
    overall: Figures  # the model's answers (customer and supplier texts)
    rules: Figures  # the rules' answers (distributors, unknown senders)
    taught: Figures | None  # the store's taught examples alone, when there are any
    curve: tuple[tuple[float, Figures], ...] = ()  # the model's figures at each of CURVE_THRESHOLDS
    confusions: tuple[Confusion, ...] = ()  # the model's wrong answers by (labelled, given) pair, most first
    stateless: Figures | None = None  # the model's answers for texts without a context
    in_context: tuple[Figures, Figures] | None = None  # texts with a context, read with it and without it


def by_model(example: TrainingExample) -> bool:
    """Whether the model (not a rule) decides this example's intent."""
    return example.role in (Role.CUSTOMER, Role.SUPPLIER)


def read_example(model: IntentModel, example: TrainingExample) -> tuple[Intent, float]:
    """The intent and confidence the daemon would give this example (not an auto-reply)."""
    clues = clues_of(example)
    if example.role is Role.DISTRIBUTOR:
        origin = load_format_book().origin_carriers
        found = find_tracking_numbers(f"{example.subject}\n{example.text}")
        return (Intent.LAST_MILE_TRACKING if any(t.carrier not in origin for t in found) else Intent.OTHER), 1.0
    if not by_model(example):
        return Intent.OTHER, 1.0
    return ranked_intents(model.read(example.text, example.subject, clues).probabilities, example.role)[0]


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
    without_context: list[tuple[TrainingExample, Intent, float]] = []
    for train_index, test_index in GroupKFold(n_splits=folds).split(examples, groups=groups):
        train = [examples[i] for i in train_index if train_on(examples[i])]
        model = IntentFit().fit(train).reader()
        tested = [examples[i] for i in test_index if examples[i].intent is not Intent.AUTO_REPLY]
        answers += [(e, *read_example(model, e)) for e in tested]
        without_context += [(e, *read_example(model, replace(e, state=None))) for e in tested
                            if e.state is not None and by_model(e)]
    model_answers = [a for a in answers if by_model(a[0])]
    taught = [a for a in model_answers if a[0].taught]
    with_context = [a for a in model_answers if a[0].state is not None]
    return CrossValidation(distinct, folds, _figures(model_answers, min_confidence),
                           _figures([a for a in answers if not by_model(a[0])], min_confidence),
                           _figures(taught, min_confidence) if taught else None,
                           tuple((t, _figures(model_answers, t)) for t in CURVE_THRESHOLDS),
                           _confusions(model_answers, min_confidence),
                           _figures([a for a in model_answers if a[0].state is None], min_confidence),
                           (_figures(with_context, min_confidence), _figures(without_context, min_confidence))
                           if with_context else None)


def _figures(answers: Sequence[tuple[TrainingExample, Intent, float]], min_confidence: float) -> Figures:
    n = len(answers)
    right = sum(e.intent is intent for e, intent, _ in answers)
    confident = [(e, intent) for e, intent, p in answers if p >= min_confidence]
    confident_right = sum(e.intent is intent for e, intent in confident)
    return Figures(n, right / n if n else 0.0, confident_right / len(confident) if confident else 0.0,
                   len(confident) / n if n else 0.0)


def _confusions(answers: Sequence[tuple[TrainingExample, Intent, float]],
                min_confidence: float) -> tuple[Confusion, ...]:
    wrong = Counter((e.intent, intent) for e, intent, _ in answers if e.intent is not intent)
    sure = Counter((e.intent, intent) for e, intent, p in answers if e.intent is not intent and p >= min_confidence)
    return tuple(Confusion(labelled, given, n, sure[labelled, given])
                 for (labelled, given), n in sorted(wrong.items(), key=lambda item: (-item[1], item[0])))


def before_after(shipped: Sequence[TrainingExample], taught: Sequence[TrainingExample],
                 min_confidence: float) -> tuple[CrossValidation, CrossValidation]:
    """The same folds over shipped + taught examples, scored by models that learned without the
    taught examples (before) and with them (after)."""
    examples = [*shipped, *taught]
    before = cross_validate(examples, min_confidence, train_on=lambda e: not e.taught)
    after = cross_validate(examples, min_confidence)
    return before, after
