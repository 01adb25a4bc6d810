"""The order-number cases of other stores' inboxes (tests/data/order_cases_stores.yaml): loaded,
read as the daemon reads a message (parsed from a real MIME message, then the tracking numbers,
then the orders), and scored as sets (precision, recall, F1 over all numbers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import yaml

from inbox_agent.extract.orders import find_order_numbers
from inbox_agent.extract.tracking import find_tracking_numbers
from inbox_agent.parse import parse_email

CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "order_cases_stores.yaml"
HELD_OUT_EVERY = 3  # every third case is held out (see the data file)


@dataclass(frozen=True)
class OrderCase:
    id: str
    subject: str
    text: str
    orders: frozenset[str]
    html: bool
    prefix: str
    held_out: bool


@dataclass(frozen=True)
class Score:
    cases: int
    right: int  # cases whose whole set is right
    precision: float
    recall: float
    f1: float

    def line(self) -> str:
        return (f"precision {self.precision:.3f}  recall {self.recall:.3f}  F1 {self.f1:.3f}  "
                f"({self.right}/{self.cases} cases right)")


def load_cases() -> list[OrderCase]:
    raw = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))["cases"]
    return [OrderCase(c["id"], c["subject"], c["text"], frozenset(c["orders"]), bool(c.get("html")),
                      c.get("prefix", ""), (i + 1) % HELD_OUT_EVERY == 0) for i, c in enumerate(raw)]


def read_case(case: OrderCase) -> list[str]:
    """The order numbers found in the case sent as a message from a customer."""
    message = EmailMessage()
    message["From"] = "customer@mail.example"
    message["To"] = "support@store.example"
    message["Subject"] = case.subject
    message["Message-ID"] = f"<{case.id}@mail.example>"
    message.set_content(case.text, subtype="html" if case.html else "plain")
    all_text = parse_email(message.as_bytes()).all_text
    tracking = [t.number for t in find_tracking_numbers(all_text)]
    return find_order_numbers(all_text, tracking, case.prefix, case.subject)


def score(results: Sequence[tuple[OrderCase, Sequence[str]]]) -> Score:
    expected = sum(len(c.orders) for c, _ in results)
    found = sum(len(set(f)) for _, f in results)
    hits = sum(len(c.orders & set(f)) for c, f in results)
    precision = hits / found if found else 1.0
    recall = hits / expected if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(len(results), sum(c.orders == set(f) for c, f in results), precision, recall, f1)
