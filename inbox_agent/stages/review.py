"""review: what agents moved to Approved or Rejected -> outbox status.

What the agent approved, edits included, is what will be sent: its bytes are stored now, passed
through the header allow-list (mailbox/outgoing.py). A message is one of our drafts only when it
proves it, in this order: the draft proof (our header, or the reference line of the body, which
survives clients that drop our headers and change the Message-ID), else our draft's Message-ID,
else the case tag in its subject together with In-Reply-To/References naming a draft we wrote.
Anything else in Approved (a customer's mail, a forged header) is never sent: a note naming the
reason goes to "Needs attention" with the message, and the case gets the `approval_overdue` timer so
it cannot wait forever. Approved messages leave the folder once recorded; rejected ones stay in
Rejected and are read once (only new ones are fetched).
"""

from __future__ import annotations

import email.errors
import email.policy
import email.utils
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.parser import BytesParser

from sqlalchemy import delete, select

from inbox_agent.domain import OutboxStatus, WorkStatus
from inbox_agent.mailbox.base import INTERNAL_HEADER, NOTE_HEADER, StoredMessage
from inbox_agent.mailbox.outgoing import outgoing
from inbox_agent.mailbox.proof import draft_key, tokens_in, verify
from inbox_agent.playbook import Facts
from inbox_agent.render.message import case_tag_in_subject
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.payloads import EventPayload
from inbox_agent.store.tables import Case, Event, Intent, Timer

OVERDUE_TIMER = "approval_overdue"


@dataclass(frozen=True)
class Match:
    """Which draft a message in Approved/Rejected is (`intent_id`), how we know, or why it is none;
    `case_id` is the case it points at either way, when it names one."""

    intent_id: int | None
    why: str
    case_id: int | None = None


def run_once(rt: Runtime) -> int:
    handled = 0
    for stored in rt.mailbox.all_messages(rt.folders.approved):
        outcome = _approve(rt, stored)
        if outcome == "later":
            continue
        handled += outcome == "approved"
        rt.mailbox.delete(rt.folders.approved, [stored.uid])
    seen = rt.rejected_seen
    rejected = [found for uid in rt.mailbox.unseen_uids(rt.folders.rejected, seen, rt.rejected_start)
                if (found := rt.mailbox.fetch(rt.folders.rejected, uid)) is not None]
    later = []
    for stored in rejected:
        outcome = _reject(rt, stored)
        handled += outcome == "rejected"
        if outcome == "later":
            later.append(stored.position)
        else:
            seen.add(stored.uid)
    if rejected and rt.mailbox.positions_grow:
        rt.rejected_start = min(later) if later else max(m.position for m in rejected) + 1
    return handled


def match(rt: Runtime, raw: bytes) -> Match:
    msg = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    key = draft_key(rt.db)
    claimed = tokens_in(msg)
    tag = case_tag_in_subject(str(msg.get("Subject", "")))
    tagged = tag[0] if tag is not None else None
    message_id = str(msg.get("Message-ID", "")).strip()
    refs = [r for h in ("In-Reply-To", "References") for r in str(msg.get(h, "")).split() if r.startswith("<")]
    with rt.db.transaction() as s:
        for intent_id, found in claimed:
            intent = s.get(Intent, intent_id)
            if intent is not None and intent.kind == "reply" and verify(key, found, intent.case_id, intent.id,
                                                                         list(intent.recipients)):
                return Match(intent.id, "draft proof", intent.case_id)
        replies = select(Intent).where(Intent.kind == "reply")
        by_id = s.scalars(replies.where(Intent.message_id == message_id)).first() if message_id else None
        if by_id is not None:
            return Match(by_id.id, "Message-ID", by_id.case_id)
        if tagged is not None and refs:
            threaded = s.scalars(replies.where(Intent.case_id == tagged, Intent.message_id.in_(refs))).first()
            if threaded is not None:
                return Match(threaded.id, "case tag and a reference to our draft", tagged)
        case_id = tagged if tagged is not None and s.get(Case, tagged) is not None else None
        if case_id is None and claimed:
            claimed_intent = s.get(Intent, claimed[0][0])
            case_id = claimed_intent.case_id if claimed_intent is not None else None
    if claimed or msg.get(INTERNAL_HEADER) is not None:
        return Match(None, "it carries a draft proof that is not ours (forged or altered)", case_id)
    return Match(None, "it is not one of our drafts (no draft proof, an unknown Message-ID, no case tag with a "
                       "reference to a draft we wrote)", case_id)


