"""TrackingMore API v4: create trackings (40 a call), then get their results; header `Tracking-Api-Key`.

`POST /trackings/batch` creates up to 40 trackings (each needs its `courier_code`: ours mapped
below, else `POST /couriers/detect`); `GET /trackings/get?tracking_numbers=a,b` answers them.
A number is created once per adapter life; later rounds only get it.
Every answer is `{"meta": {"code", "message"}, "data": ...}`; "already exists" (4016 in the v2/v3
table, 4101 in v4) is no error. An item holds `origin_info` and `destination_info`, each with the
`courier_code` of its carrier and that carrier's events (`trackinfo`): the destination carrier's
events are the relayed last-mile leg (`Adapter.relayed_last_mile`). TrackingMore names no
separate last-mile number, so the last mile is the number itself (an S10 number keeps it across
the hand-over) or a post's number written in an event text. Item field names are not in the
official SDK, only in integrations: the parser reads them tolerantly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from inbox_agent.extract.formats import load_format_book
from inbox_agent.tracking.adapter import Adapter, field, parse_time, sort_key, status_from_text, text
from inbox_agent.tracking.carriers import country_code
from inbox_agent.tracking.http import Http, ProviderRefused, ProviderUnavailable, json_body
from inbox_agent.tracking.lastmile import from_events
from inbox_agent.tracking.status import TrackingEvent, TrackingStatus, iso, not_found

_STATUSES = {"pending": "not_found", "notfound": "not_found", "transit": "in_transit", "pickup": "out_for_delivery",
             "delivered": "delivered", "expired": "expired", "undelivered": "failed_attempt",
             "exception": "exception", "inforeceived": "info_received"}
# Our carrier codes -> TrackingMore courier codes seen in its SDKs' examples; others are detected.
_COURIERS = {"china_post": "china-post", "china_ems": "china-ems", "cainiao": "cainiao", "yunexpress": "yunexpress",
             "4px": "4px", "usps": "usps"}
_OK = 200
_ALREADY_EXISTS = {4016, 4101}
_REFUSED = {401, 403, 4001, 4002}
_EMPTY = {4017, 4031}
_NUMBER_ERRORS = {4014: "invalid tracking number", 4015: "invalid courier code", 4032: "cannot detect the courier"}


class TrackingMore(Adapter):
    name: ClassVar[str] = "trackingmore"
    default_base: ClassVar[str] = "https://api.trackingmore.com/v4"
    needs: ClassVar[tuple[str, ...]] = ("api_key_env",)
    universal: ClassVar[bool] = True
    batch_size = 40
    rate_per_second = 3.0
    burst = 3

    def event_status(self, event: TrackingEvent) -> str:
        """A checkpoint's delivery status (kept in `code`), else its wording."""
        status = _STATUSES.get(event.code)
        return status if status and status != "not_found" else status_from_text(event.description)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._created: set[str] = set()  # numbers created by this adapter: later rounds only get them

    async def track(self, http: Http, numbers: Sequence[str], now: datetime) -> dict[str, TrackingStatus]:
        results: dict[str, TrackingStatus] = {}
        items = []
        for number in (n for n in numbers if n not in self._created):
            courier = await self._courier(http, number)
            if courier:
                items.append({"tracking_number": number, "courier_code": courier})
            else:
                results[number] = not_found(self.name, number, now, "TrackingMore cannot detect the courier")
        if items:
            code, data, message = await self._call(http, "POST", "/trackings/batch", json=items)
            if code not in (_OK, *_ALREADY_EXISTS):
                raise ProviderUnavailable(self.name, f"create trackings answered code {code} {message}".strip())
            for error in field(data, "error") or []:
                number = text(field(error, "tracking_number"))
                error_code = field(error, "errorCode") or field(error, "code")
                if number in numbers and error_code in _NUMBER_ERRORS:
                    reason = f"TrackingMore {error_code}: {_NUMBER_ERRORS[error_code]}"
                    results[number] = not_found(self.name, number, now, reason, error)
            self._created.update(item["tracking_number"] for item in items
                                 if item["tracking_number"] not in results)
        pending = [n for n in numbers if n in self._created]
        if not pending:
            return results
        code, data, message = await self._call(http, "GET", "/trackings/get",
                                               params={"tracking_numbers": ",".join(pending)})
        if code not in (_OK, *_EMPTY):
            raise ProviderUnavailable(self.name, f"get results answered code {code} {message}".strip())
        for item in data if isinstance(data, list) else [data] if isinstance(data, dict) else []:
            number = text(field(item, "tracking_number"))
            if number in pending:
                results[number] = parse_item(item, now)
        for number in pending:
            results.setdefault(number, not_found(self.name, number, now, "TrackingMore has no result for this number"))
        return results

    async def _courier(self, http: Http, number: str) -> str | None:
        identified = load_format_book().identify(number)
        known = _COURIERS.get(identified.carrier) if identified is not None else None
        if known:
            return known
        code, data, _ = await self._call(http, "POST", "/couriers/detect", json={"tracking_number": number})
        found = data[0] if isinstance(data, list) and data else data
        return (text(field(found, "courier_code")) or None) if code == _OK else None

    async def _call(self, http: Http, method: str, path: str, **kwargs: Any) -> tuple[int, Any, str]:
        """(meta.code, data, meta.message) of one call; ProviderRefused for a refused key."""
        response = await http.request(method, f"{self.base_url}{path}",
                                      headers={"Tracking-Api-Key": self.secrets["api_key"]}, **kwargs)
        if response.status_code in (401, 403):
            raise ProviderRefused(self.name, f"refused the key (HTTP {response.status_code})")
        payload = json_body(self.name, response)
        code = field(payload, "meta", "code")
        if not isinstance(code, int):
            raise self.shape_error(f"HTTP {response.status_code} without meta.code")
        if code in _REFUSED:
            raise ProviderRefused(self.name, f"refused the key (code {code})")
        if code == 429:
            raise ProviderUnavailable(self.name, "rate limited (code 429)")
        return code, field(payload, "data"), text(field(payload, "meta", "message"))


