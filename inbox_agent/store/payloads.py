"""The JSON columns as pydantic models: the inbound summary, a case's facts, event and intent
payloads, and the playbook facts an event carries.

`JsonModel` is the one place they are parsed (when a row is loaded) and serialised (when it is
written). Only the keys a row was given are written, so the JSON is the one earlier versions
wrote and their rows read unchanged (no migration). The models are frozen: a change is a new
value assigned to the column (`row.facts = row.facts.model_copy(update=...)`), which is what
tells the session the row changed.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_serializer
from sqlalchemy import JSON, Dialect
from sqlalchemy.types import TypeDecorator

from inbox_agent.orders.model import Order, Parcel
from inbox_agent.playbook.facts import Facts
from inbox_agent.tracking.status import TrackingStatus


class Payload(BaseModel):
    """A JSON column's value: frozen, written with only the keys it was given."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class SenderCheck(Payload):
    """Whether aligned DKIM/DMARC proved a partner's mail (security/sender.py)."""

    proven: bool = False
    how: str = ""
    refuted: bool = False


class Summary(Payload):
    """What ingest read from an inbound message (parse contract, extraction, sender check), and
    what later stages noted on it (`taught`, `left_for_people`)."""

    sender: str = Field(default="", alias="from")
    from_name: str = ""
    subject: str = ""
    message_id: str | None = None
    thread_ids: list[str] = []
    automated: list[str] = []
    bulk: list[str] = []
    new_text: str = ""
    bounce: bool = False
    quoted_ids: list[str] = []
    fingerprint: str | None = None
    sender_problem: str | None = None
    backfill: bool = False
    intent: str | None = None
    intent_confidence: float | None = None
    intent_confident: bool | None = None
    sender_role: str | None = None
    language: str | None = None
    order_numbers: list[str] = []
    tracking_numbers: list[Parcel] = []
    tracking: list[Parcel] = []
    tracking_dropped: int = 0
    intent_guesses: list[tuple[str, float]] = []
    intent_why: list[str] = []
    sender_check: SenderCheck | None = None
    taught: str | None = None
    left_for_people: str | None = None
    message_id_reused: bool = False
    duplicate_of: str | None = None


class OrderChoice(Payload):
    """One of several orders the sender placed, for them to say which they mean."""

    number: str
    date: str
    items: str


class CaseFacts(Payload):
    """What a case has learnt: names and addresses, the tracking views, the order, what was done."""

    customer_name: str = ""
    tag_token: str = ""
    aliases: list[str] = []
    customer_words: str = ""
    complaint_intent: str | None = None
    supplier_address: str | None = None
    distributor_address: str | None = None
    last_mile_number: str | None = None
    new_tracking_number: str | None = None
    new_tracking_url: str | None = None
    tracking: dict[str, TrackingStatus] = {}
    order: Order | None = None
    order_choices: list[OrderChoice] = []
    order_written: list[str] = []
    order_notes: list[str] = []
    escalations: list[str] = []
    done_so_far: list[str] = []
    timer_counts: dict[str, int] = {}

    @field_serializer("tracking")
    def _views(self, tracking: dict[str, TrackingStatus]) -> dict[str, dict[str, Any]]:
        """Each view whole, as `TrackingStatus.to_json()` writes it, without the provider's raw answer."""
        return {number: {k: v for k, v in view.to_json().items() if k != "raw"} for number, view in tracking.items()}

    @field_serializer("order")
    def _order(self, order: Order | None) -> dict[str, Any] | None:
        """The order whole, every field, as its source gave it."""
        return order.model_dump(mode="json") if order is not None else None


class EventPayload(Payload):
    """What an event carries: the message it is about (`message.received`), the numbers looked up
    (`tracking.updated`), or playbook facts (an order looked up, a timer, a reply sent or rejected)."""

    inbound_id: int | None = None
    taught: str | None = None
    numbers: list[str] = []
    facts: Facts = Facts()


class IntentPayload(Payload):
    """What an intent carries besides its columns: the numbers to look up (`track`, `order`, with
    the complaint it serves), a reply's language and party (and its draft's uid), a note's
    folder and the message it moves there."""

    numbers: list[str] = []
    intent: str | None = None
    language: str | None = None
    party: str = "customer"
    review_uid: str | None = None
    folder: str | None = None
    move_from: tuple[str, str] | None = None


M = TypeVar("M", bound=Payload)
P = TypeVar("P", bound=BaseModel)


class JsonModel(TypeDecorator[M], Generic[M]):
    """A JSON column holding one Payload model: parsed on load, written with `to_json()`."""

    impl = JSON
    cache_ok = True

    def __init__(self, model: type[M]) -> None:
        super().__init__()
        self.model = model

    def process_bind_param(self, value: M | None, dialect: Dialect) -> dict[str, Any]:
        return value.to_json() if value is not None else {}

    def process_result_value(self, value: Any, dialect: Dialect) -> M:
        return self.model.model_validate(value or {})


class JsonModelList(TypeDecorator[list[P]], Generic[P]):
    """A JSON column holding a list of one model, each item written with only the keys it was given."""

    impl = JSON
    cache_ok = True

    def __init__(self, model: type[P]) -> None:
        super().__init__()
        self.model = model

    def process_bind_param(self, value: list[P] | None, dialect: Dialect) -> list[dict[str, Any]]:
        return [item.model_dump(mode="json", exclude_unset=True) for item in value or []]

    def process_result_value(self, value: Any, dialect: Dialect) -> list[P]:
        return [self.model.model_validate(item) for item in value or []]
