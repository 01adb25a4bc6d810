"""Order numbers: the store's own (presented as an order) and marketplace orders (16 digits).

A store order needs an order word or mark before it (rules/orders.yaml): a bare 4-digit number
is a year, a house number or a price as often as an order. A store that writes its references
with its own letters (`[store] order_prefix`, e.g. "BP") has its bare references count too:
"BP2051", "BP-2051", "#BP 2051" in a table cell, a subject or after "your ref" give 2051. Numbers
that are part of a tracking number are never orders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from inbox_agent.extract.patterns import CaselessSet, caseless
from inbox_agent.rules import load_rules_file

_BEFORE = 28


@dataclass(frozen=True)
class _OrderRules:
    patterns: CaselessSet  # the store patterns, then the marketplace one (last)
    not_store_before: re.Pattern[str]
    marketplace_exclude: tuple[re.Pattern[str], ...]
    not_marketplace_before: re.Pattern[str]


@lru_cache(maxsize=1)
def _rules() -> _OrderRules:
    data = load_rules_file("orders.yaml")
    flags = re.IGNORECASE
    return _OrderRules(
        patterns=CaselessSet([
            *(caseless(p) for p in data["store_patterns"]),
            caseless(rf"(?<![\d.,]){data['marketplace_digits']}(?![\d.,]\d)"),
        ]),
        not_store_before=re.compile(
            rf"(?:{data['not_store_before']})(?:[^\S\n]*(?:number|no|nr|n[°º]|id|ref))?[^\S\n]*[:.]?[^\S\n]*$", flags
        ),
        marketplace_exclude=tuple(re.compile(p) for p in data["marketplace_exclude"]),
        not_marketplace_before=re.compile(rf"(?:{data['not_marketplace_before']})\W*$", flags),
    )


@lru_cache(maxsize=8)
def _prefixed(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(prefix)}[^\S\n]?[-#]?[^\S\n]?(\d{{3,7}})(?![\d.,]\d|[A-Za-z])",
                      re.IGNORECASE)


def find_order_numbers(text: str, tracking_numbers: list[str], prefix: str = "") -> list[str]:
    """Order numbers in `text` in order of first appearance, without duplicates (`prefix`: the
    store's own letters before its references, which then count without an order word)."""
    rules = _rules()
    hits: list[tuple[int, str]] = []
    lower = text.lower()
    if prefix:
        hits += [(m.start(1), m.group(1)) for m in _prefixed(prefix).finditer(text)]
    marketplace = len(rules.patterns.members) - 1
    for index in rules.patterns.candidates(text, lower):
        matches = rules.patterns.members[index].finditer(text, lower)
        if index == marketplace:
            hits += _marketplace_hits(text, matches, rules)
        else:
            hits += _store_hits(text, matches, rules)
    ordered = [n for _, n in sorted(hits)]
    return [n for n in dict.fromkeys(ordered) if not any(n in t for t in tracking_numbers)]


def _store_hits(text: str, matches: list[re.Match[str]], rules: _OrderRules) -> list[tuple[int, str]]:
    """Store orders, unless the words before the number make it a ticket, an invoice, an item..."""
    hits = []
    for m in matches:
        before = text[max(0, m.start() - _BEFORE) : m.start()]
        if rules.not_store_before.search(before + text[m.start() : m.start(1)].split("#")[0]):
            continue
        hits.append((m.start(1), m.group(1)))
    return hits


def _marketplace_hits(text: str, matches: list[re.Match[str]], rules: _OrderRules) -> list[tuple[int, str]]:
    """Marketplace orders, unless the number is a product id or follows a refund, card, phone..."""
    hits = []
    for m in matches:
        number = m.group(0)
        if any(p.search(number) for p in rules.marketplace_exclude):
            continue
        if rules.not_marketplace_before.search(text[max(0, m.start() - 20) : m.start()]):
            continue
        hits.append((m.start(), number))
    return hits
