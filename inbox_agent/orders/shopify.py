"""Shopify orders: the Admin GraphQL API (`orders` query with a search string, cost-based throttle).

`POST https://{shop}.myshopify.com/admin/api/{version}/graphql.json` with the header
`X-Shopify-Access-Token`. Orders are searched with `name:#1051` or `email:alice@example.com`,
paginated with `pageInfo`. A THROTTLED error (HTTP 200 or 429) waits what `throttleStatus`
says the query needs (requested cost less what is available, at the restore rate), then asks
again; other GraphQL `errors` mean the source cannot answer now. Dropshipping apps write the
supplier's order number in the order's note or tags: `[orders] supplier_order_pattern` finds it.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx

from inbox_agent.config import ShopifyOrders
from inbox_agent.orders.model import LineItem, Order, Parcel, order_number
from inbox_agent.orders.source import moment, parcel
from inbox_agent.tracking.adapter import field, text
from inbox_agent.tracking.http import Http, ProviderRefused, ProviderUnavailable, json_body

MAX_PAGES = 5
FULFILLED = ("FULFILLED", "PARTIALLY_FULFILLED")
QUERY = """
query OrdersLookup($q: String!, $after: String) {
  orders(first: 10, after: $after, query: $q, sortKey: PROCESSED_AT, reverse: true) {
    edges { node {
      name email createdAt processedAt displayFulfillmentStatus tags note
      customer { displayName }
      shippingAddress { countryCodeV2 }
      fulfillments(first: 10) { status createdAt trackingInfo(first: 10) { company number url } }
      lineItems(first: 20) { edges { node { title quantity } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
PROBE = "query Probe { shop { name } }"


class ShopifySource:
    name = "shopify"

    def __init__(self, settings: ShopifyOrders, token: str, supplier_order_pattern: str) -> None:
        base = settings.base_url or f"https://{settings.shop}.myshopify.com"
        self.url = f"{base.rstrip('/')}/admin/api/{settings.api_version}/graphql.json"
        self.token = token
        self.supplier_order = re.compile(supplier_order_pattern)
        self.ready_at = 0.0

    async def by_number(self, http: Http, number: str) -> list[Order]:
        wanted = order_number(number)
        found = await self._search(http, f"name:#{wanted}", pages=1)
        return [o for o in found if order_number(o.number) == wanted]

    async def by_email(self, http: Http, email: str) -> list[Order]:
        found = await self._search(http, f"email:{_quoted(email)}", pages=MAX_PAGES)
        return [o for o in found if o.belongs_to(email)]

    async def probe(self, http: Http) -> str:
        data = await self._call(http, PROBE, {})
        return f"shop {text(field(data, 'shop', 'name')) or '?'} answers"

    async def _search(self, http: Http, query: str, pages: int) -> list[Order]:
        orders: list[Order] = []
        after: str | None = None
        for _ in range(pages):
            data = await self._call(http, QUERY, {"q": query, "after": after})
            connection = field(data, "orders")
            edges = field(connection, "edges")
            if not isinstance(edges, list):
                raise ProviderUnavailable(http.provider, "answered JSON of an unexpected shape (no orders.edges)")
            orders += [self._order(field(e, "node")) for e in edges if isinstance(field(e, "node"), dict)]
            after = text(field(connection, "pageInfo", "endCursor")) or None
            if field(connection, "pageInfo", "hasNextPage") is not True or after is None:
                break
        return orders

    async def _call(self, http: Http, query: str, variables: dict[str, Any]) -> Any:
        """The `data` of one query. Before it, wait until the bucket holds what the last query cost
        (its `throttleStatus`), so a busy store is not sent queries bound to be THROTTLED."""
        pause = self.ready_at - time.monotonic()
        if pause > 0:
            await asyncio.sleep(min(pause, http.policy.max_wait_seconds))
        response = await http.request("POST", self.url, throttled=throttle_wait, json={"query": query,
                                      "variables": variables}, headers={"X-Shopify-Access-Token": self.token})
        if response.status_code in (401, 403):
            raise ProviderRefused(http.provider, f"refused the access token (HTTP {response.status_code}): "
                                             "check [orders.shopify] access_token_env and the app's read_orders scope")
        if response.status_code == 404:
            raise ProviderRefused(http.provider, "no such shop or API version (HTTP 404): check [orders.shopify] shop "
                                             "and api_version")
        body = json_body(http.provider, response)
        if response.status_code != 200 or not isinstance(body, dict):
            raise ProviderUnavailable(http.provider, f"answered HTTP {response.status_code}")
        self.ready_at = time.monotonic() + budget_wait(body)
        errors = body.get("errors")
        if errors:
            codes = {text(field(e, "extensions", "code")) for e in errors} if isinstance(errors, list) else set()
            messages = "; ".join(text(field(e, "message")) for e in errors) if isinstance(errors, list) else text(errors)
            if "ACCESS_DENIED" in codes:
                raise ProviderRefused(http.provider, f"denied access: {messages}")
            raise ProviderUnavailable(http.provider, f"answered GraphQL errors: {messages[:300]}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise ProviderUnavailable(http.provider, "answered JSON of an unexpected shape (no data)")
        return data

    def _order(self, node: dict[str, Any]) -> Order:
        parcels: list[Parcel] = []
        for fulfillment in field(node, "fulfillments") or []:
            for info in field(fulfillment, "trackingInfo") or []:
                found = parcel(text(field(info, "number")), company=text(field(info, "company")),
                               url=text(field(info, "url")))
                if found is not None and found not in parcels:
                    parcels.append(found)
        items = [LineItem(title=text(field(e, "node", "title")), quantity=_quantity(field(e, "node", "quantity")))
                 for e in field(node, "lineItems", "edges") or [] if text(field(e, "node", "title"))]
        tags = field(node, "tags")
        notes = " ".join([text(field(node, "note")), *(text(t) for t in (tags if isinstance(tags, list) else []))])
        supplier_order = self.supplier_order.search(notes)
        created = moment(field(node, "processedAt")) or moment(field(node, "createdAt"))
        return Order(
            number=text(field(node, "name")).lstrip("#"), email=text(field(node, "email")).lower(), source=self.name,
            customer_name=text(field(node, "customer", "displayName")),
            country=text(field(node, "shippingAddress", "countryCodeV2")).upper(), created_at=created,
            fulfilled=text(field(node, "displayFulfillmentStatus")) in FULFILLED or bool(parcels),
            parcels=tuple(parcels), items=tuple(items),
            supplier_order=supplier_order.group(supplier_order.lastindex or 0) if supplier_order else "",
        )


def throttle_wait(response: httpx.Response) -> float | None:
    """Seconds to wait before a THROTTLED query may run again; None when it was not throttled."""
    if response.status_code != 200:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    errors = field(body, "errors")
    if not isinstance(errors, list) or not any(field(e, "extensions", "code") == "THROTTLED" for e in errors):
        return None
    cost = field(body, "extensions", "cost") or {}
    needed = _number(field(cost, "requestedQueryCost")) - _number(field(cost, "throttleStatus", "currentlyAvailable"))
    rate = _number(field(cost, "throttleStatus", "restoreRate"))
    return max(1.0, needed / rate) if rate > 0 else 1.0


def budget_wait(body: Any) -> float:
    """Seconds until the bucket holds again what this query cost (0 when it already does)."""
    cost = field(body, "extensions", "cost") or {}
    spent = _number(field(cost, "actualQueryCost")) or _number(field(cost, "requestedQueryCost"))
    missing = spent - _number(field(cost, "throttleStatus", "currentlyAvailable"))
    rate = _number(field(cost, "throttleStatus", "restoreRate"))
    return missing / rate if missing > 0 and rate > 0 else 0.0


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _quantity(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 1


def _quoted(value: str) -> str:
    """A search-syntax value: quoted, so an address with odd characters stays one term."""
    return '"' + value.replace("\\", "").replace('"', "") + '"'
