"""DHL Shipment Tracking - Unified (DHL Express, DHL Paket, Deutsche Post, eCommerce): `DHL-API-Key`.

Last mile: `details.references[type=local-tracking-number]` with `details.provider.destinationProvider`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from inbox_agent.tracking.adapter import Adapter, field, parse_time, sort_key, text
from inbox_agent.tracking.carriers import country_code
from inbox_agent.tracking.http import Http, ProviderRefused, ProviderUnavailable, json_body
from inbox_agent.tracking.lastmile import from_field
from inbox_agent.tracking.status import TrackingEvent, TrackingStatus, iso, not_found

_CODES = {"pre-transit": "info_received", "transit": "in_transit", "delivered": "delivered", "failure": "exception"}
_CARRIERS = {"dhl", "dhl_ecommerce", "deutsche_post"}


class Dhl(Adapter):
    name: ClassVar[str] = "dhl"
    default_base: ClassVar[str] = "https://api-eu.dhl.com"
    needs: ClassVar[tuple[str, ...]] = ("api_key_env",)
    batch_size = 1

    def accepts(self, number: str, carrier: str) -> bool:
        return carrier in _CARRIERS

    async def track(self, http: Http, numbers: Sequence[str], now: datetime) -> dict[str, TrackingStatus]:
        results = {}
        for number in numbers:
            response = await http.request("GET", f"{self.base_url}/track/shipments", params={"trackingNumber": number},
                                          headers={"DHL-API-Key": self.secrets["api_key"], "Accept": "application/json"})
            if response.status_code in (401, 403):
                raise ProviderRefused(self.name, f"refused the key (HTTP {response.status_code})")
            if response.status_code == 404:
                detail = "" if "json" not in response.headers.get("content-type", "") else text(
                    field(json_body(self.name, response), "detail"))
                results[number] = not_found(self.name, number, now, f"DHL: {detail or 'no shipment with this number'}")
                continue
            payload = json_body(self.name, response)
            shipment = field(payload, "shipments", 0)
            if response.status_code != 200 or not isinstance(shipment, dict):
                raise ProviderUnavailable(self.name, f"answered HTTP {response.status_code} without shipments")
            results[number] = parse_shipment(number, shipment, now)
        return results


def parse_shipment(number: str, shipment: dict[str, Any], now: datetime) -> TrackingStatus:
    events = [TrackingEvent(
        time=parse_time(field(e, "timestamp")) or "",
        location=text(field(e, "location", "address", "addressLocality")),
        description=text(field(e, "description")) or text(field(e, "status")),
        code=text(field(e, "statusCode")), source="DHL",
    ) for e in field(shipment, "events") or [] if isinstance(e, dict)]
    events.sort(key=lambda e: sort_key(e.time), reverse=True)
    status = _CODES.get(text(field(shipment, "status", "statusCode")), "in_transit")
    local = next((r for r in field(shipment, "details", "references") or []
                  if field(r, "type") == "local-tracking-number"), None)
    last_mile = from_field(field(local, "number"), field(shipment, "details", "provider", "destinationProvider"),
                           number) if local else None
    return TrackingStatus(
        provider="dhl", number=number, status=status,
        delivered_at=(parse_time(field(shipment, "status", "timestamp")) if status == "delivered" else None),
        origin_country=country_code(field(shipment, "origin", "address", "countryCode")),
        destination_country=country_code(field(shipment, "destination", "address", "countryCode")),
        events=tuple(events), last_mile=last_mile,
        tracking_url=f"https://www.dhl.com/global-en/home/tracking.html?tracking-id={number}", fetched_at=iso(now),
        raw={"payload": shipment},
    )
