"""Hostile customer text kept out of headers."""

from __future__ import annotations

import email
import email.policy

from inbox_agent.render.message import build_message, case_tag, prepare_approved, reply_subject


def test_customer_subject_cannot_inject_headers() -> None:
    hostile = "Help\r\nBcc: victim@example.org\r\nX-Evil: 1 <script>alert(1)</script>"
    raw = build_message(from_address="s@store.example", from_name="Store\nBcc: x@y", to=["c@example.org"],
                        subject=reply_subject(hostile, case_tag(7, "k7q2a9x3")), body="hi",
                        message_id="<m@store.example>", intent_id=1)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert str(msg["Subject"]).endswith("[#C-7-k7q2a9x3]")
    ready, recipients, _ = prepare_approved(raw, "<m@store.example>")
    assert recipients == ["c@example.org"] and b"X-Inbox-Agent" not in ready
