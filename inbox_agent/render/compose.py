"""Compose a reply at decide time: render the template with the case's facts and build the MIME
message with its fixed Message-ID, as an outbox row (`intent` of kind reply).

The reply answers the customer's latest message (In-Reply-To/References), in the case's
language, falling back to the store default.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inbox_agent.domain import OutboxStatus
from inbox_agent.render.directory import visible_facts
from inbox_agent.render.message import build_message, new_message_id, reply_subject
from inbox_agent.render.templates import render
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.tables import Case, InboundMessage, Intent


def compose_reply(rt: Runtime, s: Session, case: Case, template: str, key: str, now: datetime) -> Intent:
    existing = s.scalar(select(Intent).where(Intent.idempotency_key == key))
    if existing is not None:
        return existing
    store = rt.config.store
    latest = s.scalars(select(InboundMessage).where(InboundMessage.case_id == case.id)
                       .order_by(InboundMessage.id.desc())).first()
    summary = latest.summary if latest is not None else {}
    context = _context(rt, case)
    rendered = render(rt.config.paths.templates, template, [case.language, store.default_language], context)
    intent = Intent(kind="reply", case_id=case.id, idempotency_key=key, template=template,
                    mode=rt.config.replies.mode_for(template), status=OutboxStatus.PENDING,
                    recipients=[case.customer], payload={"language": rendered.language},
                    created_at=now, updated_at=now)
    s.add(intent)
    s.flush()
    domain = store.support_address.rsplit("@", 1)[-1]
    intent.message_id = new_message_id(domain)
    references = tuple(summary.get("thread_ids") or ())
    intent.raw = build_message(
        from_address=store.support_address, from_name=store.name, to=[case.customer],
        subject=reply_subject(summary.get("subject") or rendered.subject, case.id), body=rendered.body,
        message_id=intent.message_id, intent_id=intent.id, in_reply_to=summary.get("message_id"),
        references=references,
    )
    return intent


def _context(rt: Runtime, case: Case) -> dict[str, Any]:
    tracking: dict[str, Any] = case.facts.get("tracking") or {}
    status = next((t for t in tracking.values() if t.get("status") == "delivered"), None) or next(
        iter(tracking.values()), None)
    last_mile = (status or {}).get("last_mile") or {}
    number = last_mile.get("number") or (status or {}).get("number") or ""
    post = visible_facts((status or {}).get("destination_country"), number, rt.config.kit.show_unverified)
    return {
        "customer_name": case.facts.get("customer_name") or "",
        "order_numbers": case.order_numbers,
        "last_mile_number": number,
        "delivered_at": ((status or {}).get("delivered_at") or "")[:10],
        "events": (status or {}).get("events") or [],
        "post": post or {"operator": "your post office", "tracking_url": None, "phone": None,
                         "contact_form": None, "support_url": None, "claim_url": None,
                         "who_may_claim": None, "wait_days": None},
        "sample": bool((status or {}).get("sample")),
        "signature": rt.config.store.signature,
        "store_name": rt.config.store.name,
    }