def _approve(rt: Runtime, stored: StoredMessage) -> str:
    """"approved", "later" (the draft is not recorded as drafted yet: a crash came between its
    APPEND and its commit; keep the agent's approval for the next round) or "ignored"."""
    found = match(rt, stored.raw)
    if found.intent_id is None:
        _set_aside(rt, stored, found)
        return "ignored"
    with rt.db.transaction() as s:
        intent = s.get(Intent, found.intent_id)
        if intent is not None and intent.status == OutboxStatus.PENDING:
            return "later"
        if intent is None or intent.status != OutboxStatus.DRAFTED or intent.message_id is None or intent.raw is None:
            rt.log(f"review: a copy of intent {found.intent_id} in {rt.folders.approved} was already handled; removed")
            return "ignored"
        unsendable: Match | None = None
        try:
            ready = outgoing(stored.raw, intent.raw, intent.message_id)
        except (ValueError, TypeError, LookupError, email.errors.MessageError) as e:
            unsendable = Match(None, f"it cannot be sent as written ({' '.join(str(e).split())[:200]})",
                               intent.case_id)
        else:
            intent.sent_raw, intent.recipients = ready.raw, ready.recipients or intent.recipients
            intent.status, intent.updated_at = OutboxStatus.APPROVED, rt.clock()
            s.execute(delete(Timer).where(Timer.case_id == intent.case_id, Timer.name == OVERDUE_TIMER,
                                          Timer.fired.is_(False)))
    if unsendable is not None:
        _set_aside(rt, stored, unsendable)
        return "ignored"
    rt.log(f"review: case {found.case_id} intent {found.intent_id} approved (matched by {found.why}), "
           f"to {', '.join(ready.visible) or '-'}" + (f", bcc {', '.join(ready.hidden)}" if ready.hidden else ""))
    return "approved"


def _set_aside(rt: Runtime, stored: StoredMessage, found: Match) -> None:
    """Never send it: a note with the message goes to "Needs attention" (once, even after a crash),
    and the case it names gets a deadline."""
    original = BytesParser(policy=email.policy.default).parsebytes(stored.raw)
    subject = " ".join(str(original.get("Subject", "")).split())
    rt.log(f"review: a message in {rt.folders.approved} was not sent: {found.why}; moved to {rt.folders.attention}")
    marker = f"<not-sent-{hashlib.sha256(stored.raw).hexdigest()[:32]}@inbox-agent>"
    if not rt.mailbox.find_header(rt.folders.attention, NOTE_HEADER, marker):
        note = EmailMessage(policy=email.policy.SMTP)
        address = rt.config.store.support_address
        note["From"] = note["To"] = address
        note["Subject"] = f"Not sent from {rt.folders.approved}: {subject}"[:200]
        note["Date"] = email.utils.formatdate()
        note["Message-ID"] = marker
        note[NOTE_HEADER] = marker
        note.set_content(f"This message was moved to {rt.folders.approved} but was not sent, because {found.why}.\n\n"
                         "Only drafts the daemon wrote are sent from there. To answer with this text, copy it into "
                         f"the case's draft in {rt.folders.review} and approve that draft.\n")
        note.add_attachment(original)
        rt.mailbox.append(rt.folders.attention, note.as_bytes())
    if found.case_id is not None:
        _start_overdue_timer(rt, found.case_id)


def _start_overdue_timer(rt: Runtime, case_id: int) -> None:
    hours = rt.config.playbook.timers[OVERDUE_TIMER]
    due = rt.clock() + timedelta(hours=hours)
    with rt.db.transaction() as s:
        timer = s.scalars(select(Timer).where(Timer.case_id == case_id, Timer.name == OVERDUE_TIMER)).first()
        if timer is None:
            s.add(Timer(case_id=case_id, name=OVERDUE_TIMER, due_at=due, fired=False))
        elif timer.fired:
            timer.due_at, timer.fired = due, False


def _reject(rt: Runtime, stored: StoredMessage) -> str:
    """"rejected", "later" (the draft is not recorded as drafted yet) or "ignored"."""
    found = match(rt, stored.raw)
    if found.intent_id is None:
        return "ignored"
    with rt.db.transaction() as s:
        intent = s.get(Intent, found.intent_id)
        if intent is not None and intent.status == OutboxStatus.PENDING:
            return "later"
        if intent is None or intent.status != OutboxStatus.DRAFTED:
            return "ignored"
        now = rt.clock()
        intent.status, intent.updated_at = OutboxStatus.REJECTED, now
        s.add(Event(kind="reply.rejected", case_id=intent.case_id,
                    payload=EventPayload(facts=Facts(template=intent.template, party=intent.payload.party)),
                    status=WorkStatus.PENDING, created_at=now))
    return "rejected"
