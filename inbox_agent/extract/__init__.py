"""ParsedEmail -> Extraction: intent, sender role, language, order and tracking numbers.

The same functions serve `inbox-agent parse` and the daemon. Numbers count anywhere in the
message (subject, body, quotes, attached messages); intent and language come from the sender's
newest text only. Once the daemon has placed a message in a case, `read_in_context` reads its
intent again with the case's context (extract/context.py), which a lone message does not have.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from inbox_agent.config import PartiesConfig, ReadingConfig
from inbox_agent.domain import Intent, Role
from inbox_agent.extract.context import ReplyContext
from inbox_agent.extract.formats import load_format_book
from inbox_agent.extract.intent import IntentReading, classify_intent, intent_model
from inbox_agent.extract.language import detect_language
from inbox_agent.extract.orders import find_order_numbers
from inbox_agent.extract.patterns import Caseless, CaselessSet, caseless
from inbox_agent.extract.role import classify_role
from inbox_agent.extract.stranger import STRANGER_PROBABILITY, store_stranger_model
from inbox_agent.extract.tracking import FoundNumber, find_tracking_numbers
from inbox_agent.parse.automated import machine_markers
from inbox_agent.parse.message import ParsedEmail, subject_words
from inbox_agent.rules import load_rules_file

# Numbers are sought in this many characters of a message's text, from its start: a mail's numbers
# stand near its start or in a quote under it, and megabytes of a hostile sender's digits would
# otherwise cost seconds each (about 0.7 s of CPU a megabyte)
NUMBERS_TEXT_CHARS = 1_000_000


@dataclass(frozen=True)
class Extraction:
    intent: Intent
    intent_confidence: float
    intent_confident: bool
    guesses: tuple[tuple[Intent, float], ...]  # the reader's two best intents, best first
    role: Role
    language: str | None
    order_numbers: tuple[str, ...]
    tracking: tuple[FoundNumber, ...]
    why: dict[str, list[str]] = field(default_factory=dict)

    def contract(self) -> dict[str, Any]:
        """The fields of the parse contract (JSON-ready)."""
        return {
            "intent": self.intent.value,
            "intent_confidence": round(self.intent_confidence, 3),
            "intent_confident": self.intent_confident,
            "sender_role": self.role.value,
            "language": self.language,
            "order_numbers": list(self.order_numbers),
            "tracking_numbers": [{"number": t.number, "carrier": t.carrier} for t in self.tracking],
        }


@dataclass(frozen=True)
class _ColdRules:
    patterns: tuple[Caseless, ...]
    purchase: Caseless
    quoted: re.Pattern[str]  # a phrase in quotation marks: mentioned, not said
    trade_voice: tuple[Caseless, ...]  # a trade partner's or a platform's words to the store
    sender_local: re.Pattern[str]  # a From local part naming a department, not a person
    no_reply_local: re.Pattern[str]  # a machine's no-reply local part the policy's list does not name
    screen: CaselessSet  # all of them, in this order: one RE2 pass over a text names those worth running
    buying: Caseless  # a business asking to buy for itself: a would-be buyer, never asked of the stranger reader

    def hits(self, members: tuple[Caseless, ...], first: int, possible: set[int], text: str, lower: str) -> list[str]:
        """The patterns of `members` (screen indices from `first` on) that match `text`."""
        return [m.pattern.pattern for i, m in enumerate(members, first) if i in possible and m.search(text, lower)]


@lru_cache(maxsize=1)
def _cold_rules() -> _ColdRules:
    data = load_rules_file("cold_senders.yaml")
    patterns = tuple(caseless(p) for p in data["patterns"])
    purchase = caseless(data["purchase_words"])
    trade_voice = tuple(caseless(p) for p in data["trade_voice"])
    return _ColdRules(patterns, purchase, re.compile(data["quoted"]), trade_voice,
                      re.compile(data["sender_local"], re.IGNORECASE),
                      re.compile(data["no_reply_local"], re.IGNORECASE), CaselessSet([*patterns, purchase, *trade_voice]),
                      caseless(data["buying"]))


def _blank(m: re.Match[str]) -> str:
    """Spaces in place of a match, so positions in the text stay."""
    return " " * len(m.group(0))


def load_readers(reading: ReadingConfig) -> None:
    """Train (or load from the cache) the learned readers, so no mail waits on them."""
    intent_model(reading)
    store_stranger_model(reading)


def extract(parsed: ParsedEmail, parties: PartiesConfig, languages: tuple[str, ...],
            reading: ReadingConfig | None = None, explain: bool = False, order_prefix: str = "") -> Extraction:
    """Read one parsed message. Pure: the same input (and training data) always gives the same answer."""
    reading = reading or ReadingConfig()
    all_text = parsed.all_text[:NUMBERS_TEXT_CHARS]
    tracking = tuple(find_tracking_numbers(all_text))
    orders = tuple(find_order_numbers(all_text, [t.number for t in tracking], order_prefix, parsed.subject))
    automated = bool(parsed.automated)
    cold = _cold_rules()
    new_words = f"{parsed.subject}\n{parsed.new_text}"
    new_lower = new_words.lower()
    possible = set(cold.screen.candidates(new_words, new_lower))
    cold_hits = cold.hits(cold.patterns, 0, possible, new_words, new_lower)
    local = parsed.from_address.rsplit("@", 1)[0]
    if cold.sender_local.search(local):
        cold_hits.append(f"sender {local}@ names a department")
    no_reply = bool(cold.no_reply_local.search(local))
    if no_reply:
        cold_hits.append(f"sender {local}@ is a no-reply address")
    buyer = len(cold.patterns)  # the purchase words' place in the screen, the trade voice after them
    said = cold.quoted.sub(_blank, new_words) if buyer in possible else ""
    buyer_words = [m.group(0) for m in cold.purchase.finditer(said, said.lower())] if said else []
    purchase = buyer_words + [t.number for t in tracking]
    trade = [] if buyer_words else cold.hits(cold.trade_voice, buyer + 1, possible, new_words, new_lower)
    cold_hits += [f"trade voice: {t[:40]}..." for t in trade]
    content_type = parsed.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    machine = machine_markers(parsed.headers, parsed.from_address, content_type)
    cold_sender = len(cold_hits) - len(trade) - no_reply >= 2
    role = classify_role(parsed.from_address, parties, bool(machine), cold_sender, purchase, bool(parsed.bulk),
                         bool(trade), no_reply)
    if role is Role.UNKNOWN and (cold_sender or (parsed.bulk and not trade)):
        orders = ()  # a cold pitch or a stranger's newsletter never names one of our orders: its numbers are its own
    elif role is Role.CUSTOMER and not purchase and not orders and not cold.buying.search(new_words, new_lower):
        stranger = store_stranger_model(reading).probability(parsed.subject, parsed.new_text)
        if stranger >= STRANGER_PROBABILITY:
            role = Role.UNKNOWN
            cold_hits.append(f"the stranger reader: {stranger:.2f}")
    new_last_mile, numbers = _written_numbers(new_words, [(t.number, t.carrier) for t in tracking], orders)
    read = classify_intent(role, automated, parsed.new_text, parsed.subject, new_last_mile, numbers, reading, explain)
    language = None
    if content_type != "multipart/report":  # a delivery report's words are the server's, in no one's language
        sample = parsed.new_text if len(parsed.new_text) >= 40 else f"{subject_words(parsed.subject)}\n{parsed.new_text}"
        language = detect_language(sample, languages)
    why = {
        "intent": read.why,
        "sender_role": [f"From {parsed.from_address}", *machine, *(f"cold: {c}" for c in cold_hits)],
        "language": [f"newest text: {parsed.new_text[:80]!r}"],
        "tracking_numbers": [f"{t.written!r} -> {t.number} ({t.format_id})" for t in tracking],
    }
    confident = read.confidence >= reading.min_confidence
    return Extraction(read.intent, read.confidence, confident, read.guesses, role, language, orders, tracking, why)


def read_in_context(role: Role, automated: bool, subject: str, new_text: str, tracking: Sequence[tuple[str, str]],
                    orders: Sequence[str], context: ReplyContext, reading: ReadingConfig) -> IntentReading:
    """The intent of a message already read (`tracking` as (number, carrier) and `orders` as found
    in it), read again as an answer to our last message to its sender (`context`)."""
    new_last_mile, numbers = _written_numbers(f"{subject}\n{new_text}", tracking, orders)
    return classify_intent(role, automated, new_text, subject, new_last_mile, numbers, reading, context=context)


def _written_numbers(new_words: str, tracking: Sequence[tuple[str, str]],
                     orders: Sequence[str]) -> tuple[bool, tuple[bool, bool]]:
    """Whether the newest text (with the subject) states a last-mile (destination) tracking number,
    and whether the message holds a tracking number and the newest text an order number."""
    compact_new = "".join(new_words.replace("-", "").split())  # without blanks (\s: str.split's) and dashes
    origin = load_format_book().origin_carriers
    upper_new = compact_new.upper()
    new_last_mile = any(number in upper_new and carrier not in origin for number, carrier in tracking)
    return new_last_mile, (bool(tracking), any(o in compact_new for o in orders))
