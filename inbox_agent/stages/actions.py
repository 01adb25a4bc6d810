"""Carrying out a decision inside the process stage's transaction: state, intents, timers, notes.

Everything here only writes rows; the I/O (lookups, drafts, notes in the mailbox, SMTP) happens
in later stages that consume those rows, so a crash before the commit leaves nothing behind and
a crash after it repeats nothing.
"""

from __future__ import annotations

import email.policy
import email.utils
from datetime import datetime, timedelta
from email.header import Header
from email.message import EmailMessage

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from inbox_agent.domain import OutboxStatus
from inbox_agent.errors import MissingParty
from inbox_agent.mailbox.base import NOTE_HEADER
from inbox_agent.playbook import Decision, Facts
from inbox_agent.render.compose import compose_reply, main_tracking
from inbox_agent.render.directory import visible_facts
from inbox_agent.render.message import new_message_id, one_line
from inbox_agent.stages.order_lookup import lookup_intent
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.payloads import IntentPayload
from inbox_agent.store.tables import Case, DecisionLog, Event, InboundMessage, Intent, Timer

DISPUTE_TIMER = "dispute_warning"
REASON_HEADER = "X-Inbox-Agent-Reason"
WITHOUT_TIMERS = "cases_without_timers"  # Session.info: ids of the cases opened in this transaction, no timer started


def opened(s: Session, case: Case) -> None:
    """`case` was opened in this transaction: it has no timer until `_start_timer` gives it one,
    so cancelling its timers needs no DELETE (a new case is opened by every complaint)."""
    s.info.setdefault(WITHOUT_TIMERS, set()).add(case.id)


def case_facts(rt: Runtime, case: Case) -> Facts:
    """The facts the playbook reads about a case (its tracking, its post office, the store's switches)."""
    views = list(case.facts.tracking.values())
    main = main_tracking(case)
    post = visible_facts(main.destination_country if main else None, main.post_number if main else "",
                         rt.config.kit.show_unverified, rt.config.kit.directory_overrides)
    return Facts(
        tracking_delivered=any(v.status == "delivered" for v in views),
        tracking_failed=bool(views) and all(v.status == "not_found" for v in views),
        last_mile_known=any(v.last_mile is not None for v in views),
        last_mile_trackable=any(v.last_mile_status not in (None, "not_found") for v in views),
        sender_only=bool(post and post["sender_only"]),
        ack=rt.config.playbook.ack,
        order_source=rt.orders is not None,
    )


def apply_decision(rt: Runtime, s: Session, case: Case, event: Event, decision: Decision,
                   inbound: InboundMessage | None, facts: Facts, now: datetime) -> None:
    """Apply the actions in order. A message due to a partner we have no address for stops the
    rest (the customer is not told the supplier was contacted when it was not): a person takes over."""
    s.add(DecisionLog(case_id=case.id, event_id=event.id, rule=decision.rule, from_state=decision.from_state,
                      to_state=decision.to_state, why=decision.why, at=now))
    if decision.to_state != case.state:
        case.state = decision.to_state
        case.version += 1
    for index, (kind, arg) in enumerate(decision.actions):
        key = f"{case.id}:{event.id}:{index}"
        if kind == "track":
            numbers = [t.number for t in case.tracking_numbers]
            s.add(Intent(kind="track", case_id=case.id, idempotency_key=f"track:{key}",
                         payload=IntentPayload(numbers=numbers), status=OutboxStatus.PENDING, created_at=now,
                         updated_at=now))
        elif kind == "lookup_order":
            s.add(lookup_intent(case, inbound, facts, f"order:{key}", now))
        elif kind == "reply":
            reminders = (facts.count or 0) if facts.timer else 0
            try:
                s.add(compose_reply(rt, s, case, arg, f"reply:{key}:{arg}", now, reminders))
            except MissingParty as e:
                _escalate(rt, s, case, f"{arg} was not sent: {e}", inbound, f"note:{key}", now)
                case.state = "needs_attention"
                break
        elif kind == "close":
            case.closed_at, case.outcome = now, arg
            _cancel(s, case, "all")
        elif kind == "reopen":
            case.closed_at, case.outcome = None, None
        elif kind == "timer":
            _start_timer(rt, s, case, arg, now)
        elif kind == "cancel":
            _cancel(s, case, arg)
        elif kind == "escalate":
            _escalate(rt, s, case, arg, inbound, f"note:{key}", now)
        elif kind == "attention" and inbound is not None:
            leave_for_people(rt, s, inbound, case.id, now)


def _escalate(rt: Runtime, s: Session, case: Case, reason: str, inbound: InboundMessage | None, key: str,
              now: datetime) -> None:
    case.facts = case.facts.model_copy(update={"escalations": [*case.facts.escalations, reason]})
    s.add(_note(rt, case.id, key, _summary_message(rt, case, reason, inbound), now))


