"""Built-in sample tracking data, for the embedded setup and the demo (no network needed).

Every answer says `sample: true` and provider `sample`, and the daemon prints that it runs on
sample data. Known numbers come from rules/sample_tracking.yaml; any other valid number is
answered as delivered, with the destination post taken from an S10 suffix or the store's default.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from inbox_agent.extract.formats import load_format_book
from inbox_agent.render.directory import visible_facts
from inbox_agent.rules import load_rules_file
from inbox_agent.tracking.status import LastMile, TrackingEvent, TrackingStatus, iso

_POST_COUNTRY = {"usps": "US", "laposte": "FR", "australia_post": "AU", "royal_mail": "GB",
                 "canada_post": "CA", "deutsche_post": "DE", "correos": "ES", "postnl": "NL",
                 "poste_italiane": "IT", "correios": "BR", "bpost": "BE"}


def sample_status(number: str, now: datetime, default_country: str = "US") -> TrackingStatus:
    """A plausible, clearly labelled TrackingStatus for `number`."""
    known = (load_rules_file("sample_tracking.yaml") or {}).get("parcels", {})
    entry = known.get(number)
    identified = load_format_book().identify(number)
    carrier = identified.carrier if identified else "unknown"
    if entry:
        last = entry.get("last_mile")
        destination = entry.get("destination_country", default_country)
        last_mile = LastMile(last["carrier"], last["number"]) if last else None
    elif carrier in _POST_COUNTRY:
        destination = _POST_COUNTRY[carrier]
        last_mile = LastMile(carrier, number)
    else:
        destination = default_country
        last_mile = None
    delivered = now.astimezone(UTC) - timedelta(days=3)
    post = last_mile.carrier if last_mile else "destination post"
    events = (
        TrackingEvent(iso(delivered), destination, "Delivered, in/at mailbox", "delivered", post),
        TrackingEvent(iso(delivered - timedelta(days=4)), destination, "Handed over to the destination post",
                      "handover", "sample origin tracker"),
        TrackingEvent(iso(delivered - timedelta(days=9)), "Hong Kong, HK", "Departed origin country", "transit",
                      "sample origin tracker"),
        TrackingEvent(iso(delivered - timedelta(days=12)), "Shenzhen, CN", "Accepted by carrier", "pickup",
                      "sample origin tracker"),
    )
    facts = visible_facts(destination, last_mile.number, False) if last_mile else None
    return TrackingStatus(
        provider="sample",
        number=number,
        status=str(entry.get("status", "delivered")) if entry else "delivered",
        delivered_at=iso(delivered),
        origin_country="CN",
        destination_country=destination,
        events=events,
        last_mile=last_mile,
        tracking_url=(facts or {}).get("tracking_url"),
        fetched_at=iso(now),
        sample=True,
    )
