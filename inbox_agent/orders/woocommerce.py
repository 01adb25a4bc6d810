"""WooCommerce orders: REST v3 (`/wp-json/wc/v3/orders`), tracking from Shipment Tracking.

Authentication is HTTP Basic with the consumer key and secret. An order number is searched
(`search=`, paginated by `X-WP-TotalPages`) and kept only when its `number` is the one asked;
an address is searched the same way and kept only when it is the billing email. Parcels come
from the Shipment Tracking extension's endpoint
(`/wp-json/wc-shipment-tracking/v3/orders/{id}/shipment-trackings`); where the extension has no
route (404 `rest_no_route`) they come from the order's `_wc_shipment_tracking_items` meta.
"""

from __future__ import annotations

from typing import Any

import httpx

from inbox_agent.config import WooCommerceOrders
from inbox_agent.orders.model import LineItem, Order, Parcel, order_number
from inbox_agent.orders.source import moment, parcel
from inbox_agent.tracking.adapter import field, text
from inbox_agent.tracking.http import Http, ProviderRefused, ProviderUnavailable, json_body

PER_PAGE = 20
MAX_PAGES = 5
META_KEY = "_wc_shipment_tracking_items"


class WooCommerceSource:
    name = "woocommerce"

    def __init__(self, settings: WooCommerceOrders, key: str, secret: str) -> None:
        self.base = settings.url.rstrip("/")
        self.auth = httpx.BasicAuth(key, secret)
        self.supplier_order_meta = settings.supplier_order_meta
        self.tracking_route = True

    async def by_number(self, http: Http, number: str) -> list[Order]:
        wanted = order_number(number)
        raw = [o for o in await self._search(http, wanted) if order_number(text(o.get("number"))) == wanted]
        if not raw and wanted.isdigit():
            single = await self._get(http, f"/wp-json/wc/v3/orders/{wanted}")
            if isinstance(single, dict) and order_number(text(single.get("number"))) == wanted:
                raw = [single]
        return [await self._order(http, o) for o in raw]

    async def by_email(self, http: Http, email: str) -> list[Order]:
        raw = [o for o in await self._search(http, email)
               if text(field(o, "billing", "email")).lower() == email.strip().lower()]
        return [await self._order(http, o) for o in raw]

    async def probe(self, http: Http) -> str:
        response = await self._response(http, "/wp-json/wc/v3/orders", {"per_page": 1})
        return f"{self.base} answers ({response.headers.get('X-WP-Total', '?')} orders)"

    async def _search(self, http: Http, term: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            response = await self._response(http, "/wp-json/wc/v3/orders",
                                            {"search": term, "per_page": PER_PAGE, "page": page})
            body = json_body(http.provider, response)
            if not isinstance(body, list):
                raise ProviderUnavailable(http.provider, "answered JSON of an unexpected shape (orders are not a list)")
            found += [o for o in body if isinstance(o, dict)]
            pages = response.headers.get("X-WP-TotalPages", "1")
            if not pages.isdigit() or page >= int(pages):
                break
        return found

    async def _get(self, http: Http, path: str) -> Any:
        """The JSON at `path`, or None when WooCommerce says it does not exist (404)."""
        response = await self._response(http, path, {}, missing_ok=True)
        return None if response.status_code == 404 else json_body(http.provider, response)

    async def _response(self, http: Http, path: str, params: dict[str, Any], missing_ok: bool = False
                        ) -> httpx.Response:
        response = await http.request("GET", self.base + path, params=params, auth=self.auth)
        if response.status_code in (401, 403):
            raise ProviderRefused(http.provider, f"refused the consumer key (HTTP {response.status_code}): check "
                                             "[orders.woocommerce] consumer_key_env, consumer_secret_env and url")
        if response.status_code == 404 and missing_ok:
            return response
        if response.status_code != 200:
            body = _error(response)
            raise ProviderUnavailable(http.provider, f"answered HTTP {response.status_code} {body}".strip())
        return response

    async def _order(self, http: Http, raw: dict[str, Any]) -> Order:
        parcels = await self._parcels(http, raw)
        meta = {text(m.get("key")): m.get("value") for m in raw.get("meta_data") or [] if isinstance(m, dict)}
        shipping: dict[str, Any] = raw["shipping"] if isinstance(raw.get("shipping"), dict) else {}
        billing: dict[str, Any] = raw["billing"] if isinstance(raw.get("billing"), dict) else {}
        person = shipping if text(shipping.get("first_name")) or text(shipping.get("last_name")) else billing
        name = " ".join(p for p in (text(person.get("first_name")), text(person.get("last_name"))) if p)
        created = moment(raw.get("date_created_gmt")) or moment(raw.get("date_created"))
        items = [LineItem(title=text(i.get("name")), quantity=i["quantity"] if isinstance(i.get("quantity"), int)
                          and i["quantity"] > 0 else 1)
                 for i in raw.get("line_items") or [] if isinstance(i, dict) and text(i.get("name"))]
        return Order(
            number=text(raw.get("number")) or text(raw.get("id")), email=text(billing.get("email")).lower(),
            source=self.name, customer_name=name,
            country=(text(shipping.get("country")) or text(billing.get("country"))).upper(), created_at=created,
            fulfilled=text(raw.get("status")) == "completed" or bool(parcels), parcels=tuple(parcels),
            items=tuple(items),
            supplier_order=text(meta.get(self.supplier_order_meta)) if self.supplier_order_meta else "",
        )

    async def _parcels(self, http: Http, raw: dict[str, Any]) -> list[Parcel]:
        items: Any = None
        if self.tracking_route and raw.get("id") is not None:
            path = f"/wp-json/wc-shipment-tracking/v3/orders/{raw['id']}/shipment-trackings"
            response = await self._response(http, path, {}, missing_ok=True)
            if response.status_code == 404:
                self.tracking_route = not _error(response).startswith("rest_no_route")
            else:
                items = json_body(http.provider, response)
        if items is None:
            items = next((m.get("value") for m in raw.get("meta_data") or []
                          if isinstance(m, dict) and m.get("key") == META_KEY), None)
        parcels: list[Parcel] = []
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            company = text(item.get("tracking_provider")) or text(item.get("custom_tracking_provider"))
            found = parcel(text(item.get("tracking_number")), company=company,
                           url=text(item.get("tracking_link")) or text(item.get("custom_tracking_link")))
            if found is not None and found not in parcels:
                parcels.append(found)
        return parcels


def _error(response: httpx.Response) -> str:
    """WooCommerce's error code and message, when the body has them."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return f"{text(field(body, 'code'))}: {text(field(body, 'message'))}" if isinstance(body, dict) else ""