def parse_item(item: dict[str, Any], now: datetime) -> TrackingStatus:
    """One `data[]` item of get results as a TrackingStatus (both carriers' events, newest first)."""
    number = text(field(item, "tracking_number"))
    events = []
    for side in ("origin_info", "destination_info"):
        courier = text(field(item, side, "courier_code")) or text(field(item, "courier_code"))
        for checkpoint in field(item, side, "trackinfo") or []:
            if not isinstance(checkpoint, dict):
                continue
            events.append(TrackingEvent(
                time=parse_time(field(checkpoint, "checkpoint_date")) or "",
                location=text(field(checkpoint, "location")),
                description=text(field(checkpoint, "tracking_detail")),
                code=text(field(checkpoint, "checkpoint_delivery_status")), source=courier,
            ))
    events.sort(key=lambda e: sort_key(e.time), reverse=True)
    raw_status = text(field(item, "delivery_status")).lower()
    status = _STATUSES.get(raw_status, "in_transit") if raw_status else "not_found"
    if raw_status in ("exception", "pickup"):
        status = status_from_text(text(field(item, "latest_event")) or (events[0].description if events else ""),
                                  status)
    destination = country_code(field(item, "destination_country"))
    error = f"TrackingMore has no information about this number yet ({raw_status})" if status == "not_found" else None
    # "pending": just created, not fetched from the carrier yet: asked again later (not cached)
    return TrackingStatus(
        provider="trackingmore", number=number, status=status,
        delivered_at=(events[0].time or None if events else None) if status == "delivered" else None,
        origin_country=country_code(field(item, "origin_country")), destination_country=destination,
        events=tuple(events), last_mile=from_events(events, number, destination), tracking_url=None,
        fetched_at=iso(now), error=error, retry=raw_status == "pending", raw={"payload": item},
    )
