"""USPS Tracking API v3: OAuth2 client credentials (token cached until it expires), one number a call.

`base_url` replaces https://apis.usps.com (token at /oauth2/v3/token, tracking at
/tracking/v3/tracking/{number}). Booleans may come as strings; nothing here depends on them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from inbox_agent.tracking.adapter import Adapter, field, parse_time, sort_key, status_from_text, text
from inbox_agent.tracking.carriers import country_code
from inbox_agent.tracking.http import Http, ProviderRefused, ProviderUnavailable, json_body
from inbox_agent.tracking.status import TrackingEvent, TrackingStatus, iso, not_found

_CATEGORIES = {"delivered": "delivered", "out for delivery": "out_for_delivery",
               "available for pickup": "available_for_pickup",
               "delivery attempt": "failed_attempt", "alert": "exception", "return to sender": "returned",
               "pre-shipment": "info_received", "accepted": "in_transit", "in transit": "in_transit"}
_TOKEN_MARGIN_SECONDS = 60


class Usps(Adapter):
    name: ClassVar[str] = "usps"
    post: ClassVar[str | None] = "usps"
    default_base: ClassVar[str] = "https://apis.usps.com"
    needs: ClassVar[tuple[str, ...]] = ("client_id_env", "client_secret_env")
    batch_size = 1

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    async def track(self, http: Http, numbers: Sequence[str], now: datetime) -> dict[str, TrackingStatus]:
        results = {}
        for number in numbers:
            response = await self._get(http, number)
            if response.status_code == 401:
                self._forget_token()
                response = await self._get(http, number)
            if response.status_code in (401, 403):
                raise ProviderRefused(self.name, f"refused the access token (HTTP {response.status_code})")
            payload = json_body(self.name, response)
            if response.status_code in (400, 404):
                detail = text(field(payload, "error", "errors", 0, "detail")) or text(field(payload, "error", "message"))
                code = text(field(payload, "error", "errors", 0, "code"))
                results[number] = not_found(self.name, number, now, f"USPS {code}: {detail}".strip(), payload)
            elif response.status_code == 200 and isinstance(payload, dict):
                results[number] = parse_tracking(number, payload, now)
            else:
                raise ProviderUnavailable(self.name, f"answered HTTP {response.status_code}")
        return results

    async def _get(self, http: Http, number: str) -> Any:
        token = await self._access_token(http)
        return await http.request("GET", f"{self.base_url}/tracking/v3/tracking/{number}", params={"expand": "DETAIL"},
                                  headers={"Authorization": f"Bearer {token}"})

    async def _access_token(self, http: Http) -> str:
        with self._lock:
            if self._token and self._token[1] > time.monotonic():
                return self._token[0]
        response = await http.request("POST", f"{self.base_url}/oauth2/v3/token", json={
            "client_id": self.secrets["client_id"], "client_secret": self.secrets["client_secret"],
            "grant_type": "client_credentials"})
        if response.status_code in (400, 401, 403):
            raise ProviderRefused(self.name, f"refused the client credentials (HTTP {response.status_code})")
        payload = json_body(self.name, response)
        token = text(field(payload, "access_token"))
        if not token:
            raise self.shape_error("token answer without access_token")
        try:
            lifetime = float(text(field(payload, "expires_in")) or 0)
        except ValueError:
            lifetime = 0.0
        with self._lock:
            self._token = (token, time.monotonic() + max(0.0, lifetime - _TOKEN_MARGIN_SECONDS))
        return token

    def _forget_token(self) -> None:
        with self._lock:
            self._token = None


def parse_tracking(number: str, payload: dict[str, Any], now: datetime) -> TrackingStatus:
    events = []
    for e in field(payload, "trackingEvents") or []:
        place = ", ".join(p for p in (text(field(e, "eventCity")), text(field(e, "eventState"))) if p)
        zip_code = text(field(e, "eventZIP"))
        events.append(TrackingEvent(
            time=parse_time(field(e, "GMTTimestamp")) or parse_time(field(e, "eventTimestamp")) or "",
            location=f"{place} {zip_code}".strip(),
            description=text(field(e, "eventType")),
            code=text(field(e, "eventCode")),
            source="USPS",
        ))
    events.sort(key=lambda e: sort_key(e.time), reverse=True)
    category = text(field(payload, "statusCategory")).lower()
    status = _CATEGORIES.get(category) or status_from_text(text(field(payload, "status")))
    if events and events[0].code == "01":
        status = "delivered"
    return TrackingStatus(
        provider="usps", number=number, status=status,
        delivered_at=events[0].time if status == "delivered" and events else None,
        origin_country=country_code(field(payload, "originCountry")) or (
            None if text(field(payload, "mailType")) == "INTERNATIONAL_INBOUND" else "US"),
        destination_country=country_code(field(payload, "destinationCountryCode")) or "US",
        events=tuple(events), last_mile=None,
        tracking_url=f"https://tools.usps.com/go/TrackConfirmAction?tLabels={number}", fetched_at=iso(now),
        raw={"payload": payload},
    )
