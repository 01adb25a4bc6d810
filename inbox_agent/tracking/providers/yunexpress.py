"""YunExpress OMS API: GET Tracking/GetTrackInfo, Basic auth over "<CustomerCode>&<ApiSecret>".

The environment variable named by `api_key_env` holds "<CustomerCode>&<ApiSecret>" as YunExpress
issues them. Status codes are undocumented, so the status comes from the newest event's wording.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from inbox_agent.tracking.adapter import Adapter, field, parse_time, sort_key, status_from_text, text
from inbox_agent.tracking.carriers import country_code
from inbox_agent.tracking.http import Http, ProviderRefused, ProviderUnavailable, json_body
from inbox_agent.tracking.lastmile import from_events, from_field
from inbox_agent.tracking.status import TrackingEvent, TrackingStatus, iso, not_found


class YunExpress(Adapter):
    name: ClassVar[str] = "yunexpress"
    default_base: ClassVar[str] = "http://oms.api.yunexpress.com/api"
    needs: ClassVar[tuple[str, ...]] = ("api_key_env",)
    batch_size = 1
    rate_per_second = 2.0

    def accepts(self, number: str, carrier: str) -> bool:
        return carrier == "yunexpress"

    async def track(self, http: Http, numbers: Sequence[str], now: datetime) -> dict[str, TrackingStatus]:
        token = base64.b64encode(self.secrets["api_key"].encode()).decode()
        results = {}
        for number in numbers:
            response = await http.request("GET", f"{self.base_url}/Tracking/GetTrackInfo",
                                          params={"OrderNumber": number}, headers={"Authorization": f"Basic {token}"})
            if response.status_code in (401, 403):
                raise ProviderRefused(self.name, f"refused the credentials (HTTP {response.status_code})")
            payload = json_body(self.name, response)
            if response.status_code != 200 or not isinstance(payload, dict):
                raise ProviderUnavailable(self.name, f"answered HTTP {response.status_code}")
            results[number] = parse_track_info(number, payload, now)
        return results


def parse_track_info(number: str, payload: dict[str, Any], now: datetime) -> TrackingStatus:
    item = field(payload, "Item")
    if text(field(payload, "Code")) not in ("0000", "5001") or not isinstance(item, dict):
        reason = f"YunExpress: {text(field(payload, 'Message')) or 'no record'} (code {text(field(payload, 'Code'))})"
        return not_found("yunexpress", number, now, reason, payload)
    events = [TrackingEvent(
        time=parse_time(field(d, "ProcessDate")) or "",
        location=text(field(d, "ProcessLocation")),
        description=text(field(d, "ProcessContent")),
        code=text(field(d, "TrackingStatus")),
        source="YunExpress",
    ) for d in field(item, "OrderTrackingDetails") or [] if isinstance(d, dict)]
    events.sort(key=lambda e: sort_key(e.time), reverse=True)
    status = status_from_text(events[0].description) if events else "info_received"
    destination = country_code(field(item, "CountryCode"))
    waybill = text(field(item, "WayBillNumber")).upper() or number
    local = text(field(item, "TrackingNumber")).upper()
    last_mile = None
    if local and local not in (waybill, number):
        last_mile = from_field(local, field(item, "LastMileCarrierName"), number)
    return TrackingStatus(
        provider="yunexpress", number=number, status=status,
        delivered_at=events[0].time if status == "delivered" and events else None,
        origin_country=country_code(field(item, "OriginCountryCode")), destination_country=destination,
        events=tuple(events), last_mile=last_mile or from_events(events, number, destination),
        tracking_url=f"https://www.yuntrack.com/parcelTracking?id={number}", fetched_at=iso(now),
        raw={"payload": payload},
    )
