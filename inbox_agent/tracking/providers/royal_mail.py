"""Royal Mail Tracking API v2: `X-IBM-Client-Id`/`X-IBM-Client-Secret`, one mail piece a call.

`client_id_env` and `client_secret_env` name the two environment variables. Delivered is the
DELIVERED status category or one of the delivered event codes (EVKSP, EVKSF, EVKOP).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from inbox_agent.tracking.adapter import Adapter, field, parse_time, sort_key, status_from_text, text
from inbox_agent.tracking.carriers import country_code
from inbox_agent.tracking.http import Http, ProviderRefused, ProviderUnavailable, json_body
from inbox_agent.tracking.status import TrackingEvent, TrackingStatus, iso, not_found

_DELIVERED_CODES = {"EVKSP", "EVKSF", "EVKOP"}
_NOT_FOUND_CODES = {"E1142", "E1283", "E1284", "E1307", "E1308"}


class RoyalMail(Adapter):
    name: ClassVar[str] = "royal_mail"
    post: ClassVar[str | None] = "royal_mail"
    default_base: ClassVar[str] = "https://api.royalmail.net"
    needs: ClassVar[tuple[str, ...]] = ("client_id_env", "client_secret_env")
    batch_size = 1

    async def track(self, http: Http, numbers: Sequence[str], now: datetime) -> dict[str, TrackingStatus]:
        headers = {"X-IBM-Client-Id": self.secrets["client_id"], "X-IBM-Client-Secret": self.secrets["client_secret"],
                   "X-Accept-RMG-Terms": "yes", "Accept": "application/json"}
        results = {}
        for number in numbers:
            piece = re.sub(r"[^A-Za-z0-9]", "", number)
            response = await http.request("GET", f"{self.base_url}/mailpieces/v2/{piece}/events", headers=headers)
            if response.status_code in (401, 403):
                raise ProviderRefused(self.name, f"refused the client id/secret (HTTP {response.status_code})")
            payload = json_body(self.name, response)
            code = text(field(payload, "errors", 0, "errorCode"))
            if isinstance(field(payload, "mailPieces"), dict):
                results[number] = parse_mailpiece(number, payload, now)
            elif code in _NOT_FOUND_CODES or response.status_code in (400, 404):
                reason = f"Royal Mail {code}: {text(field(payload, 'errors', 0, 'errorDescription'))}".strip()
                results[number] = not_found(self.name, number, now, reason, payload)
            else:
                raise ProviderUnavailable(self.name, f"answered HTTP {response.status_code} {code}".strip())
        return results


def parse_mailpiece(number: str, payload: dict[str, Any], now: datetime) -> TrackingStatus:
    piece = field(payload, "mailPieces") or {}
    summary = field(piece, "summary") or {}
    events = [TrackingEvent(
        time=parse_time(field(e, "eventDateTime")) or "", location=text(field(e, "locationName")),
        description=text(field(e, "eventName")), code=text(field(e, "eventCode")), source="Royal Mail",
    ) for e in field(piece, "events") or [] if isinstance(e, dict)]
    events.sort(key=lambda e: sort_key(e.time), reverse=True)
    category = text(field(summary, "statusCategory")).upper()
    last_code = text(field(summary, "lastEventCode")) or (events[0].code if events else "")
    if category == "DELIVERED" or last_code in _DELIVERED_CODES:
        status = "delivered"
    else:
        status = status_from_text(text(field(summary, "lastEventName")) or text(field(summary, "statusDescription")))
    return TrackingStatus(
        provider="royal_mail", number=number, status=status,
        delivered_at=(parse_time(field(summary, "lastEventDateTime")) or (events[0].time if events else None))
        if status == "delivered" else None,
        origin_country=country_code(field(summary, "originCountryCode")),
        destination_country=country_code(field(summary, "destinationCountryCode")) or "GB",
        events=tuple(events), last_mile=None,
        tracking_url=f"https://www.royalmail.com/track-your-item#/tracking-results/{number}", fetched_at=iso(now),
        raw={"payload": payload},
    )
