"""17TRACK Tracking API v2.2: register, then gettrackinfo, up to 40 numbers a call, `17token`.

Registration is asynchronous: a number registered just now answers NotFound until the carrier
reports, which is a normal (non-error) not_found that the next lookup after the TTL refreshes.
A number is registered once per adapter life; later rounds only call gettrackinfo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

from inbox_agent.tracking.adapter import Adapter, field, parse_time, sort_key, status_from_text, text
from inbox_agent.tracking.carriers import country_code
from inbox_agent.tracking.http import Http, ProviderRefused, ProviderUnavailable, json_body
from inbox_agent.tracking.lastmile import from_events, from_field
from inbox_agent.tracking.status import TrackingEvent, TrackingStatus, iso, not_found

_MAIN = {"NotFound": "not_found", "InfoReceived": "info_received", "InTransit": "in_transit", "Expired": "expired",
         "AvailableForPickup": "available_for_pickup", "OutForDelivery": "out_for_delivery",
         "DeliveryFailure": "failed_attempt", "Delivered": "delivered", "Exception": "exception"}
_RETURNED = {"Exception_Returning", "Exception_Returned"}
_STAGES = {"InfoReceived": "info_received", "PickedUp": "in_transit", "Departure": "in_transit",
           "Arrival": "in_transit", "AvailableForPickup": "available_for_pickup", "OutForDelivery": "out_for_delivery",
           "Delivered": "delivered", "Returning": "returned", "Returned": "returned"}
_ALREADY_REGISTERED = -18019901
_NOT_REGISTERED = -18019902
_AUTH_CODES = {-18010001, -18010002, -18010004}
_NUMBER_ERRORS = {-18010012: "invalid number format", -18019903: "carrier cannot be detected",
                  -18019909: "no tracking information", -18019910: "wrong carrier code"}


class SeventeenTrack(Adapter):
    name: ClassVar[str] = "seventeen_track"
    default_base: ClassVar[str] = "https://api.17track.net/track/v2.2"
    needs: ClassVar[tuple[str, ...]] = ("api_key_env",)
    universal: ClassVar[bool] = True
    batch_size = 40
    rate_per_second = 3.0
    burst = 3
    round_calls = 2  # register, then gettrackinfo

    def event_status(self, event: TrackingEvent) -> str:
        """An event's `sub_status` (e.g. Delivered_Other) or `stage`, else its wording."""
        if event.code in _RETURNED:
            return "returned"
        return (_MAIN.get(event.code.split("_")[0]) or _STAGES.get(event.code)
                or status_from_text(event.description))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._registered: set[str] = set()  # registered by this adapter: later rounds only gettrackinfo

    async def track(self, http: Http, numbers: Sequence[str], now: datetime) -> dict[str, TrackingStatus]:
        results: dict[str, TrackingStatus] = {}
        new = [n for n in numbers if n not in self._registered]
        if new:
            register = await self._call(http, "register", [{"number": n} for n in new])
            for item in field(register, "data", "accepted") or []:
                self._registered.add(text(field(item, "number")))
            for item in field(register, "data", "rejected") or []:
                code = field(item, "error", "code")
                number = text(field(item, "number"))
                if code == _ALREADY_REGISTERED:
                    self._registered.add(number)
                elif number in numbers and code in _NUMBER_ERRORS:
                    reason = f"17TRACK: {_NUMBER_ERRORS[code]} ({text(field(item, 'error', 'message'))})"
                    results[number] = not_found(self.name, number, now, reason, item)
        pending = [n for n in numbers if n not in results]
        if pending:
            info = await self._call(http, "gettrackinfo", [{"number": n} for n in pending])
            for item in field(info, "data", "accepted") or []:
                number = text(field(item, "number"))
                if number in pending:
                    results[number] = parse_accepted(item, now)
            for item in field(info, "data", "rejected") or []:
                number = text(field(item, "number"))
                if number in pending and number not in results:
                    reason = f"17TRACK: {text(field(item, 'error', 'message')) or 'rejected'}"
                    # registered in an earlier round but no more (17TRACK stopped it): register again soon
                    again = field(item, "error", "code") == _NOT_REGISTERED and number not in new
                    if again:
                        self._registered.discard(number)
                    results[number] = replace(not_found(self.name, number, now, reason, item), retry=again)
        return results

    async def _call(self, http: Http, endpoint: str, body: list[dict[str, Any]]) -> Any:
        response = await http.request("POST", f"{self.base_url}/{endpoint}", json=body,
                                      headers={"17token": self.secrets["api_key"]})
        if response.status_code in (401, 403):
            raise ProviderRefused(self.name, f"refused the key (HTTP {response.status_code})")
        payload = json_body(self.name, response)
        code = field(payload, "code")
        if response.status_code != 200 or not isinstance(payload, dict):
            raise ProviderUnavailable(self.name, f"{endpoint} answered HTTP {response.status_code}")
        if code in _AUTH_CODES:
            raise ProviderRefused(self.name, f"refused the key (code {code})")
        if code != 0:
            message = text(field(payload, "data", "errors", 0, "message"))
            raise ProviderUnavailable(self.name, f"{endpoint} failed with code {code} {message}".strip())
        return payload


def parse_accepted(item: dict[str, Any], now: datetime) -> TrackingStatus:
    """One `accepted[]` item of /gettrackinfo as a TrackingStatus."""
    number = text(field(item, "number"))
    info = field(item, "track_info") or {}
    sub = text(field(info, "latest_status", "sub_status"))
    main = text(field(info, "latest_status", "status"))
    status = "returned" if sub in _RETURNED else _MAIN.get(main, "in_transit") if main else "not_found"
    events = []
    for provider in field(info, "tracking", "providers") or []:
        name = text(field(provider, "provider", "name"))
        for event in field(provider, "events") or []:
            events.append(TrackingEvent(
                time=parse_time(field(event, "time_iso")) or parse_time(field(event, "time_utc")) or "",
                location=text(field(event, "location")),
                description=text(field(event, "description")),
                code=text(field(event, "sub_status")) or text(field(event, "stage")),
                source=name,
            ))
    events.sort(key=lambda e: sort_key(e.time), reverse=True)
    destination = country_code(field(info, "shipping_info", "recipient_address", "country"))
    misc = field(info, "misc_info") or {}
    local = field(misc, "local_number")
    last_mile = None
    if local not in (None, "", 0, "0"):
        last_mile = from_field(local, field(misc, "local_provider"), number, field(misc, "local_key"))
    last_mile = last_mile or from_events(events, number, destination)
    delivered_at = None
    if status == "delivered":
        milestone = [m for m in field(info, "milestone") or [] if field(m, "key_stage") == "Delivered"]
        delivered_at = (parse_time(field(milestone[0], "time_iso")) if milestone else None) or (
            events[0].time if events else None)
    return TrackingStatus(
        provider="seventeen_track", number=number, status=status, delivered_at=delivered_at,
        origin_country=country_code(field(info, "shipping_info", "shipper_address", "country")),
        destination_country=destination, events=tuple(events), last_mile=last_mile,
        tracking_url=f"https://t.17track.net/en#nums={number}", fetched_at=iso(now),
        raw={"payload": item},
    )
