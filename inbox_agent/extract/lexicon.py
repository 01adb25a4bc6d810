"""Intent lexicons: rules/lexicons/<lang>.yaml, each mapping intents to weighted phrase patterns.

All languages are scored together, so a message is read right even when its language is
misdetected or mixed. `score()` returns the total weight per intent and the phrases that matched
(the `why` of `--explain`).

A phrase weighing OVERRIDE_WEIGHT or more is a store's override: when it matches the newest
text (and no negation cancels it) its intent is the answer, whatever the learned reader thinks.
The shipped lexicons weigh less, so they only inform the learned reader.

A file may also name its negation words and the intents they cancel (`negation:`): a phrase of
such an intent does not count when a negation word is in it or just before it in the same
clause ("ist nicht angekommen", "the parcel never arrived", "niet aangekomen" are no receipts,
"we can not resend" is no reshipment). A clause ends at punctuation and at the file's contrast
words (`until`: "we cannot resend but we refund you" still refunds). Its `thanks:` pattern is a
whole text that only thanks (`bare_thanks`), which is `other` however the thread reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from inbox_agent.domain import Intent
from inbox_agent.errors import ConfigError
from inbox_agent.extract.patterns import Caseless, CaselessSet, caseless
from inbox_agent.rules import load_rules_file, rules_dir

_NEGATION_REACH = 30
OVERRIDE_WEIGHT = 8.0
_THANKS_LONGEST = 60  # characters: a longer text says more than thanks
_EDGES = re.compile(r"^\W+|\W+$")  # punctuation, blanks and emoji around a text


@dataclass(frozen=True)
class Negation:
    words: Caseless
    until: Caseless | None


@dataclass(frozen=True)
class Phrase:
    intent: Intent
    pattern: Caseless
    weight: float
    language: str
    negation: Negation | None = None  # what cancels this phrase (its language's, if any)


@dataclass(frozen=True)
class Lexicon:
    """Every language's phrases, and one alternation of their `thanks:` patterns (None: none)."""

    phrases: tuple[Phrase, ...]
    thanks: re.Pattern[str] | None


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    phrases: list[Phrase] = []
    thanks: list[str] = []
    for path in sorted((rules_dir() / "lexicons").glob("*.yaml")):
        data = load_rules_file(f"lexicons/{path.name}")
        language = str(data.get("language", path.stem))
        negation, negated = _negation(path, data.get("negation"))
        for intent_name, patterns in (data.get("intents") or {}).items():
            try:
                intent = Intent(intent_name)
            except ValueError:
                raise ConfigError(str(path), f"intents.{intent_name}", "not an intent name") from None
            for pattern, weight in patterns.items():
                try:
                    compiled = caseless(pattern)
                except re.error as e:
                    raise ConfigError(str(path), f"intents.{intent_name}", f"bad pattern {pattern!r}: {e}") from None
                phrases.append(Phrase(intent, compiled, float(weight), language,
                                      negation if intent in negated else None))
        if pattern := data.get("thanks"):
            try:
                re.compile(str(pattern))
            except re.error as e:
                raise ConfigError(str(path), "thanks", f"bad pattern: {e}") from None
            thanks.append(f"(?:{pattern})")
    return Lexicon(tuple(phrases), re.compile("|".join(thanks), re.IGNORECASE) if thanks else None)


def _negation(path: Path, spec: Any) -> tuple[Negation | None, set[Intent]]:
    """The `negation:` block of one file: its words, contrast words and the intents it cancels."""
    if spec is None:
        return None, set()
    try:
        until = caseless(str(spec["until"])) if spec.get("until") else None
        return Negation(caseless(str(spec["words"])), until), {Intent(name) for name in spec["intents"]}
    except re.error as e:
        raise ConfigError(str(path), "negation", f"bad pattern: {e}") from None
    except (KeyError, TypeError, AttributeError) as e:
        raise ConfigError(str(path), "negation", f"needs `words` (a pattern) and `intents` (a list): {e}") from None
    except ValueError as e:
        raise ConfigError(str(path), "negation", str(e)) from None


def bare_thanks(text: str) -> bool:
    """Whether the whole text only thanks ("Thanks!", "Merci beaucoup 🙏", "ok bedankt"): it says
    nothing of the parcel, whatever the thread."""
    if len(text) > _THANKS_LONGEST:
        return False
    core = " ".join(_EDGES.sub("", text).split())
    pattern = load_lexicon().thanks
    return bool(core) and pattern is not None and pattern.fullmatch(core) is not None


@lru_cache(maxsize=1)
def _phrase_set() -> CaselessSet:
    return CaselessSet([p.pattern for p in load_lexicon().phrases])


@dataclass(frozen=True)
class Score:
    totals: dict[Intent, float]  # weight per intent
    why: list[str]  # the matched phrases as 'intent: "words" (language)'
    overrides: frozenset[Intent]  # intents of matched phrases weighing OVERRIDE_WEIGHT or more


def score(parts: Sequence[tuple[str, float]]) -> list[Score]:
    """For each (text, factor): the weight per intent over the text, the matched phrases and the
    overriding intents. The texts share one pass of the phrase filter.

    Within one language the weights of matching phrases add up; across languages the best
    language counts, so look-alike words ("refuse", "refus") are not counted twice.
    """
    phrases = load_lexicon().phrases
    texts = [text for text, _ in parts]
    results = []
    for (text, factor), matches in zip(parts, _phrase_set().searches_each(texts), strict=True):
        per_language: dict[tuple[Intent, str], float] = {}
        why: list[str] = []
        overrides: set[Intent] = set()
        for index, m in matches:
            phrase = phrases[index]
            if phrase.negation is not None and _negated(phrase.negation, text, m):
                why.append(f'{phrase.intent.value}: "{m.group(0)}" ({phrase.language}) cancelled by a negation')
                continue
            key = (phrase.intent, phrase.language)
            per_language[key] = per_language.get(key, 0.0) + phrase.weight * factor
            if phrase.weight >= OVERRIDE_WEIGHT:
                overrides.add(phrase.intent)
            why.append(f'{phrase.intent.value}: "{m.group(0)}" ({phrase.language})')
        totals: dict[Intent, float] = {}
        for (intent, _), value in per_language.items():
            totals[intent] = max(totals.get(intent, 0.0), value)
        results.append(Score(totals, why, frozenset(overrides)))
    return results


def _negated(negation: Negation, text: str, m: re.Match[str]) -> bool:
    """Whether a negation word is in the match or before it in the same clause (at most
    `_NEGATION_REACH` characters back, never past . , ; ! ?, a line break or a contrast word)."""
    start = max(0, m.start() - _NEGATION_REACH)
    clause_start = max(start, *(text.rfind(c, start, m.start()) + 1 for c in ".,;!?\n"))
    if negation.until is not None:
        before = text[clause_start : m.start()]
        contrasts = negation.until.finditer(before, before.lower())
        if contrasts:
            clause_start += contrasts[-1].end()
    piece = text[clause_start : m.end()]
    return negation.words.search(piece, piece.lower()) is not None