def leave_for_people(rt: Runtime, s: Session, inbound: InboundMessage, case_id: int | None, now: datetime,
                     reason: str | None = None) -> None:
    """Move the message to the "Needs attention" folder; nothing is sent. (The draft stage copies
    it there first and only then removes it from the inbox, so it is never lost.) A `reason`
    goes on top of it as a header (one line) for the person who reads it."""
    if inbound.raw:
        raw = inbound.raw
        if reason:
            value = one_line(reason)[:900]
            if not value.isascii():  # RFC 2047 words for what the text's own letters bring in
                value = Header(value, "utf-8", header_name=REASON_HEADER).encode(linesep="\r\n")
            raw = f"{REASON_HEADER}: {value}\r\n".encode() + raw
        taught = f":taught:{inbound.summary.taught}" if inbound.summary.taught else ""
        note = _note(rt, case_id, f"note:inbound:{inbound.id}{taught}", raw, now)
        note.payload = note.payload.model_copy(update={"move_from": (inbound.folder, inbound.uid)})
        s.add(note)


def _note(rt: Runtime, case_id: int | None, key: str, raw: bytes, now: datetime) -> Intent:
    note_id = new_message_id(rt.config.store.support_address.rsplit("@", 1)[-1])
    header = f"{NOTE_HEADER}: {note_id}\r\n".encode()
    return Intent(kind="note", case_id=case_id, idempotency_key=key, message_id=note_id, raw=header + raw,
                  payload=IntentPayload(folder="attention"), status=OutboxStatus.PENDING, created_at=now, updated_at=now)


def _start_timer(rt: Runtime, s: Session, case: Case, name: str, now: datetime) -> None:
    due = _dispute_due(rt, case, now) if name == DISPUTE_TIMER else now + timedelta(
        hours=rt.config.playbook.timers[name])
    s.info.get(WITHOUT_TIMERS, set()).discard(case.id)
    timer = s.scalar(select(Timer).where(Timer.case_id == case.id, Timer.name == name))
    if timer is None:
        s.add(Timer(case_id=case.id, name=name, due_at=due, fired=False))
    else:
        timer.due_at, timer.fired = due, False


def _dispute_due(rt: Runtime, case: Case, now: datetime) -> datetime:
    """Warn `dispute_warning_days` before the AliExpress dispute window closes (it opens at delivery)."""
    main = main_tracking(case)
    delivered = main.delivered_at if main is not None else None
    try:
        anchor = datetime.fromisoformat(delivered) if delivered else case.opened_at
    except ValueError:
        anchor = case.opened_at
    if anchor.tzinfo is None:
        anchor = anchor.replace(tzinfo=now.tzinfo)
    config = rt.config.playbook
    return max(now, anchor + timedelta(days=config.dispute_window_days - config.dispute_warning_days))


def _cancel(s: Session, case: Case, name: str) -> None:
    if case.id not in s.info.get(WITHOUT_TIMERS, set()):
        where = [Timer.case_id == case.id] + ([] if name == "all" else [Timer.name == name])
        # the deleted rows are taken out of the session by their ids, not by testing every row it holds
        s.execute(delete(Timer).where(*where).execution_options(synchronize_session="fetch"))
    counts = dict(case.facts.timer_counts)
    for timer in list(counts) if name == "all" else [name]:
        counts.pop(timer, None)
    case.facts = case.facts.model_copy(update={"timer_counts": counts})


def _summary_message(rt: Runtime, case: Case, reason: str, inbound: InboundMessage | None) -> bytes:
    """What a person needs to take over: why, the case in a few lines, the message that caused it."""
    store = rt.config.store
    main = main_tracking(case)
    lines = [
        f"Case C-{case.id} needs a person: {reason}", "",
        f"Customer: {case.customer} (language {case.language or 'unknown'})",
        f"State: {case.state}",
        f"Orders: {', '.join(case.order_numbers) or 'none'}",
        f"Tracking: {', '.join(t.number for t in case.tracking_numbers) or 'none'}"
        + (f" -> {main.status}" if main else ""),
    ]
    if main is not None and main.last_mile is not None:
        lines.append(f"Last mile: {main.last_mile.carrier} {main.last_mile.number} "
                     f"(post office says: {main.last_mile_status or 'not asked'})")
    lines += [f"Done so far: {step}" for step in case.facts.done_so_far]
    lines += [f"Order note: {note}" for note in case.facts.order_notes]
    if inbound is not None:
        lines += ["", f"The message from {inbound.summary.sender} ({inbound.summary.sender_role}):",
                  *(f"> {line}" for line in inbound.summary.new_text.splitlines())]
    if case.facts.customer_words:
        lines += ["", "The customer's words:", *(f"> {line}" for line in case.facts.customer_words.splitlines())]
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = email.utils.formataddr((one_line(store.name), store.support_address))
    msg["To"] = store.support_address
    msg["Subject"] = one_line(f"[Needs attention] C-{case.id}: {reason}")
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content("\n".join(lines) + "\n")
    return msg.as_bytes()
