"""La Poste Suivi v2 (Colissimo, Lettre suivie, Chronopost, inbound S10): `X-Okapi-Key`, one number a call.

Delivered to the recipient is event DI1; DI2 is delivered back to the sender, i.e. returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from inbox_agent.tracking.adapter import Adapter, field, parse_time, sort_key, text
from inbox_agent.tracking.carriers import country_code
from inbox_agent.tracking.http import Http, ProviderRefused, ProviderUnavailable, json_body
from inbox_agent.tracking.status import TrackingEvent, TrackingStatus, iso, not_found

_CODES = {"DI1": "delivered", "DI2": "returned", "RE1": "returned", "MD2": "out_for_delivery",
          "AG1": "available_for_pickup", "ND1": "failed_attempt", "PB1": "exception", "DO3": "exception",
          "DR1": "info_received"}


class LaPoste(Adapter):
    name: ClassVar[str] = "laposte"
    post: ClassVar[str | None] = "laposte"
    default_base: ClassVar[str] = "https://api.laposte.fr/suivi/v2"
    needs: ClassVar[tuple[str, ...]] = ("api_key_env",)
    batch_size = 1

    async def track(self, http: Http, numbers: Sequence[str], now: datetime) -> dict[str, TrackingStatus]:
        results = {}
        for number in numbers:
            response = await http.request("GET", f"{self.base_url}/idships/{number}", params={"lang": "en_GB"},
                                          headers={"X-Okapi-Key": self.secrets["api_key"], "Accept": "application/json"})
            if response.status_code in (401, 403):
                raise ProviderRefused(self.name, f"refused the key (HTTP {response.status_code})")
            if response.status_code == 404 and "json" not in response.headers.get("content-type", ""):
                results[number] = not_found(self.name, number, now, "La Poste does not know this number (HTTP 404)")
                continue
            payload = json_body(self.name, response)
            shipment = field(payload, "shipment")
            if isinstance(shipment, dict):
                results[number] = parse_shipment(number, shipment, payload, now)
            elif response.status_code in (400, 404) or field(payload, "returnMessage"):
                reason = f"La Poste: {text(field(payload, 'returnMessage')) or 'unknown number'}"
                results[number] = not_found(self.name, number, now, reason, payload)
            else:
                raise ProviderUnavailable(self.name, f"answered HTTP {response.status_code} without a shipment")
        return results


def parse_shipment(number: str, shipment: dict[str, Any], payload: Any, now: datetime) -> TrackingStatus:
    events = [TrackingEvent(
        time=parse_time(field(e, "date")) or "", location="", description=text(field(e, "label")),
        code=text(field(e, "code")), source="La Poste",
    ) for e in field(shipment, "event") or [] if isinstance(e, dict)]
    events.sort(key=lambda e: sort_key(e.time), reverse=True)
    status = (_CODES.get(events[0].code) if events else None) or ("in_transit" if events else "info_received")
    return TrackingStatus(
        provider="laposte", number=number, status=status,
        delivered_at=(parse_time(field(shipment, "deliveryDate")) or events[0].time) if status == "delivered" else None,
        origin_country=country_code(field(shipment, "contextData", "originCountry")),
        destination_country=country_code(field(shipment, "contextData", "arrivalCountry")) or "FR",
        events=tuple(events), last_mile=None,
        tracking_url=text(field(shipment, "url")) or f"https://www.laposte.fr/outils/suivre-vos-envois?code={number}",
        fetched_at=iso(now), raw={"payload": payload},
    )
