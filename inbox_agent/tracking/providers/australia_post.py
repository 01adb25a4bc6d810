"""Australia Post Shipping & Tracking v1: Basic auth (API key : password) plus `Account-Number`.

Several numbers a call; a number Australia Post does not know comes back as an item with `errors`.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from inbox_agent.tracking.adapter import Adapter, field, parse_time, sort_key, status_from_text, text
from inbox_agent.tracking.http import Http, ProviderRefused, ProviderUnavailable, json_body
from inbox_agent.tracking.status import TrackingEvent, TrackingStatus, iso, not_found


class AustraliaPost(Adapter):
    name: ClassVar[str] = "australia_post"
    post: ClassVar[str | None] = "australia_post"
    default_base: ClassVar[str] = "https://digitalapi.auspost.com.au"
    needs: ClassVar[tuple[str, ...]] = ("api_key_env", "password_env", "account_number_env")
    batch_size = 10

    async def track(self, http: Http, numbers: Sequence[str], now: datetime) -> dict[str, TrackingStatus]:
        basic = base64.b64encode(f"{self.secrets['api_key']}:{self.secrets['password']}".encode()).decode()
        response = await http.request("GET", f"{self.base_url}/shipping/v1/track",
                                      params={"tracking_ids": ",".join(numbers)},
                                      headers={"Authorization": f"Basic {basic}",
                                               "Account-Number": self.secrets["account_number"]})
        if response.status_code in (401, 403):
            raise ProviderRefused(self.name, f"refused the credentials (HTTP {response.status_code})")
        payload = json_body(self.name, response)
        items = field(payload, "tracking_results")
        if not isinstance(items, list):
            raise ProviderUnavailable(self.name, f"answered HTTP {response.status_code} without tracking_results")
        results = {}
        for item in items:
            number = text(field(item, "tracking_id")).upper()
            if number in numbers:
                results[number] = parse_result(number, item, now)
        return results


def parse_result(number: str, item: dict[str, Any], now: datetime) -> TrackingStatus:
    if field(item, "errors"):
        reason = f"Australia Post {text(field(item, 'errors', 0, 'code'))}: {text(field(item, 'errors', 0, 'name'))}"
        return not_found("australia_post", number, now, reason, item)
    article = field(item, "trackable_items", 0) or {}
    events = [TrackingEvent(
        time=parse_time(field(e, "date")) or "", location=text(field(e, "location")),
        description=text(field(e, "description")), source="Australia Post",
    ) for e in field(article, "events") or [] if isinstance(e, dict)]
    events.sort(key=lambda e: sort_key(e.time), reverse=True)
    stated = text(field(article, "status")) or text(field(item, "status"))
    status = status_from_text(stated, default="") or (status_from_text(events[0].description) if events else "info_received")
    return TrackingStatus(
        provider="australia_post", number=number, status=status,
        delivered_at=events[0].time if status == "delivered" and events else None,
        origin_country=None, destination_country="AU", events=tuple(events), last_mile=None,
        tracking_url=f"https://auspost.com.au/mypost/track/details/{number}", fetched_at=iso(now),
        raw={"payload": item},
    )
