"""The typed JSON columns read rows as earlier versions wrote them (plain JSON, no migration), and
writing a row back changes only what was changed: every other key keeps its JSON as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from inbox_agent.orders.model import Parcel
from inbox_agent.playbook import Facts
from inbox_agent.store.database import Database
from inbox_agent.store.payloads import EventPayload, IntentPayload, Summary
from inbox_agent.store.tables import Case, Event, InboundMessage, Intent

NOW = datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
# As ingest, track, order lookup, timers and draft wrote them before the columns were typed.
OLD_SUMMARY: dict[str, Any] = {
    "from": "alice@example.com", "from_name": "Alice", "subject": "Where is my parcel?",
    "message_id": "<m1@example.com>", "thread_ids": ["<a@shop.example>"], "automated": [], "bulk": [],
    "new_text": "Order #1043 never came.", "bounce": False, "quoted_ids": [], "fingerprint": "ab" * 32,
    "sender_problem": None, "intent": "where_is_my_order", "intent_confidence": 0.91, "intent_confident": True,
    "sender_role": "customer", "language": "en", "order_numbers": ["1043"],
    "tracking_numbers": [{"number": "LV123456785CN", "carrier": "china_post"}],
    "tracking": [{"number": "LV123456785CN", "carrier": "china_post"}],
    "intent_guesses": [["where_is_my_order", 0.91], ["delivered_not_received", 0.05]],
    "intent_why": ["model: parcel"], "sender_check": {"proven": False, "how": "dkim none", "refuted": False},
}
OLD_VIEW: dict[str, Any] = {
    "provider": "seventeen_track", "number": "LV123456785CN", "status": "delivered",
    "delivered_at": "2026-07-10T14:15:00-07:00", "origin_country": "CN", "destination_country": "US",
    "events": [{"time": "2026-07-10T14:15:00-07:00", "location": "LAS VEGAS, NV", "description": "Delivered",
                "code": "01", "source": "USPS"}],
    "last_mile": {"carrier": "usps", "number": "9400111206206406260787"}, "tracking_url": None,
    "fetched_at": "2026-07-11T08:00:00+00:00", "sample": False, "error": None, "retry": False,
    "last_mile_status": "delivered",
    "legs": [{"provider": "seventeen_track", "number": "LV123456785CN", "status": "delivered", "error": None,
              "url": None, "carrier": None, "relayed": False}],
}
OLD_FACTS: dict[str, Any] = {
    "customer_name": "Alice", "tag_token": "k7q2a9x3", "customer_words": "Order #1043 never came.",
    "complaint_intent": "where_is_my_order", "supplier_address": "orders@supplier.example",
    "tracking": {"LV123456785CN": OLD_VIEW},
    "order": {"number": "1043", "email": "alice@example.com", "source": "shopify", "customer_name": "Alice",
              "country": "US", "created_at": "2026-07-01T10:00:00Z", "fulfilled": True,
              "parcels": [{"number": "LV123456785CN", "carrier": "china_post", "company": "", "url": ""}],
              "items": [{"title": "Vase", "quantity": 1}], "supplier": "", "supplier_order": "8123456789012345"},
    "order_choices": [{"number": "1043", "date": "2026-07-01", "items": "Vase"}],
    "done_so_far": ["followed up with the customer (2026-07-11)"], "timer_counts": {"customer_followup": 2},
    "escalations": ["the supplier has not answered"],
}
OLD_NUMBERS = [{"number": "LV123456785CN", "carrier": "china_post"}]
OLD_EVENTS: list[dict[str, Any]] = [
    {"inbound_id": 1}, {"inbound_id": 1, "taught": "received"}, {"numbers": ["LV123456785CN"]},
    {"facts": {"intent": "where_is_my_order", "order_fulfilled": True, "order": "found", "has_tracking": True}},
    {"facts": {"timer": "customer_followup", "count": 2}}, {"facts": {"template": None, "party": "customer"}},
]
OLD_INTENTS: list[dict[str, Any]] = [
    {"numbers": ["LV123456785CN"]}, {"numbers": ["1043"], "intent": "where_is_my_order"},
    {"language": "fr", "party": "supplier", "review_uid": "17"},
    {"folder": "attention", "move_from": ["INBOX", "42"]},
]


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.create()
    yield database
    database.engine.dispose()


def _insert_old_rows(db: Database) -> None:
    """Rows written with plain JSON, as a database from before the typed columns holds them."""
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO \"case\" (id, state, version, customer, language, subject, order_numbers, "
                       "tracking_numbers, facts, opened_at) VALUES (1, 'awaiting_customer', 1, 'alice@example.com', "
                       "'en', '', '[\"1043\"]', :numbers, :facts, :now)"),
                  {"numbers": json.dumps(OLD_NUMBERS), "facts": json.dumps(OLD_FACTS), "now": NOW})
        c.execute(text("INSERT INTO inbound_message (id, folder, uidvalidity, uid, message_key, raw, summary, status, "
                       "case_id, received_at) VALUES (1, 'INBOX', 1, '42', '<m1@example.com>', :raw, :summary, 'DONE', "
                       "1, :now)"), {"raw": b"", "summary": json.dumps(OLD_SUMMARY), "now": NOW})
        for i, payload in enumerate(OLD_EVENTS, 1):
            c.execute(text("INSERT INTO event (id, kind, case_id, payload, status, attempts, created_at) "
                           "VALUES (:id, 'x', 1, :payload, 'DONE', 0, :now)"),
                      {"id": i, "payload": json.dumps(payload), "now": NOW})
        for i, payload in enumerate(OLD_INTENTS, 1):
            c.execute(text("INSERT INTO intent (id, kind, case_id, idempotency_key, mode, recipients, payload, status, "
                           "attempts, created_at, updated_at) VALUES (:id, 'reply', 1, :key, 'draft', '[]', :payload, "
                           "'DONE', 0, :now, :now)"),
                      {"id": i, "key": f"k{i}", "payload": json.dumps(payload), "now": NOW})


def _stored(db: Database, table: str, column: str) -> list[Any]:
    """The column's JSON as the database holds it (SQLite hands back text, PostgreSQL the value)."""
    with db.engine.connect() as c:
        values = c.execute(text(f'SELECT {column} FROM "{table}" ORDER BY id')).scalars()
        return [json.loads(v) if isinstance(v, str) else v for v in values]


