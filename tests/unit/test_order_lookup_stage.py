"""The order lookup stage on SQLite: a source that is down is asked again later with growing delays
and, after the last attempt, the case goes to a person; it never answers the customer wrongly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from inbox_agent.config import Config, DatabaseConfig, OrdersConfig, WooCommerceOrders
from inbox_agent.domain import OutboxStatus
from inbox_agent.mailbox.maildir import MaildirBackend
from inbox_agent.orders.book import build_order_book
from inbox_agent.playbook import Facts
from inbox_agent.stages import order_lookup, process
from inbox_agent.stages.order_lookup import lookup_intent
from inbox_agent.stages.retry import DEFAULTS
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.database import Database
from inbox_agent.store.payloads import CaseFacts
from inbox_agent.store.tables import Case, Event, Intent
from tests.support.commerce import WOO_KEY, WOO_SECRET, FakeWooCommerce, woo_order


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 7, 12, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_source_that_is_down_is_retried_then_left_to_a_person(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WC_KEY", WOO_KEY)
    monkeypatch.setenv("WC_SECRET", WOO_SECRET)
    fake = FakeWooCommerce([woo_order(727, "727", "alice@example.com")])
    down = httpx.Response(503, json={"code": "maintenance", "message": "Down", "data": {"status": 503}})
    fake.script.extend([lambda r: down] * DEFAULTS["orders"].attempts)
    orders = OrdersConfig(woocommerce=WooCommerceOrders(url="https://shop.example", consumer_key_env="WC_KEY",
                                                        consumer_secret_env="WC_SECRET"),
                          attempts=1, backoff_seconds=0, max_wait_seconds=0)
    config = Config(database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'db.sqlite'}"), orders=orders)
    db = Database(config.database.url)
    db.create()
    clock = Clock()
    rt = Runtime(config=config, db=db, mailbox=MaildirBackend(tmp_path / "mail"), clock=clock,
                 orders=build_order_book(orders, httpx.MockTransport(fake.handle)))
    with db.transaction() as s:
        case = Case(state="looking_up_order", customer="alice@example.com", language="en", order_numbers=["727"],
                    tracking_numbers=[], facts=CaseFacts(), opened_at=clock.now)
        s.add(case)
        s.flush()
        s.add(lookup_intent(case, None, Facts(intent="delivered_not_received"), "order:1", clock.now))
    delays = []
    for _ in range(DEFAULTS["orders"].attempts - 1):
        assert order_lookup.run_once(rt) == 1
        with db.transaction() as s:
            intent = s.scalars(select(Intent)).one()
            assert intent.status == OutboxStatus.PENDING and "HTTP 503" in (intent.last_error or "")
            assert s.scalars(select(Event)).all() == []
            assert intent.claimed_until is not None
            delays.append(intent.claimed_until.replace(tzinfo=UTC) - clock.now)
            clock.now = intent.claimed_until.replace(tzinfo=UTC) + timedelta(seconds=1)
    assert delays == sorted(delays) and delays[0] < delays[-1]
    assert order_lookup.run_once(rt) == 1
    with db.transaction() as s:
        event = s.scalars(select(Event)).one()
        assert event.kind == "order.looked_up" and event.payload.facts.order == "unavailable"
    process.run_once(rt)
    with db.transaction() as s:
        case = s.scalars(select(Case)).one()
        assert case.state == "needs_attention" and case.facts.order is None
        assert [i.kind for i in s.scalars(select(Intent))] == ["order", "note"]
