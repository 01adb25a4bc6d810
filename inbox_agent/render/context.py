"""What templates may say: one context, built from a case (or from sample data for `check` and
`preview`). Every key is always present, None when unknown, so StrictUndefined only ever catches
a template that asks for something the product does not have.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inbox_agent.config import Config
from inbox_agent.render.directory import FACTS, visible_facts

MARKETPLACE_ORDER_DIGITS = 16


def empty_post() -> dict[str, Any]:
    """The post-office facts when the destination is unknown: nothing but a generic name."""
    return {**dict.fromkeys(FACTS), "operator": "your post office", "country": None, "carrier": None,
            "sender_only": False}


def build_context(config: Config, *, customer_name: str = "", customer_email: str = "", order_numbers: list[str],
                  tracking: Mapping[str, Any] | None, tracking_numbers: list[str], customer_words: str = "",
                  done_so_far: list[str] | None = None, reminder_count: int = 0, new_tracking_number: str = "",
                  new_tracking_url: str = "", picture: bool = False, case_ref: str = "", supplier_order: str = "",
                  order_date: str = "", order_choices: list[dict[str, str]] | None = None,
                  order_written: list[str] | None = None, order_country: str = "") -> dict[str, Any]:
    """The template context. `tracking` is the merged view (TrackingStatus.to_json()) or None.

    Dates stay ISO here; `render` formats them for the language it picks."""
    view = dict(tracking or {})
    last_mile = view.get("last_mile") or {}
    number = last_mile.get("number") or view.get("number") or (tracking_numbers[0] if tracking_numbers else "")
    post = visible_facts(view.get("destination_country"), number, config.kit.show_unverified,
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
        "tracking_number": view.get("number") or (tracking_numbers[0] if tracking_numbers else ""),
        "other_numbers": [n for n in tracking_numbers if n != view.get("number")],
        "last_mile_number": number,
        "last_mile_carrier": last_mile.get("carrier") or "",
        "tracking_url": view.get("tracking_url") or "",
        "status": view.get("status") or "",
        "delivered_at": view.get("delivered_at") or "",
        "destination_country": view.get("destination_country") or "",
        "events": [{"time": e.get("time") or "", "location": e.get("location") or "",
                    "description": e.get("description") or ""} for e in view.get("events") or []],
        "post": post,
        "sample": bool(view.get("sample")),
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


def order_context(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The order facts a case holds, as build_context arguments (all empty when no order was looked up)."""
    order = facts.get("order") or {}
    return {
        "supplier_order": order.get("supplier_order") or "",
        "order_date": (order.get("created_at") or "")[:10],
        "order_choices": list(facts.get("order_choices") or []),
        "order_written": list(facts.get("order_written") or []),
        "order_country": order.get("country") or "",
    }


def sample_context(config: Config, country: str = "US", picture: bool = True) -> dict[str, Any]:
    """Realistic sample data for `check` and `preview`: a parcel delivered by `country`'s post."""
    from datetime import UTC, datetime

    from inbox_agent.tracking.sample import sample_status

    origin = "LP00123456789012"
    numbers = {"US": "9400111899223334445561", "FR": "LA482915635FR"}
    last = numbers.get(country.upper(), f"RR123456785{country.upper()}")
    view = sample_status(origin, datetime.now(UTC), country.upper()).to_json()
    view["destination_country"] = country.upper()
    view["last_mile"] = {"carrier": (visible_facts(country, last, True) or {}).get("carrier") or "post", "number": last}
    return build_context(
        config, customer_name="Sam Rivera", customer_email="sam.rivera@example.org",
        order_numbers=["1043", "8123456789012345"], tracking=view, tracking_numbers=[origin],
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
