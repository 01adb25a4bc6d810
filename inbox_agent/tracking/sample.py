"""Built-in sample tracking data, for the embedded setup and the demo (no network needed).

Each answer is a 17TRACK `gettrackinfo` item (the documented v2.2 shape: both legs, the hand-over,
`misc_info.local_number`) read by the real 17TRACK parser, so the offline path exercises the same
code as a live one. Every answer says `sample: true` and provider `sample`, and the daemon prints
that it runs on sample data. Known numbers come from rules/sample_tracking.yaml; any other valid
number is answered as delivered, to the post of an S10 suffix or of the store's country.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from inbox_agent.extract.formats import load_format_book
from inbox_agent.render.directory import visible_facts
from inbox_agent.rules import load_rules_file
from inbox_agent.tracking.carriers import country_post, post_country
from inbox_agent.tracking.providers.seventeen_track import parse_accepted
from inbox_agent.tracking.status import LastMile, TrackingStatus, iso

_POST_NAMES = {"usps": "USPS", "laposte": "La Poste", "australia_post": "Australia Post", "royal_mail": "Royal Mail",
               "canada_post": "Canada Post", "deutsche_post": "Deutsche Post", "correos": "Correos", "postnl": "PostNL",
               "poste_italiane": "Poste Italiane", "correios": "Correios", "bpost": "bpost"}


def sample_status(number: str, now: datetime, default_country: str = "US") -> TrackingStatus:
    """A plausible, clearly labelled TrackingStatus for `number`."""
    status = parse_accepted(sample_payload(number, now, default_country), now)
    if status.last_mile is None and _tracked_by_destination_post(number):
        post = country_post(status.destination_country) or "unknown"
        status = replace(status, last_mile=LastMile(post, number))
    facts = visible_facts(status.destination_country, status.last_mile.number, False) if status.last_mile else None
    return replace(status, provider="sample", sample=True,
                   tracking_url=(facts or {}).get("tracking_url") or status.tracking_url,
                   last_mile_status=status.status if status.last_mile else None)


def _tracked_by_destination_post(number: str) -> bool:
    """S10 numbers and the posts' own numbers are tracked at the destination post as they are."""
    identified = load_format_book().identify(number)
    return identified is not None and (identified.format.id == "s10" or post_country(identified.carrier) is not None)


def sample_payload(number: str, now: datetime, default_country: str = "US") -> dict[str, Any]:
    """A 17TRACK accepted[] item for `number`: origin leg in China, hand-over, delivery."""
    known = (load_rules_file("sample_tracking.yaml") or {}).get("parcels", {}).get(number) or {}
    identified = load_format_book().identify(number)
    carrier = identified.carrier if identified else "unknown"
    if known:
        destination = str(known.get("destination_country", default_country))
        last = known.get("last_mile") or {}
        post, local = last.get("carrier") or country_post(destination), last.get("number", "")
    elif (home := post_country(carrier)) is not None:
        destination, post, local = home, carrier, number
    else:
        destination, post, local = default_country, country_post(default_country), ""
    delivered = now.astimezone(UTC) - timedelta(days=3)
    post_name = _POST_NAMES.get(post or "", "Destination post")

    def event(when: datetime, where: str, country: str, text: str, stage: str, sub: str) -> dict[str, Any]:
        return {"time_iso": iso(when), "time_utc": iso(when), "description": text, "location": where, "stage": stage,
                "sub_status": sub, "address": {"country": country}}

    origin_events = [
        event(delivered - timedelta(days=4), "Hong Kong", "HK", "Handed over to the destination post", "Departure",
              "InTransit_Departure"),
        event(delivered - timedelta(days=9), "Hong Kong", "HK", "Departed origin country", "Departure",
              "InTransit_Departure"),
        event(delivered - timedelta(days=12), "Shenzhen", "CN", "Accepted by carrier", "PickedUp", "InTransit_PickedUp"),
    ]
    status = str(known.get("status", "delivered"))
    last_events = [event(delivered, destination, destination, "Delivered, in/at mailbox", "Delivered",
                         "Delivered_Other")] if status == "delivered" else []
    return {"number": number, "carrier": 0, "track_info": {
        "shipping_info": {"shipper_address": {"country": "CN"}, "recipient_address": {"country": destination}},
        "latest_status": {"status": "Delivered" if status == "delivered" else "InTransit",
                          "sub_status": "Delivered_Other" if status == "delivered" else "InTransit_Other"},
        "milestone": [{"key_stage": "Delivered", "time_iso": iso(delivered) if status == "delivered" else None}],
        "misc_info": {"local_number": local, "local_provider": post_name if local else "", "local_key": 0},
        "tracking": {"providers": [
            {"provider": {"name": post_name, "country": destination}, "events": last_events},
            {"provider": {"name": "Sample origin tracker", "country": "CN"}, "events": origin_events},
        ]},
    }}
