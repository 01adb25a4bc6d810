"""The one intent of a message, with how sure the reader is of it.

What is known for sure decides first (corpus policy):
1. machine-generated -> auto_reply (overrides everything);
2. a distributor -> last_mile_tracking when it states a last-mile (destination) tracking number in
   its newest text or subject (numbers of carriers out of China are first-mile ones), else other;
3. an unknown sender (a cold pitch, a bulk or billing mailing) -> other;
4. a store's override phrase (a lexicon weight of 8 or more) in the newest text -> its intent.
Otherwise the learned model (extract/classifier.py) reads the newest text and the subject (with
the case's context, our last reply to the sender's party, when the daemon knows it), and
only the intents of the sender's role count: supplier intents for a supplier, customer intents
for anyone else, `other` for both. Its probability, renormalised over those, is the confidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from inbox_agent.config import ReadingConfig
from inbox_agent.domain import CUSTOMER_INTENTS, SUPPLIER_INTENTS, Intent, Role
from inbox_agent.extract.classifier import Clues, IntentModel, files_model, lexicon_scores, ranked_intents, read_subject
from inbox_agent.extract.context import ReplyContext
from inbox_agent.extract.lexicon import bare_thanks
from inbox_agent.extract.llm import llm_reader
from inbox_agent.extract.training import TRAINING_FOLDER, TrainingExample, TrainingFiles, load_examples, training_files
from inbox_agent.parse.message import subject_topic
from inbox_agent.rules import rules_dir

MIN_KNOWN_WORDS = 0.3  # under this share of known words (classifier.py `known_words`) a reading is unsure


@dataclass(frozen=True)
class IntentReading:
    intent: Intent
    confidence: float  # 0..1: the reader's probability of `intent`
    guesses: tuple[tuple[Intent, float], ...]  # the two best intents with their probabilities
    why: list[str]


def shipped_examples() -> list[TrainingExample]:
    """The labelled texts of the rules directory (`rules/training/*.jsonl`)."""
    return load_examples(training_files([rules_dir() / TRAINING_FOLDER]))


def taught_examples(reading: ReadingConfig) -> list[TrainingExample]:
    """The examples a store's agents taught (`[reading] examples`)."""
    return load_examples(training_files([Path(reading.examples)]), taught=True)


def training_set(reading: ReadingConfig) -> TrainingFiles:
    """The files of the shipped and the taught examples, read now."""
    return TrainingFiles.read(training_files([rules_dir() / TRAINING_FOLDER]), training_files([Path(reading.examples)]))


def intent_model(reading: ReadingConfig) -> IntentModel:
    """The model trained on the shipped and the taught examples (cached; see classifier.py)."""
    return _model(str(rules_dir()), reading)


@lru_cache(maxsize=4)
def _model(_rules: str, reading: ReadingConfig) -> IntentModel:
    return files_model(training_set(reading), reading.cache_path())


def classify_intent(
    role: Role,
    automated: bool,
    new_text: str,
    subject: str,
    new_last_mile: bool,
    numbers: tuple[bool, bool],
    reading: ReadingConfig,
    explain: bool = False,
    context: ReplyContext | None = None,
) -> IntentReading:
    """The intent of the newest text + subject; `numbers` says whether a tracking and an order
    number are written in the message, `context` what we last sent the sender in the case."""
    if automated:
        return _sure(Intent.AUTO_REPLY, ["machine-generated message"])
    body, topic = lexicon_scores(new_text, read_subject(subject, context))
    why = [f"lexicon {w}" for w in body.why] + [f"lexicon subject {w}" for w in topic.why]
    if role is Role.DISTRIBUTOR:
        if new_last_mile:
            return _sure(Intent.LAST_MILE_TRACKING, [*why, "distributor states a last-mile tracking number"])
        return _sure(Intent.OTHER, [*why, "distributor without a last-mile tracking number"])
    if role is Role.UNKNOWN:
        return _sure(Intent.OTHER, [*why, "unknown sender (cold or bulk mail)"])
    allowed = (SUPPLIER_INTENTS if role is Role.SUPPLIER else CUSTOMER_INTENTS) | {Intent.OTHER}
    overrides = sorted(body.overrides & allowed, key=lambda i: -body.totals.get(i, 0.0))
    if overrides:
        return _sure(overrides[0], [*why, f"a store's override phrase of {overrides[0].value}"])
    if bare_thanks(new_text):
        return _sure(Intent.OTHER, [*why, "a bare thanks: it says nothing of the parcel"])
    clues = Clues(role, subject.strip() != subject_topic(subject), numbers[0], numbers[1], body.totals, topic.totals,
                  context)
    model = intent_model(reading)
    read = model.read(new_text, subject, clues)
    ranked = ranked_intents(read.probabilities, role)
    best, confidence = ranked[0]
    known = model.known_words(new_text)
    if known < MIN_KNOWN_WORDS:  # a language it was not trained on: as sure as the words it knows
        confidence *= known / MIN_KNOWN_WORDS
        why.append(f"model: {known:.0%} of the newest text's words known, a language it was not trained on")
    if confidence < reading.min_confidence and reading.llm.enabled:
        best, confidence = _second_opinion(new_text, subject, ranked, reading, why)
    if explain or confidence < reading.min_confidence:
        weighed = model.telling_features(read)
        why.append("model: " + ", ".join(weighed) if weighed else "model: no telling feature")
    if context is not None:
        why.append(f"model: read as an answer to our last message ({context.value})")
    why.append("model: " + ", ".join(f"{i.value} {p:.2f}" for i, p in ranked[:2]))
    return IntentReading(best, confidence, tuple(ranked[:2]), why)


def _second_opinion(new_text: str, subject: str, ranked: list[tuple[Intent, float]], reading: ReadingConfig,
                    why: list[str]) -> tuple[Intent, float]:
    """Ask the LLM reader; its answer counts only when it is one of the two best local guesses (then
    the intent is confident, at the threshold); otherwise the message stays unsure."""
    answer = llm_reader(reading.llm).ask(new_text, subject, [i for i, _ in ranked])
    why.append(f"llm: {answer.note}")
    best, confidence = ranked[0]
    if answer.intent is not None and answer.intent in {i for i, _ in ranked[:2]}:
        return answer.intent, max(reading.min_confidence, dict(ranked)[answer.intent])
    return best, confidence


def _sure(intent: Intent, why: list[str]) -> IntentReading:
    return IntentReading(intent, 1.0, ((intent, 1.0),), why)
