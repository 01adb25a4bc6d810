"""AfterShip Tracking API 2025-07: create a tracking, then get it; header `as-api-key`.

`POST /trackings` with a flat body creates the tracking and answers its id; `GET /trackings/{id}`
answers it with its checkpoints. A number already created answers meta.code 4003: it is then read
with `GET /trackings?tracking_numbers=...`. Later lookups get the tracking by its id directly (ids are
kept for the adapter's life; a 4004 forgets the id). Every answer is `{"meta": {code, message, type},
"data": ...}`. `last_mile` names the destination carrier's own number and slug; checkpoints carry
the slug of the carrier that reported them, which makes the relayed last-mile leg
(`Adapter.relayed_last_mile`). A tracking AfterShip has no news about yet (`Pending`, as every
tracking is just after its creation) is a not_found with `retry`: it is not cached, and the track
stage asks again later before the playbook acts on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

from inbox_agent.tracking.adapter import Adapter, field, parse_time, sort_key, status_from_text, text
from inbox_agent.tracking.carriers import country_code
from inbox_agent.tracking.http import Http, ProviderRefused, ProviderUnavailable, json_body
from inbox_agent.tracking.lastmile import from_events, from_field
from inbox_agent.tracking.status import LastMile, TrackingEvent, TrackingStatus, iso, not_found

_TAGS = {"InfoReceived": "info_received", "InTransit": "in_transit", "OutForDelivery": "out_for_delivery",
         "AttemptFail": "failed_attempt", "Delivered": "delivered", "AvailableForPickup": "available_for_pickup",
         "Exception": "exception", "Expired": "expired", "Pending": "not_found"}
_ALREADY_EXISTS = 4003
_DOES_NOT_EXIST = 4004
_NUMBER_ERRORS = {4005: "invalid tracking number", 4010: "invalid courier slug",
                  4011: "the courier needs more details than a number", 4012: "cannot detect the courier",
                  4017: "the number has a format no courier uses"}


class AfterShip(Adapter):
    name: ClassVar[str] = "aftership"
    default_base: ClassVar[str] = "https://api.aftership.com/tracking/2025-07"
    needs: ClassVar[tuple[str, ...]] = ("api_key_env",)
    universal: ClassVar[bool] = True
    batch_size = 1
    rate_per_second = 5.0  # GET /trackings/:id, the tightest of the two endpoints used per number
    burst = 5

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ids: dict[str, str] = {}  # tracking number -> AfterShip tracking id, for the adapter's life

    def event_status(self, event: TrackingEvent) -> str:
        """A checkpoint's tag (kept in `code` as "Tag" or "Tag_Subtag"), else its wording."""
        tag = _TAGS.get(event.code.split("_")[0])
        return tag if tag and tag != "not_found" else status_from_text(event.description)

    def relayed_last_mile(self, origin: TrackingStatus, target: LastMile) -> TrackingStatus | None:
        """As for every universal tracker, with the last-mile courier's own link when AfterShip gives it."""
        leg = super().relayed_last_mile(origin, target)
        last = field(origin.raw, "payload", "last_mile")
        link = text(field(last, "courier_tracking_link"))
        if leg is None or not link or text(field(last, "tracking_number")) != target.number:
            return leg
        return replace(leg, tracking_url=link)

    async def track(self, http: Http, numbers: Sequence[str], now: datetime) -> dict[str, TrackingStatus]:
        return {number: await self._one(http, number, now) for number in numbers}

    async def _one(self, http: Http, number: str, now: datetime) -> TrackingStatus:
        tracking_id = self._ids.get(number)
        if tracking_id is None:
            code, data, message = await self._call(http, "POST", "/trackings", json={"tracking_number": number})
            if code in _NUMBER_ERRORS:
                return not_found(self.name, number, now, f"AfterShip {code}: {_NUMBER_ERRORS[code]} ({message})",
                                 {"meta": {"code": code, "message": message}})
            if code == _ALREADY_EXISTS:
                return await self._listed(http, number, now)
            tracking_id = text(field(data, "id"))
            if code not in (200, 201) or not tracking_id:
                raise ProviderUnavailable(self.name, f"create tracking answered code {code} {message}".strip())
            self._ids[number] = tracking_id
        code, data, message = await self._call(http, "GET", f"/trackings/{quote(tracking_id, safe='')}")
        if code == _DOES_NOT_EXIST:
            self._ids.pop(number, None)
            return not_found(self.name, number, now, f"AfterShip {code}: {message or 'tracking does not exist'}",
                             {"meta": {"code": code, "message": message}})
        if code != 200 or not isinstance(data, dict):
            raise ProviderUnavailable(self.name, f"get tracking answered code {code} {message}".strip())
        return parse_tracking(data, now)

    async def _listed(self, http: Http, number: str, now: datetime) -> TrackingStatus:
        """A tracking created earlier (by us before a restart, or by the store's own AfterShip use)."""
        code, data, message = await self._call(http, "GET", "/trackings", params={"tracking_numbers": number})
        found = [t for t in field(data, "trackings") or [] if text(field(t, "tracking_number")) == number]
        if code != 200 or not found or not isinstance(found[0], dict):
            raise ProviderUnavailable(self.name, f"said the tracking of {number} exists but did not list it")
        if text(field(found[0], "id")):
            self._ids[number] = text(field(found[0], "id"))
        return parse_tracking(found[0], now)

    async def _call(self, http: Http, method: str, path: str, **kwargs: Any) -> tuple[int, Any, str]:
        """(meta.code, data, meta.message) of one call; ProviderRefused for a refused key."""
        response = await http.request(method, f"{self.base_url}{path}", headers={"as-api-key": self.secrets["api_key"]},
                                      **kwargs)
        if response.status_code in (401, 403):
            raise ProviderRefused(self.name, f"refused the key (HTTP {response.status_code})")
        payload = json_body(self.name, response)
        code = field(payload, "meta", "code")
        if not isinstance(code, int):
            raise self.shape_error(f"HTTP {response.status_code} without meta.code")
        if code in (401, 403):
            raise ProviderRefused(self.name, f"refused the key (code {code})")
        return code, field(payload, "data"), text(field(payload, "meta", "message"))


