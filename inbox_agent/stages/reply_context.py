"""A message of a case read again with the case's context: our own last reply to its sender.

Ingest reads a message before threading places it in a case, so without context. Once the process
stage has found the case, the intent of a customer's or supplier's message is read again as an
answer to what we last sent that party in the case (extract/context.py). The context comes from
our own outbox only, the replies a person approved or the daemon sent, never from what the sender
wrote (their headers, subject or quotes), so nobody can talk the reader into a context.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from inbox_agent.config import ReadingConfig
from inbox_agent.domain import OutboxStatus, Role
from inbox_agent.extract import read_in_context
from inbox_agent.extract.context import ReplyContext, context_after
from inbox_agent.store.payloads import Summary
from inbox_agent.store.tables import Intent

REPLY = "reply"
GONE_OUT = (OutboxStatus.APPROVED, OutboxStatus.SENDING, OutboxStatus.SENT)  # approved for sending, or sent
READ_BY_MODEL = (Role.CUSTOMER, Role.SUPPLIER)  # the roles whose intent the learned model reads


def reply_context(s: Session, case_id: int, party: str) -> ReplyContext | None:
    """The context our latest approved or sent reply to `party` in the case leaves (None: none yet,
    or a reply that names no context)."""
    replies = s.execute(select(Intent.template, Intent.payload)  # not the drafts' raw messages
                        .where(Intent.case_id == case_id, Intent.kind == REPLY, Intent.status.in_(GONE_OUT))
                        .order_by(Intent.id.desc()))
    latest = next((template for template, payload in replies if payload.party == party), None)
    return context_after(latest) if latest is not None else None


def in_context(s: Session, summary: Summary, case_id: int, reading: ReadingConfig) -> Summary:
    """`summary` with its intent read again in the case's context (unchanged when an agent taught
    its intent, the model does not read the sender's messages, the message is automated, or there
    is no context)."""
    role = summary.sender_role
    if summary.taught or role not in READ_BY_MODEL or summary.automated:
        return summary
    context = reply_context(s, case_id, role)
    if context is None:
        return summary
    read = read_in_context(Role(role), False, summary.subject, summary.new_text,
                           [(t.number, t.carrier) for t in summary.tracking], summary.order_numbers, context, reading)
    return summary.model_copy(update={
        "intent": read.intent.value, "intent_confidence": round(read.confidence, 3),
        "intent_confident": read.confidence >= reading.min_confidence,
        "intent_guesses": [(i.value, round(p, 3)) for i, p in read.guesses],
        "intent_why": [w for w in read.why if not w.startswith("lexicon")],  # the lexicon's were kept at reading
    })
