"""Cainiao's public global tracking JSON (what AliExpress trackers read). No credentials.

Unofficial and undocumented: parsed defensively. Delivered is the GTMS_SIGNED action (or status
DELIVERED); GTMS_STA_SIGNED means a station or pickup point took the parcel, not the customer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from inbox_agent.extract.formats import load_format_book
from inbox_agent.tracking.adapter import Adapter, field, parse_time, sort_key, text
from inbox_agent.tracking.carriers import country_code
from inbox_agent.tracking.http import Http, ProviderUnavailable, json_body
from inbox_agent.tracking.lastmile import from_events, from_field
from inbox_agent.tracking.status import TrackingEvent, TrackingStatus, iso, not_found

_ACTIONS = {"GTMS_SIGNED": "delivered", "GTMS_STA_SIGNED": "available_for_pickup", "GTMS_DO_DEPART": "out_for_delivery"}
_STATUSES = {"DELIVERED": "delivered", "WAIT_ACCEPT": "info_received", "DELIVERING": "out_for_delivery",
             "RETURN": "returned", "RETURNED": "returned", "DELIVERY_FAILED": "failed_attempt"}


class Cainiao(Adapter):
    name: ClassVar[str] = "cainiao"
    default_base: ClassVar[str] = "https://global.cainiao.com/global"
    batch_size = 20
    rate_per_second = 2.0

    def accepts(self, number: str, carrier: str) -> bool:
        origin = carrier == "unknown" or carrier in load_format_book().origin_carriers
        return origin or (len(number) == 13 and number[:2].isalpha() and number[-2:].isalpha())

    async def track(self, http: Http, numbers: Sequence[str], now: datetime) -> dict[str, TrackingStatus]:
        response = await http.request("GET", f"{self.base_url}/detail.json",
                                      params={"mailNos": ",".join(numbers), "lang": "en-US", "language": "en-US"})
        payload = json_body(self.name, response)
        modules = field(payload, "module")
        if response.status_code != 200 or not isinstance(modules, list):
            raise ProviderUnavailable(self.name, f"answered HTTP {response.status_code} without a module list")
        results = {}
        for entry in modules:
            number = text(field(entry, "mailNo")).upper()
            if number in numbers:
                results[number] = parse_module(entry, now)
        return results


def parse_module(entry: dict[str, Any], now: datetime) -> TrackingStatus:
    """One `module[]` entry as a TrackingStatus; an EXTERNAL number without events is not found."""
    number = text(field(entry, "mailNo")).upper()
    details = field(entry, "detailList") or []
    if not details and text(field(entry, "mailNoSource")) == "EXTERNAL":
        return not_found("cainiao", number, now, "Cainiao has no record of this number", entry)
    events = [TrackingEvent(
        time=parse_time(field(d, "timeStr"), field(d, "timeZone")) or parse_time(field(d, "time")) or "",
        location=text(field(d, "location")) or text(field(d, "group", "nodeDesc")),
        description=text(field(d, "desc")) or text(field(d, "standerdDesc")),
        code=text(field(d, "actionCode")),
        source="Cainiao",
    ) for d in details if isinstance(d, dict)]
    events.sort(key=lambda e: sort_key(e.time), reverse=True)
    latest = text(field(entry, "latestTrace", "actionCode")) or (events[0].code if events else "")
    status = _ACTIONS.get(latest) or _STATUSES.get(text(field(entry, "status")).upper()) or (
        "in_transit" if events else "not_found")
    destination = country_code(field(entry, "destCountry"))
    last_mile = from_field(field(entry, "copyRealMailNo") or field(entry, "realMailNo"),
                           field(entry, "destCpInfo", "cpName"), number) or from_events(events, number, destination)
    return TrackingStatus(
        provider="cainiao", number=number, status=status,
        delivered_at=next((e.time for e in events if e.code == "GTMS_SIGNED"), None) if status == "delivered" else None,
        origin_country=country_code(field(entry, "originCountry")), destination_country=destination,
        events=tuple(events), last_mile=last_mile,
        tracking_url=f"https://global.cainiao.com/newDetail.htm?mailNoList={number}", fetched_at=iso(now),
        raw={"payload": entry},
    )
