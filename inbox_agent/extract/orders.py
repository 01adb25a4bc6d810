"""Order numbers: the store's own (presented as an order) and marketplace orders (16 digits).

A store order needs an order word or mark before it (rules/orders.yaml): a bare 4-digit number
is a year, a house number or a price as often as an order. Numbers that are part of a tracking
number are never orders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from inbox_agent.extract.patterns import Caseless, caseless
from inbox_agent.rules import load_rules_file

_BEFORE = 28


@dataclass(frozen=True)
class _OrderRules:
    store: tuple[Caseless, ...]
    not_store_before: re.Pattern[str]
    marketplace: re.Pattern[str]
    marketplace_exclude: tuple[re.Pattern[str], ...]
    not_marketplace_before: re.Pattern[str]


@lru_cache(maxsize=1)
def _rules() -> _OrderRules:
    data = load_rules_file("orders.yaml")
    flags = re.IGNORECASE
    return _OrderRules(
        store=tuple(caseless(p) for p in data["store_patterns"]),
        not_store_before=re.compile(
            rf"(?:{data['not_store_before']})(?:[^\S\n]*(?:number|no|nr|n[°º]|id|ref))?[^\S\n]*[:.]?[^\S\n]*$", flags
        ),
        marketplace=re.compile(rf"(?<![\d.,]){data['marketplace_digits']}(?![\d.,]\d)"),
        marketplace_exclude=tuple(re.compile(p) for p in data["marketplace_exclude"]),
        not_marketplace_before=re.compile(rf"(?:{data['not_marketplace_before']})\W*$", flags),
    )


def find_order_numbers(text: str, tracking_numbers: list[str]) -> list[str]:
    """Order numbers in `text` in order of first appearance, without duplicates."""
    rules = _rules()
    hits: list[tuple[int, str]] = []
    lower = text.lower()
    for pattern in rules.store:
        for m in pattern.finditer(text, lower):
            number = m.group(1)
            hash_at = m.start(1)
            before = text[max(0, m.start() - _BEFORE) : m.start()]
            if rules.not_store_before.search(before + text[m.start() : hash_at].split("#")[0]):
                continue
            hits.append((m.start(1), number))
    for m in rules.marketplace.finditer(text):
        number = m.group(0)
        if any(p.search(number) for p in rules.marketplace_exclude):
            continue
        if rules.not_marketplace_before.search(text[max(0, m.start() - 20) : m.start()]):
            continue
        hits.append((m.start(), number))
    ordered = [n for _, n in sorted(hits)]
    return [n for n in dict.fromkeys(ordered) if not any(n in t for t in tracking_numbers)]