def parse_tracking(data: dict[str, Any], now: datetime) -> TrackingStatus:
    """One tracking object (`data` of get, or an item of the list's `trackings`) as a TrackingStatus."""
    number = text(field(data, "tracking_number"))
    slug = text(field(data, "slug"))
    events = []
    for checkpoint in field(data, "checkpoints") or []:
        if not isinstance(checkpoint, dict):
            continue
        place = text(field(checkpoint, "location")) or ", ".join(
            p for p in (text(field(checkpoint, "city")), text(field(checkpoint, "state")),
                        text(field(checkpoint, "country_region_name")) or text(field(checkpoint, "country_name"))) if p)
        tag, subtag = text(field(checkpoint, "tag")), text(field(checkpoint, "subtag"))
        events.append(TrackingEvent(
            time=parse_time(field(checkpoint, "checkpoint_time")) or "", location=place,
            description=text(field(checkpoint, "message")) or text(field(checkpoint, "subtag_message")),
            code=subtag if subtag.startswith(tag) else tag, source=text(field(checkpoint, "slug")) or slug,
        ))
    events.sort(key=lambda e: sort_key(e.time), reverse=True)
    tag = text(field(data, "tag"))
    status = _TAGS.get(tag, "in_transit") if tag else "not_found"
    if status == "exception":
        status = status_from_text(text(field(data, "subtag_message")), "exception")
    destination = country_code(field(data, "destination_country_region") or field(data, "destination_country_iso3"))
    last = field(data, "last_mile") or {}
    last_mile = from_field(field(last, "tracking_number"), field(last, "slug"), number) if isinstance(last, dict) else None
    last_mile = last_mile or from_events(events, number, destination)
    delivered = [e for e in events if e.code.startswith("Delivered")]
    error = "AfterShip has no information about this number yet (Pending)" if tag == "Pending" else None
    return TrackingStatus(
        provider="aftership", number=number, status=status,
        delivered_at=(delivered[0].time if delivered else events[0].time if events else None)
        if status == "delivered" else None,
        origin_country=country_code(field(data, "origin_country_region") or field(data, "origin_country_iso3")),
        destination_country=destination, events=tuple(events), last_mile=last_mile,
        tracking_url=text(field(data, "courier_tracking_link")) or None, fetched_at=iso(now), error=error,
        retry=tag == "Pending", raw={"payload": data},
    )
