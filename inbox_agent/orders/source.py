"""The OrderSource protocol and what every source shares: parcels from written tracking numbers.

A source answers two questions, by order number and by customer email, with Order values and
nothing else. Network sources go out through the tracking HTTP edge (tracking/http.py: rate
limit, retries, Retry-After), so a source that is down raises ProviderUnavailable ("retry
later") and a refused credential ProviderRefused; neither is ever an empty answer.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Protocol

from inbox_agent.extract.formats import load_format_book
from inbox_agent.orders.model import Order, Parcel
from inbox_agent.tracking.adapter import parse_time
from inbox_agent.tracking.http import Http


class OrderSource(Protocol):
    name: str

    async def by_number(self, http: Http, number: str) -> list[Order]:
        """Orders whose number is `number` (normally one, none when unknown)."""
        ...

    async def by_email(self, http: Http, email: str) -> list[Order]:
        """Orders placed with `email`, newest first."""
        ...

    async def probe(self, http: Http) -> str:
        """One read call proving the source answers with our credentials; a line saying what it saw."""
        ...


def parcel(number: str, carrier: str = "", company: str = "", url: str = "") -> Parcel | None:
    """A parcel from a tracking number as a back office wrote it. The carrier is the code the
    source names when the parse vocabulary has it, else the one the number's format gives (as for
    a number read in a message; the company name breaks ties), else "unknown"."""
    cleaned = re.sub(r"[\s\-]", "", number).upper()
    if not cleaned:
        return None
    book = load_format_book()
    identified = book.identify(cleaned, hint=company)
    named = carrier.strip().lower()
    vocabulary = {*book.carriers.values(), *book.s10_countries.values()}
    code = named if named in vocabulary else (identified.carrier if identified else "unknown")
    return Parcel(number=identified.number if identified else cleaned, carrier=code, company=company.strip(),
                  url=url.strip())


def moment(value: Any) -> datetime | None:
    """A back office's date as an aware datetime (UTC when it gives no zone); None when unreadable."""
    iso = parse_time(value)
    if iso is None:
        return None
    parsed = datetime.fromisoformat(iso)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
