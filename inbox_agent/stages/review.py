"""review: what agents moved to Approved or Rejected -> outbox status.

What the agent approved, edits included, is what will be sent: its bytes are stored now, minus
our internal header. A draft is matched by our internal header, else by its Message-ID.
Approved messages leave the Approved folder once recorded; rejected ones stay in Rejected.
"""

from __future__ import annotations

from sqlalchemy import select

from inbox_agent.domain import OutboxStatus, WorkStatus
from inbox_agent.mailbox.base import StoredMessage
from inbox_agent.render.message import intent_id_of, prepare_approved
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.tables import Event, Intent


def run_once(rt: Runtime) -> int:
    handled = 0
    for stored in rt.mailbox.all_messages(rt.folders.approved):
        outcome = _approve(rt, stored)
        if outcome == "later":
            continue
        handled += outcome == "approved"
        rt.mailbox.delete(rt.folders.approved, [stored.uid])
    for stored in rt.mailbox.all_messages(rt.folders.rejected):
        handled += _reject(rt, stored)
    return handled


def _match(rt: Runtime, raw: bytes) -> int | None:
    intent_id = intent_id_of(raw)
    if intent_id is not None:
        return intent_id
    import email

    message_id = email.message_from_bytes(raw).get("Message-ID", "").strip()
    with rt.db.transaction() as s:
        return s.scalar(select(Intent.id).where(Intent.message_id == message_id))


def _approve(rt: Runtime, stored: StoredMessage) -> str:
    """"approved", "later" (the draft is not recorded as drafted yet: a crash came between its
    APPEND and its commit; keep the agent's approval for the next round) or "ignored"."""
    intent_id = _match(rt, stored.raw)
    if intent_id is None:
        rt.log(f"review: a message in {rt.folders.approved} is not one of our drafts; left for people")
        rt.mailbox.append(rt.folders.attention, stored.raw)
        return "ignored"
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        if intent is not None and intent.status == OutboxStatus.PENDING:
            return "later"
        if intent is None or intent.status != OutboxStatus.DRAFTED or intent.message_id is None:
            return "ignored"
        ready, recipients, _ = prepare_approved(stored.raw, intent.message_id)
        intent.sent_raw, intent.recipients = ready, recipients or intent.recipients
        intent.status, intent.updated_at = OutboxStatus.APPROVED, rt.clock()
    return "approved"


def _reject(rt: Runtime, stored: StoredMessage) -> int:
    intent_id = _match(rt, stored.raw)
    if intent_id is None:
        return 0
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        if intent is None or intent.status != OutboxStatus.DRAFTED:
            return 0
        now = rt.clock()
        intent.status, intent.updated_at = OutboxStatus.REJECTED, now
        s.add(Event(kind="reply.rejected", case_id=intent.case_id, payload={"facts": {"template": intent.template,
                                                               "party": intent.payload.get("party", "customer")}},
                    status=WorkStatus.PENDING, created_at=now))
    return 1