def test_old_rows_read_as_typed_values(db: Database) -> None:
    _insert_old_rows(db)
    with db.transaction() as s:
        case, inbound = s.get(Case, 1), s.get(InboundMessage, 1)
        assert case is not None and inbound is not None
        summary, facts = inbound.summary, case.facts
        assert (summary.sender, summary.sender_role, summary.intent_confident) == ("alice@example.com", "customer", True)
        assert summary.tracking[0].carrier == "china_post" and summary.intent_guesses[0] == ("where_is_my_order", 0.91)
        assert summary.sender_check is not None and summary.sender_check.how == "dkim none"
        assert not summary.taught and summary.tracking_dropped == 0
        view = facts.tracking["LV123456785CN"]
        assert view.last_mile is not None and view.last_mile.number == "9400111206206406260787"
        assert view.events[0].code == "01" and view.legs[0].provider == "seventeen_track" and view.raw == {}
        assert facts.order is not None and facts.order.parcels[0].number == "LV123456785CN"
        assert facts.order.created_at == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
        assert facts.order_choices[0].items == "Vase" and facts.timer_counts == {"customer_followup": 2}
        assert facts.aliases == [] and facts.last_mile_number is None
        assert case.tracking_numbers == [Parcel(number="LV123456785CN", carrier="china_post")]
        assert case.order_numbers == ["1043"]
        events = [s.get(Event, i) for i in range(1, len(OLD_EVENTS) + 1)]
        payloads = [e.payload for e in events if e is not None]
        assert payloads[0].inbound_id == 1 and payloads[1].taught == "received"
        assert payloads[2].numbers == ["LV123456785CN"]
        assert payloads[3].facts == Facts(intent="where_is_my_order", order_fulfilled=True, order="found",
                                          has_tracking=True)
        assert (payloads[4].facts.timer, payloads[4].facts.count) == ("customer_followup", 2)
        assert payloads[5].facts.party == "customer" and payloads[0].facts == Facts()
        intents = [s.get(Intent, i) for i in range(1, len(OLD_INTENTS) + 1)]
        reply, note = intents[2], intents[3]
        assert reply is not None and (reply.payload.party, reply.payload.review_uid) == ("supplier", "17")
        assert note is not None and note.payload.move_from == ("INBOX", "42")
        first = intents[0]
        assert first is not None and first.payload.party == "customer"  # the default of a row that names none


def test_writing_a_row_back_keeps_the_json_of_what_did_not_change(db: Database) -> None:
    _insert_old_rows(db)
    with db.transaction() as s:
        case, inbound = s.get(Case, 1), s.get(InboundMessage, 1)
        assert case is not None and inbound is not None
        case.facts = case.facts.model_copy(update={"escalations": [*case.facts.escalations, "again"]})
        case.tracking_numbers = [*case.tracking_numbers, Parcel(number="RR123456785FR")]
        inbound.summary = inbound.summary.model_copy(update={"left_for_people": "a reason"})
        for i in range(1, len(OLD_EVENTS) + 1):
            event = s.get(Event, i)
            assert event is not None
            event.payload = EventPayload.model_validate(event.payload.to_json())
        for i in range(1, len(OLD_INTENTS) + 1):
            intent = s.get(Intent, i)
            assert intent is not None
            intent.payload = IntentPayload.model_validate(intent.payload.to_json())
    assert _stored(db, "case", "facts") == [{**OLD_FACTS, "escalations": ["the supplier has not answered", "again"]}]
    assert _stored(db, "case", "tracking_numbers") == [[*OLD_NUMBERS, {"number": "RR123456785FR"}]]
    assert _stored(db, "inbound_message", "summary") == [{**OLD_SUMMARY, "left_for_people": "a reason"}]
    assert _stored(db, "event", "payload") == OLD_EVENTS
    assert _stored(db, "intent", "payload") == OLD_INTENTS


def test_new_rows_write_only_what_they_were_given(db: Database) -> None:
    with db.transaction() as s:
        s.add(Event(kind="order.looked_up", payload=EventPayload(facts=Facts(order="unavailable", has_tracking=False)),
                    status="PENDING", created_at=NOW))
        s.add(InboundMessage(folder="INBOX", uidvalidity=1, uid="1", message_key="k", raw=b"",
                             summary=Summary(duplicate_of="<m1@example.com>"), status="DONE", received_at=NOW))
    assert _stored(db, "event", "payload") == [{"facts": {"order": "unavailable", "has_tracking": False}}]
    assert _stored(db, "inbound_message", "summary") == [{"duplicate_of": "<m1@example.com>"}]


def test_a_payload_that_is_not_its_shape_is_refused_on_load(db: Database) -> None:
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO event (id, kind, payload, status, attempts, created_at) "
                       "VALUES (1, 'x', '{\"inbound_id\": \"not a number\"}', 'PENDING', 0, :now)"), {"now": NOW})
    with pytest.raises(ValidationError), db.transaction() as s:
        s.get(Event, 1)
