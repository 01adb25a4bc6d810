"""The one lookup interface the daemon and the CLI use: find the order a message is about.

`OrderBook.find` answers with an OrderFinding: the sender's own order (found), several recent
orders of the sender (which one?), none, an order number nobody has (not found), or an order
placed with another address (other_address: nothing of it is kept or shown). Each call opens
one HTTP client on the shared edge (rate limit, retries; the TLS context is loaded once per
book); a source that is down raises ProviderUnavailable, so the caller retries later instead of
answering wrongly.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import certifi
import httpx
from pydantic import BaseModel, ConfigDict

from inbox_agent.config import OrdersConfig, secret_from_env
from inbox_agent.orders.csv_file import CsvOrders
from inbox_agent.orders.model import Order
from inbox_agent.orders.shopify import ShopifySource
from inbox_agent.orders.source import OrderSource
from inbox_agent.orders.woocommerce import WooCommerceSource
from inbox_agent.tracking.http import Http, RateLimiter, RetryPolicy

MAX_NUMBERS = 3
MAX_CHOICES = 5
T = TypeVar("T")


class Outcome(StrEnum):
    FOUND = "found"
    SEVERAL = "several"
    NONE = "none"
    NOT_FOUND = "not_found"
    OTHER_ADDRESS = "other_address"


class OrderFinding(BaseModel):
    """What a lookup found for a sender. `order` and `choices` only ever hold the sender's own orders."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    order: Order | None = None
    choices: tuple[Order, ...] = ()
    written: tuple[str, ...] = ()


class OrderBook:
    def __init__(self, source: OrderSource, config: OrdersConfig,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.source = source
        self.config = config
        self.transport = transport
        self.limiter = RateLimiter(config.rate_per_second if source.name != "csv" else None)
        self.policy = RetryPolicy(config.attempts, config.backoff_seconds, config.max_wait_seconds)
        self.tls = ssl.create_default_context(cafile=certifi.where())

    def find(self, numbers: Sequence[str], email: str, now: datetime) -> OrderFinding:
        """Blocking form of `find_async`, for worker threads."""
        return asyncio.run(self.find_async(numbers, email, now))

    async def find_async(self, numbers: Sequence[str], email: str, now: datetime) -> OrderFinding:
        """The order written in the message (the first number that is the sender's own order), else
        the sender's recent orders."""
        return await self._with_http(lambda http: self._find(http, list(numbers)[:MAX_NUMBERS], email, now))

    def show(self, number: str) -> list[Order]:
        """Every order with this number, whoever placed it (for `inbox-agent orders show`)."""
        return asyncio.run(self._with_http(lambda http: self.source.by_number(http, number)))

    def probe(self) -> str:
        """One read call proving the source answers with our credentials."""
        return asyncio.run(self._with_http(self.source.probe))

    async def _find(self, http: Http, numbers: list[str], email: str, now: datetime) -> OrderFinding:
        """The first number that is the sender's own order; a number placed with another address
        answers only when none is theirs (it must not hide their own order written after it)."""
        others: OrderFinding | None = None
        for number in numbers:
            orders = await self.source.by_number(http, number)
            own = [o for o in orders if o.belongs_to(email)]
            if own:
                return OrderFinding(outcome=Outcome.FOUND, order=own[0], written=(number,))
            if orders and others is None:
                others = OrderFinding(outcome=Outcome.OTHER_ADDRESS, written=(number,))
        if others is not None:
            return others
        if numbers:
            return OrderFinding(outcome=Outcome.NOT_FOUND, written=tuple(numbers))
        since = now - timedelta(days=self.config.recent_days)
        recent = [o for o in await self.source.by_email(http, email) if o.created_at is None or o.created_at >= since]
        pick = [o for o in recent if o.fulfilled] or recent
        if len(pick) == 1:
            return OrderFinding(outcome=Outcome.FOUND, order=pick[0])
        if pick:
            return OrderFinding(outcome=Outcome.SEVERAL, choices=tuple(pick[:MAX_CHOICES]))
        return OrderFinding(outcome=Outcome.NONE)

    async def _with_http(self, call: Callable[[Http], Any]) -> Any:
        async with httpx.AsyncClient(transport=self.transport, verify=self.tls,
                                     headers={"User-Agent": "inbox-agent"}) as client:
            http = Http(f"orders.{self.source.name}", client, self.limiter, self.policy, self.config.timeout_seconds)
            return await call(http)


def build_order_book(config: OrdersConfig | None, transport: httpx.AsyncBaseTransport | None = None
                     ) -> OrderBook | None:
    """The configured source, or None when there is no [orders] section. ConfigError names a
    missing credential variable or an unreadable CSV file."""
    if config is None:
        return None
    source: OrderSource
    if config.shopify is not None:
        token = secret_from_env(config.shopify.access_token_env, "orders.shopify.access_token_env")
        source = ShopifySource(config.shopify, token, config.supplier_order_pattern)
    elif config.woocommerce is not None:
        woo = config.woocommerce
        source = WooCommerceSource(woo, secret_from_env(woo.consumer_key_env, "orders.woocommerce.consumer_key_env"),
                                   secret_from_env(woo.consumer_secret_env, "orders.woocommerce.consumer_secret_env"))
    else:
        assert config.csv is not None
        source = CsvOrders(config.csv, config.columns)
    return OrderBook(source, config, transport)
