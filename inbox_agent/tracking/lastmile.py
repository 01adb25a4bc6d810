"""Last-mile discovery: the destination post's own number for a parcel tracked at the origin.

Sources, most explicit first: a provider's last-mile field (17TRACK `misc_info.local_number`,
Cainiao `copyRealMailNo`/`realMailNo`, YunExpress `TrackingNumber`, DHL `local-tracking-number`),
then numbers written in event texts ("handed over to USPS, tracking number 9400..."). A number
from event text counts only when its format and check digit say it belongs to a post; a number
from an explicit field counts when its format is recognised or the provider names the carrier.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from inbox_agent.extract.formats import load_format_book
from inbox_agent.extract.tracking import find_tracking_numbers
from inbox_agent.tracking.carriers import carrier_code, country_post
from inbox_agent.tracking.status import LastMile, TrackingEvent

_TOKEN = re.compile(r"[A-Z0-9][A-Z0-9 \-]{6,38}[A-Z0-9]")
POSTS = {"usps", "laposte", "australia_post", "royal_mail", "canada_post", "deutsche_post", "correos", "postnl",
          "poste_italiane", "correios", "japan_post", "nz_post", "bpost", "postnord", "swiss_post"}


def from_field(value: object, carrier_name: object = "", origin_number: str = "",
               seventeen_key: object = None) -> LastMile | None:
    """The last mile a provider states in a dedicated field, e.g. "Latest Tracking Number:\\tRC000000003EE"."""
    named = carrier_code(carrier_name, seventeen_key) if (carrier_name or seventeen_key) else "unknown"
    book = load_format_book()
    for token in _TOKEN.findall(str(value or "").upper()):
        words = token.split()
        if named == "unknown" and len(words) > 1:
            named = carrier_code(" ".join(words[:-1]))
        for candidate in dict.fromkeys((token, words[-1])):
            compact = re.sub(r"[\s\-]", "", candidate)
            if compact == origin_number or not any(c.isdigit() for c in compact):
                continue
            identified = book.identify(compact, hint=str(carrier_name or ""))
            if identified is not None:
                return LastMile(named if named != "unknown" else identified.carrier, identified.number)
            if candidate == words[-1] and len(compact) >= 8:
                return LastMile(named, compact)
    return None


def from_events(events: Iterable[TrackingEvent], origin_number: str, destination: str | None) -> LastMile | None:
    """A destination-post number written in event texts, validated by format and check digit."""
    wanted = country_post(destination)
    fallback: LastMile | None = None
    for event in events:
        for found in find_tracking_numbers(event.description):
            if found.number == origin_number or found.carrier not in POSTS:
                continue
            if wanted is None or found.carrier == wanted:
                return LastMile(found.carrier, found.number)
            fallback = fallback or LastMile(found.carrier, found.number)
    return fallback
