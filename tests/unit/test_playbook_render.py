"""decide() table for the slice's rules, and hostile customer text kept out of headers."""

from __future__ import annotations

import email
import email.policy

import pytest

from inbox_agent.playbook import decide, load_playbook
from inbox_agent.render.message import build_message, prepare_approved, reply_subject

CUSTOMER = {"role": "customer", "automated": False, "bulk": False, "has_order": True}


@pytest.mark.parametrize(
    ("state", "event", "facts", "rule", "to"),
    [
        ("new", "message.received", {**CUSTOMER, "intent": "delivered_not_received", "has_tracking": True},
         "complaint_with_tracking", "tracking"),
        ("new", "message.received", {**CUSTOMER, "intent": "delivered_not_received", "has_tracking": False},
         "complaint_without_tracking", "awaiting_tracking_info"),
        ("new", "message.received", {**CUSTOMER, "automated": True, "intent": "auto_reply"},
         "never_answer_machines", "new"),
        ("awaiting_customer", "message.received", {**CUSTOMER, "bulk": True, "intent": "other"},
         "never_answer_bulk", "awaiting_customer"),
        ("tracking", "tracking.updated", {"tracking_delivered": True}, "delivered_parcel_kit", "kit_pending"),
        ("tracking", "tracking.updated", {"tracking_delivered": False}, "parcel_still_moving", "needs_attention"),
        ("kit_pending", "reply.sent", {"template": "customer_post_office_kit"}, "kit_sent", "awaiting_customer"),
        ("awaiting_customer", "message.received", {**CUSTOMER, "intent": "received", "has_tracking": False},
         "customer_received_it", "solved"),
    ],
)
def test_decide(state: str, event: str, facts: dict[str, object], rule: str, to: str) -> None:
    decision = decide(load_playbook(), state, event, facts)
    assert (decision.rule, decision.to_state) == (rule, to)


def test_customer_subject_cannot_inject_headers() -> None:
    hostile = "Help\r\nBcc: victim@example.org\r\nX-Evil: 1 <script>alert(1)</script>"
    raw = build_message(from_address="s@store.example", from_name="Store\nBcc: x@y", to=["c@example.org"],
                        subject=reply_subject(hostile, 7), body="hi", message_id="<m@store.example>", intent_id=1)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert str(msg["Subject"]).endswith("[#C-7]")
    ready, recipients, _ = prepare_approved(raw, "<m@store.example>")
    assert recipients == ["c@example.org"] and b"X-Inbox-Agent" not in ready
