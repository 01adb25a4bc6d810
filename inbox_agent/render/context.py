"""What templates may say: one context, built from a case (or from sample data for `check` and
`preview`). Every key is always present, None when unknown, so StrictUndefined only ever catches
a template that asks for something the product does not have.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from inbox_agent.config import Config
from inbox_agent.render.directory import FACTS, visible_facts
from inbox_agent.store.payloads import CaseFacts
from inbox_agent.tracking.status import LastMile, TrackingStatus

MARKETPLACE_ORDER_DIGITS = 16
SAMPLE_ORIGIN = "LP00123456789012"


def empty_post() -> dict[str, Any]:
    """The post-office facts when the destination is unknown: nothing but a generic name."""
    return {**dict.fromkeys(FACTS), "operator": "your post office", "country": None, "carrier": None,
            "sender_only": False}


def build_context(config: Config, *, customer_name: str = "", customer_email: str = "", order_numbers: list[str],
                  tracking: TrackingStatus | None, tracking_numbers: list[str], customer_words: str = "",
                  done_so_far: list[str] | None = None, reminder_count: int = 0, new_tracking_number: str = "",
                  new_tracking_url: str = "", picture: bool = False, case_ref: str = "", supplier_order: str = "",
                  order_date: str = "", order_choices: list[dict[str, str]] | None = None,
                  order_written: list[str] | None = None, order_country: str = "") -> dict[str, Any]:
    """The template context. `tracking` is the merged view of the case's parcel, or None.

    Dates stay ISO here; `render` formats them for the language it picks."""
    view = tracking
    first = tracking_numbers[0] if tracking_numbers else ""
    number = (view.post_number if view is not None else "") or first
    post = visible_facts(view.destination_country if view is not None else None, number, config.kit.show_unverified,
                         config.kit.directory_overrides) or empty_post()
    marketplace = [n for n in order_numbers if len(n) == MARKETPLACE_ORDER_DIGITS and n.isdigit()]
    store_orders = [n for n in order_numbers if n not in marketplace]
    store = config.store
    return {
        "store": {"name": store.name, "signature": store.signature, "tagline": store.tagline,
                  "support_address": store.support_address, "phone": store.phone, "url": store.url,
                  "wording": {lang: w.model_dump() for lang, w in store.wording.items()}},
        "case_ref": case_ref,
        "customer_name": customer_name,
        "customer_email": customer_email,
        "order_number": (store_orders or order_numbers or [""])[0],
        "order_numbers": order_numbers,
        "aliexpress_order": marketplace[0] if marketplace else "",
        "tracking_number": (view.number if view is not None else "") or first,
        "other_numbers": [n for n in tracking_numbers if view is None or n != view.number],
        "last_mile_number": number,
        "last_mile_carrier": view.last_mile.carrier if view is not None and view.last_mile is not None else "",
        "tracking_url": (view.tracking_url if view is not None else "") or "",
        "status": view.status if view is not None else "",
        "delivered_at": (view.delivered_at if view is not None else "") or "",
        "destination_country": (view.destination_country if view is not None else "") or "",
        "events": [{"time": e.time, "location": e.location, "description": e.description}
                   for e in (view.events if view is not None else ())],
        "post": post,
        "sample": view is not None and view.sample,
        "picture": picture,
        "customer_words": customer_words.strip(),
        "done_so_far": list(done_so_far or []),
        "reminder_count": reminder_count,
        "new_tracking_number": new_tracking_number,
        "new_tracking_url": new_tracking_url,
        "supplier_order": supplier_order,
        "order_date": order_date,
        "order_choices": list(order_choices or []),
        "order_written": list(order_written or []),
        "order_country": order_country,
    }


def order_context(facts: CaseFacts) -> dict[str, Any]:
    """The order facts a case holds, as build_context arguments (all empty when no order was looked up)."""
    order = facts.order
    return {
        "supplier_order": order.supplier_order if order is not None else "",
        "order_date": order.created_at.date().isoformat() if order is not None and order.created_at else "",
        "order_choices": [choice.model_dump() for choice in facts.order_choices],
        "order_written": list(facts.order_written),
        "order_country": order.country if order is not None else "",
    }


def sample_view(country: str = "US") -> TrackingStatus:
    """A sample parcel delivered by `country`'s post, with its post's own last-mile number."""
    from datetime import UTC, datetime

    from inbox_agent.tracking.sample import sample_status

    numbers = {"US": "9400111899223334445561", "FR": "LA482915635FR"}
    last = numbers.get(country.upper(), f"RR123456785{country.upper()}")
    carrier = (visible_facts(country, last, True) or {}).get("carrier") or "post"
    return replace(sample_status(SAMPLE_ORIGIN, datetime.now(UTC), country.upper()),
                   destination_country=country.upper(), last_mile=LastMile(carrier=carrier, number=last))


def sample_context(config: Config, country: str = "US", picture: bool = True) -> dict[str, Any]:
    """Realistic sample data for `check` and `preview`: a parcel delivered by `country`'s post."""
    return build_context(
        config, customer_name="Sam Rivera", customer_email="sam.rivera@example.org",
        order_numbers=["1043", "8123456789012345"], tracking=sample_view(country), tracking_numbers=[SAMPLE_ORIGIN],
        customer_words="My tracking says delivered last Tuesday but there was nothing in my mailbox.\n"
                       "I asked my neighbours too. <b>Please help!</b>",
        done_so_far=["gave the customer the post office's contact details and tracking link"],
        reminder_count=1, new_tracking_number="LP00799912345678",
        new_tracking_url="https://global.cainiao.com/newDetail.htm?mailNoList=LP00799912345678",
        picture=picture, case_ref="C-1", supplier_order="8123456789012345", order_date="2026-07-01",
        order_choices=[{"number": "1043", "date": "2026-07-01", "items": "2 x Linen cushion cover"},
                       {"number": "1057", "date": "2026-07-09", "items": "Ceramic vase"}],
        order_written=["1043"],
    )
