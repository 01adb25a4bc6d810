"""Intent lexicons: rules/lexicons/<lang>.yaml, each mapping intents to weighted phrase patterns.

All languages are scored together, so a message is read right even when its language is
misdetected or mixed. `score()` returns the total weight per intent and the phrases that matched
(the `why` of `--explain`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from inbox_agent.domain import Intent
from inbox_agent.errors import ConfigError
from inbox_agent.extract.patterns import Caseless, CaselessSet, caseless
from inbox_agent.rules import load_rules_file, rules_dir


@dataclass(frozen=True)
class Phrase:
    intent: Intent
    pattern: Caseless
    weight: float
    language: str


@lru_cache(maxsize=1)
def load_lexicon() -> tuple[Phrase, ...]:
    phrases: list[Phrase] = []
    for path in sorted((rules_dir() / "lexicons").glob("*.yaml")):
        data = load_rules_file(f"lexicons/{path.name}")
        language = str(data.get("language", path.stem))
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
                phrases.append(Phrase(intent, compiled, float(weight), language))
    return tuple(phrases)


@lru_cache(maxsize=1)
def _phrase_set() -> CaselessSet:
    return CaselessSet([p.pattern for p in load_lexicon()])


def score(text: str, factor: float = 1.0) -> tuple[dict[Intent, float], list[str]]:
    """Weight per intent over `text`, and the matched phrases as 'intent: "words"'.

    Within one language the weights of matching phrases add up; across languages the best
    language counts, so look-alike words ("refuse", "refus") are not counted twice.
    """
    per_language: dict[tuple[Intent, str], float] = {}
    why: list[str] = []
    phrases = load_lexicon()
    for index, m in _phrase_set().searches(text, text.lower()):
        phrase = phrases[index]
        key = (phrase.intent, phrase.language)
        per_language[key] = per_language.get(key, 0.0) + phrase.weight * factor
        why.append(f'{phrase.intent.value}: "{m.group(0)}" ({phrase.language})')
    totals: dict[Intent, float] = {}
    for (intent, _), value in per_language.items():
        totals[intent] = max(totals.get(intent, 0.0), value)
    return totals, why

