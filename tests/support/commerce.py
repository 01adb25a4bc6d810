"""Fake Shopify Admin GraphQL and WooCommerce REST APIs at the HTTP edge, answering with the
documented JSON shapes (../shared/reference/commerce_apis.md), extra fields included.

Each fake is an httpx handler (use `httpx.MockTransport(fake.handle)`); `script` queues answers
that replace the next ones (throttling, errors, 429), and `requests` records what was asked.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

SHOPIFY_TOKEN = "shpat_test_token"
WOO_KEY, WOO_SECRET = "ck_test_key", "cs_test_secret"


def shopify_node(name: str, email: str, numbers: list[str], status: str = "FULFILLED",
                 created: str = "2026-07-01T10:00:00Z", note: str | None = None,
                 tags: list[str] | None = None) -> dict[str, Any]:
    """One order node as the Admin GraphQL API returns it (plus fields a newer version might add)."""
    return {
        "name": name, "email": email, "createdAt": created, "processedAt": created,
        "displayFulfillmentStatus": status, "tags": tags or ["vip"], "note": note,
        "customer": {"displayName": "Alice Doe", "loyaltyTier": "gold"},
        "shippingAddress": {"countryCodeV2": "DE", "province": None},
        "fulfillments": [{"status": "SUCCESS", "createdAt": "2026-07-03T08:00:00Z",
                          "trackingInfo": [{"company": "China Post", "number": n, "url": f"https://example.invalid/t/{n}"}
                                           for n in numbers]}] if numbers else [],
        "lineItems": {"edges": [{"node": {"title": "Widget", "quantity": 2, "sku": "W-1"}}]},
        "riskLevel": "LOW",
    }


def cost(requested: int = 42, actual: int | None = 12, available: float = 1988, rate: float = 100.0) -> dict[str, Any]:
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                     "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": available,
                                        "restoreRate": rate}}}


THROTTLED = {"errors": [{"message": "Throttled", "extensions": {
    "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
    "extensions": cost(requested=752, actual=None, available=666, rate=50.0)}


@dataclass
class FakeShopify:
    """Orders by search string; pages of `page_size` with pageInfo cursors."""

    orders: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 10
    requests: list[httpx.Request] = field(default_factory=list)
    script: list[Callable[[httpx.Request], httpx.Response]] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.script:
            return self.script.pop(0)(request)
        if request.headers.get("X-Shopify-Access-Token") != SHOPIFY_TOKEN:
            return httpx.Response(401, json={"errors": "[API] Invalid API key or access token (unrecognized login "
                                                       "or wrong password)"})
        body = json.loads(request.content)
        if "shop" in body["query"] and "orders" not in body["query"]:
            return httpx.Response(200, json={"data": {"shop": {"name": "Test Shop"}}, "extensions": cost()})
        q, after = body["variables"]["q"], body["variables"].get("after")
        kind, _, value = q.partition(":")
        value = value.strip('"')
        hits = [o for o in self.orders if (o["name"] == value if kind == "name" else o["email"] == value)]
        start = int(after) if after else 0
        page = hits[start:start + self.page_size]
        more = start + self.page_size < len(hits)
        data = {"orders": {"edges": [{"node": o, "cursor": str(start + i)} for i, o in enumerate(page)],
                           "pageInfo": {"hasNextPage": more, "endCursor": str(start + self.page_size) if more else None,
                                        "hasPreviousPage": start > 0}}}
        return httpx.Response(200, json={"data": data, "extensions": cost()})


def woo_order(order_id: int, number: str, email: str, status: str = "completed",
              meta: list[dict[str, Any]] | None = None, created: str = "2026-07-01T11:00:00") -> dict[str, Any]:
    """One order as WooCommerce REST v3 returns it (blank fields as "" or null, extra fields)."""
    return {
        "id": order_id, "parent_id": 0, "number": number, "order_key": "wc_order_x", "status": status,
        "currency": "EUR", "date_created": created, "date_created_gmt": created, "total": "29.90",
        "customer_note": "",
        "billing": {"first_name": "John", "last_name": "Doe", "email": email, "country": "FR", "phone": ""},
        "shipping": {"first_name": "John", "last_name": "Doe", "country": "FR", "company": ""},
        "line_items": [{"id": 315, "name": "Woo Single #1", "product_id": 93, "quantity": 2, "sku": "",
                        "meta_data": []}],
        "meta_data": meta or [{"id": 13106, "key": "_download_permissions_granted", "value": "yes"}],
        "_links": {"self": [{"href": f"https://shop.example/wp-json/wc/v3/orders/{order_id}"}]},
    }


def tracking_item(number: str) -> dict[str, Any]:
    return {"tracking_id": "7f4978c390ee633c6294ae0f258656f9", "tracking_provider": "China Post",
            "tracking_link": f"https://example.invalid/t/{number}", "tracking_number": number,
            "date_shipped": "2026-07-03", "_links": {"self": [{"href": "https://shop.example/x"}]}}


NO_ROUTE = {"code": "rest_no_route", "message": "No route was found matching the URL and request method",
            "data": {"status": 404}}


@dataclass
class FakeWooCommerce:
    """Orders searched by `search` (number or billing email), `per_page` pages with X-WP-TotalPages;
    the Shipment Tracking route only when `tracking` is not None."""

    orders: list[dict[str, Any]] = field(default_factory=list)
    tracking: dict[int, list[dict[str, Any]]] | None = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    script: list[Callable[[httpx.Request], httpx.Response]] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.script:
            return self.script.pop(0)(request)
        if request.headers.get("Authorization") != "Basic " + base64.b64encode(f"{WOO_KEY}:{WOO_SECRET}".encode()).decode():
            return httpx.Response(401, json={"code": "woocommerce_rest_cannot_view",
                                             "message": "Sorry, you cannot list resources.", "data": {"status": 401}})
        path = request.url.path
        if path.startswith("/wp-json/wc-shipment-tracking/v3/orders/"):
            if self.tracking is None:
                return httpx.Response(404, json=NO_ROUTE)
            order_id = int(path.split("/")[5])
            return httpx.Response(200, json=self.tracking.get(order_id, []))
        if path == "/wp-json/wc/v3/orders":
            term = request.url.params.get("search", "")
            hits = [o for o in self.orders if term in (o["number"], o["billing"]["email"])] if term else self.orders
            per_page, page = int(request.url.params.get("per_page", 10)), int(request.url.params.get("page", 1))
            pages = max(1, -(-len(hits) // per_page))
            return httpx.Response(200, json=hits[(page - 1) * per_page:page * per_page],
                                  headers={"X-WP-Total": str(len(hits)), "X-WP-TotalPages": str(pages)})
        if path.startswith("/wp-json/wc/v3/orders/"):
            wanted = int(path.rsplit("/", 1)[1])
            for o in self.orders:
                if o["id"] == wanted:
                    return httpx.Response(200, json=o)
            return httpx.Response(404, json={"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.",
                                             "data": {"status": 404}})
        return httpx.Response(404, json=NO_ROUTE)
