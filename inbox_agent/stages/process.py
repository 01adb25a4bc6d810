"""process: event -> case state + decision log + intents, in one transaction.

`decide()` is pure; this stage gathers its facts, applies the decision (stages/actions.py) and
commits everything together, so a crash repeats the step with the same result. The queue loop
is the shared one (stages/queue.py), the events of a round committed together (one that
fails is rolled back alone): an event that fails `[retry.process]
attempts` times (3) is set aside (shunted) with its error and processing goes on.

Trust (docs/security.md): a message joins a case by thread or tag only when its sender is the
case's customer, or the partner the thread was started with; anyone else starts a conversation
of their own and learns nothing of the case. A supplier's or distributor's mail counts as theirs
only when aligned DKIM/DMARC proved it (ingest) or it answers our own message to them; otherwise
it is left for people with the reason, as is mail whose From domain fails DMARC at our own
server (a forged customer), mail naming another customer's tracking number, mail from our own
address, and a sender's repeat of the same words.

Once a message is placed in a case, its intent is read again as an answer to our own last reply
to its sender there (stages/reply_context.py): "still nothing" after the post-office kit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from inbox_agent.domain import CUSTOMER_INTENTS, WorkStatus
from inbox_agent.playbook import Facts, decide, load_playbook
from inbox_agent.render.directory import public_tracking_url
from inbox_agent.render.message import case_tag_in_subject, new_tag_token
from inbox_agent.security.budget import take
from inbox_agent.stages.actions import apply_decision, case_facts, leave_for_people, opened
from inbox_agent.stages.queue import Queue
from inbox_agent.stages.reply_context import in_context
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.payloads import CaseFacts, SenderCheck, Summary
from inbox_agent.store.tables import Case, CaseMessage, CaseNumber, Event, InboundMessage, Intent

FINAL_STATES = ("solved", "refunded", "unresolved", "closed")
PARTNERS = ("supplier", "distributor")
_WORDS_KEPT = 3
_DONE_SENTENCES = {
    "customer_post_office_kit": "sent the customer the post office's contact details, tracking link and tracking history",
    "customer_followup": "followed up with the customer",
    "distributor_last_mile_request": "asked the distributor for the post office tracking number",
}


def run_once(rt: Runtime) -> int:
    return QUEUE.run_once(rt)


def handle_event(rt: Runtime, s: Session, event_id: int, _share: None = None) -> None:
    """One event, inside the round's transaction (stages/queue.py)."""
    event = s.get(Event, event_id)
    if event is None or event.status != WorkStatus.PENDING:
        return
    now = rt.clock()
    facts: Facts
    inbound: InboundMessage | None = None
    if event.kind == "message.received":
        inbound = s.get(InboundMessage, event.payload.inbound_id)
        assert inbound is not None
        place = _find_case(s, inbound.summary)
        if place.case is not None and place.refusal is None:
            inbound.summary = in_context(s, inbound.summary, place.case.id, rt.config.reading)
        facts = _message_facts(inbound.summary, place.thread)
        refusal = place.refusal or _refusal(rt, s, inbound.summary, facts, place.case)
        if refusal is not None:
            rt.log(f"process: message {inbound.id} left for people: {refusal}")
            if not (facts.automated or facts.bulk):
                leave_for_people(rt, s, inbound, None, now, reason=refusal)
            inbound.summary = inbound.summary.model_copy(update={"left_for_people": refusal})
            event.status = WorkStatus.DONE
            return
        if _unsure(inbound.summary, facts) and (answer := _answer_with_numbers(place.case, facts)) is not None:
            facts = facts.model_copy(update={"intent": answer})
        elif _unsure(inbound.summary, facts) and not _guesses_agree(rt, place.case, inbound.summary, facts):
            _leave_unsure(rt, s, inbound, place.case, now)
            event.status = WorkStatus.DONE
            return
        case = place.case or _open_case(s, inbound, facts, now)
        if case is not None:
            inbound.case_id = event.case_id = case.id
            event.status = WorkStatus.DONE  # with its case link, in one UPDATE (a failure rolls the item back whole)
            facts = facts.model_copy(update={"has_new_tracking": _remember_message(s, case, inbound.summary)})
            with s.no_autoflush:  # the case's changes go out in one UPDATE with the decision's
                linked = not inbound.message_id or s.get(CaseMessage, inbound.message_id) is not None
            if not linked:
                s.add(CaseMessage(message_id=inbound.message_id, case_id=case.id, direction="in",
                                  party=_party(inbound.summary), at=now))
    else:
        case = s.get(Case, event.case_id) if event.case_id else None
        facts = event.payload.facts
        if case is not None and event.kind == "reply.sent":
            _remember_done(case, str(facts.template), now)
    if case is None:
        if inbound is not None and not (facts.automated or facts.bulk):
            leave_for_people(rt, s, inbound, None, now)
        event.status = WorkStatus.DONE
        return
    facts = facts.merged(case_facts(rt, case))
    decision = decide(load_playbook(), case.state, event.kind, facts)
    apply_decision(rt, s, case, event, decision, inbound, facts, now)
    event.status = WorkStatus.DONE


def _message_facts(summary: Summary, thread: str | None) -> Facts:
    """What a message tells the playbook; `thread` is the party of our message it answers."""
    automated = bool(summary.automated)
    return Facts(intent=summary.intent, role=summary.sender_role, automated=automated, bulk=bool(summary.bulk),
                 bounce=summary.bounce and automated, has_tracking=bool(summary.tracking),
                 has_order=bool(summary.order_numbers), thread=thread)


def _party(summary: Summary) -> str:
    """The party a message's sender is, for the case's thread ("unknown" when unread)."""
    return summary.sender_role if summary.sender_role is not None else "unknown"


def _unsure(summary: Summary, facts: Facts) -> bool:
    """A person's message whose intent the reader is not sure of: nothing is done on a guess."""
    return summary.intent_confident is False and not (facts.automated or facts.bulk)


def _answer_with_numbers(case: Case | None, facts: Facts) -> str | None:
    """The case's state as context for an unsure reading: a customer whose case waits for their
    order or tracking number and who now gives one ("It is order #2002.") is answering our
    question, so the message carries on the complaint the case is about."""
    if case is None or case.state != "awaiting_tracking_info" or facts.role != "customer":
        return None
    if not (facts.has_order or facts.has_tracking):
        return None
    return case.facts.complaint_intent or "delivered_not_received"


def _guesses_agree(rt: Runtime, case: Case | None, summary: Summary, facts: Facts) -> bool:
    """Whether the reader's two best guesses, together as likely as `min_confidence`, lead the
    playbook to the same decision in the message's case ("still nothing" after the post-office
    kit is where-is-my-order or delivered-not-received alike): then acting relies on no guess."""
    guesses = summary.intent_guesses
    if len(guesses) < 2 or guesses[0][1] + guesses[1][1] < rt.config.reading.min_confidence:
        return False
    if case is None:
        return False
    seen = {t.number for t in case.tracking_numbers}
    known = facts.merged(case_facts(rt, case)).model_copy(
        update={"has_new_tracking": any(t.number not in seen for t in summary.tracking)})
    decisions = [decide(load_playbook(), case.state, "message.received", known.model_copy(update={"intent": intent}))
                 for intent, _ in guesses[:2]]
    same = decisions[0].rule != "none" and all(
        (d.to_state, d.actions) == (decisions[0].to_state, decisions[0].actions) for d in decisions)
    if same:
        rt.log(f"process: intent unsure ({guesses[0][0]} or {guesses[1][0]}), both lead to {decisions[0].rule}")
    return same


def _leave_unsure(rt: Runtime, s: Session, inbound: InboundMessage, case: Case | None, now: datetime) -> None:
    """To "Needs attention" with the reader's two best guesses and why. The message stays linked
    to its case (so the thread is kept), but the case learns nothing from it and nothing is sent."""
    summary = inbound.summary
    if case is not None:
        inbound.case_id = case.id
        if inbound.message_id:
            s.merge(CaseMessage(message_id=inbound.message_id, case_id=case.id, direction="in",
                                party=_party(summary), at=now))
    guesses = ", ".join(f"{name} {p:.2f}" for name, p in summary.intent_guesses)
    why = "; ".join(w.removeprefix("model: ") for w in summary.intent_why)
    reason = (f"intent unsure (below {rt.config.reading.min_confidence:.2f}): best guesses {guesses}; why: {why}. "
              "Move this message into Teach/<intent> to have it handled as that intent.")
    rt.log(f"process: message {inbound.id} left for people: intent unsure ({guesses})")
    leave_for_people(rt, s, inbound, case.id if case is not None else None, now, reason)


@dataclass(frozen=True)
class Place:
    """Where a message belongs: its case (None: a new conversation), the party of our own message
    it answers (`thread`), or why it is left for people instead."""

    case: Case | None = None
    thread: str | None = None
    refusal: str | None = None


def _find_case(s: Session, summary: Summary) -> Place:
    """Threading: our Message-IDs (in the thread, or quoted by a bounce), then the subject's case
    tag, then an open case of the same customer with the same order or tracking number. Thread and
    tag count only for the case's own customer or a proven partner (`_may_join`)."""
    sender, role = summary.sender, summary.sender_role
    check = summary.sender_check or SenderCheck()
    proven = check.proven
    if role in PARTNERS and check.refuted:
        return Place(refusal=_unproven(summary, "our mail server says DMARC fails for it"))
    bounce = summary.bounce
    quoted = summary.quoted_ids if bounce else []
    for mid in [*reversed(summary.thread_ids), *quoted]:
        link = s.get(CaseMessage, mid)
        if link is None or (bounce and link.direction != "out"):
            continue
        case = s.get(Case, link.case_id)
        if case is None:
            continue
        thread = _thread_party(s, summary, case)
        if role in PARTNERS and not proven and thread != role:
            return Place(refusal=_unproven(summary, f"it does not answer our own message to the {role}"))
        if bounce or _may_join(case, sender, role, proven or thread == role):
            return Place(case, thread)
        return Place()
    tagged = case_tag_in_subject(summary.subject)
    if tagged is not None and (case := s.get(Case, tagged[0])) is not None and \
            case.facts.tag_token == tagged[1] and _may_join(case, sender, role, proven):
        return Place(case, _thread_party(s, summary, case))
    if role in PARTNERS and not proven:
        return Place(refusal=_unproven(summary, "it is not an answer in a thread we started"))
    numbers = set(summary.order_numbers) | {t.number for t in summary.tracking}
    if not numbers:
        return Place()
    candidates = s.scalars(select(Case).where(Case.customer == sender, Case.state.not_in(FINAL_STATES))
                           .order_by(Case.id))
    for case in candidates:
        known = set(case.order_numbers) | {t.number for t in case.tracking_numbers}
        if known & numbers:
            return Place(case)
    return Place()


def _may_join(case: Case, sender: str, role: str | None, proven_partner: bool) -> bool:
    """The case's customer (or an alias the case holds), or a proven partner of the case."""
    if sender and (sender == case.customer or sender in case.facts.aliases):
        return True
    return role in PARTNERS and proven_partner


def _thread_party(s: Session, summary: Summary, case: Case) -> str | None:
    """The party of our own latest message on `case` that this message answers."""
    for mid in reversed(summary.thread_ids):
        link = s.get(CaseMessage, mid)
        if link is not None and link.case_id == case.id and link.direction == "out":
            return link.party
    return None


def _unproven(summary: Summary, why: str) -> str:
    how = summary.sender_check.how if summary.sender_check is not None else ""
    return (f"mail from the {summary.sender_role} address {summary.sender} is not proven to come "
            f"from them ({how or 'not checked'}) and {why}")


def _refusal(rt: Runtime, s: Session, summary: Summary, facts: Facts, case: Case | None) -> str | None:
    """Why this message must not touch any case, or None."""
    sender = summary.sender
    if summary.sender_problem:
        return f"the sender cannot be told: {summary.sender_problem}"
    if summary.sender_check is not None and summary.sender_check.refuted:
        return (f"our mail server says DMARC fails for the From domain of {sender}: it is not who it says "
                f"({summary.sender_check.how})")
    if sender == rt.config.store.support_address.lower():
        return "it comes from the store's own address"
    numbers = [t.number for t in summary.tracking]
    if numbers and summary.sender_role not in PARTNERS:
        owners = set(s.scalars(select(CaseNumber.case_id).where(CaseNumber.number.in_(numbers),
                                                                CaseNumber.customer != sender)))
        if owners - ({case.id} if case is not None else set()):
            return "it names a tracking number of another customer's case"
    if case is None and not (facts.automated or facts.bulk or summary.taught):  # taught: seen once
        words = hashlib.sha256(f"{summary.subject}\n{summary.new_text}".encode()).hexdigest()
        if not take(s, f"words:{sender}:{words[:32]}", rt.clock(), 1, 1):
            return "the sender sent the same words before today (an auto-responder?)"
    return None


def _open_case(s: Session, inbound: InboundMessage, facts: Facts, now: datetime) -> Case | None:
    """Only a person's own first message about an order opens a case."""
    summary = inbound.summary
    if facts.automated or facts.bulk or facts.role != "customer":
        return None
    if facts.intent not in {i.value for i in CUSTOMER_INTENTS}:
        return None
    # written at once: the rows that point at it follow in this transaction, and the unit of work
    # orders INSERTs by relationships, which these tables do not declare
    case = Case(state="new", version=1, customer=summary.sender, language=summary.language or "",
                subject=summary.subject, order_numbers=[], tracking_numbers=[],
                facts=CaseFacts(customer_name=summary.from_name, tag_token=new_tag_token()), opened_at=now)
    s.add(case)
    s.flush()
    opened(s, case)
    return case


def _remember_message(s: Session, case: Case, summary: Summary) -> bool:
    """Keep what the message tells the case: numbers, the customer's words, a partner's address,
    a new tracking number (the distributor's last mile, a supplier's reship). True when the
    message carries a tracking number the case did not have."""
    role = summary.sender_role
    seen = {t.number for t in case.tracking_numbers}
    new_numbers = [t for t in summary.tracking if t.number not in seen]
    learnt: dict[str, str] = {}
    if role == "customer" and summary.intent in ("delivered_not_received", "where_is_my_order") and (
            words := summary.new_text.strip()):
        learnt["customer_words"] = "\n\n".join([*case.facts.customer_words.split("\n\n"), words][-_WORDS_KEPT:]
                                               ).strip()
    if role == "distributor":
        learnt["distributor_address"] = summary.sender
    if role == "supplier":
        learnt["supplier_address"] = summary.sender
    if new_numbers and role == "distributor":
        learnt["last_mile_number"] = new_numbers[0].number
    if new_numbers and role == "supplier":
        learnt["new_tracking_number"] = new_numbers[0].number
        learnt["new_tracking_url"] = public_tracking_url(new_numbers[0].number)
    case.facts = case.facts.model_copy(update=learnt)
    case.order_numbers = list(dict.fromkeys([*case.order_numbers, *summary.order_numbers]))
    case.tracking_numbers = [*case.tracking_numbers, *new_numbers]
    for found in new_numbers:
        s.add(CaseNumber(number=found.number, case_id=case.id, customer=case.customer))
    if not case.language and summary.language and role == "customer":
        case.language = summary.language
    return bool(new_numbers)


def _remember_done(case: Case, template: str, now: datetime) -> None:
    sentence = _DONE_SENTENCES.get(template)
    if sentence:
        done = [*case.facts.done_so_far, f"{sentence} ({now:%Y-%m-%d})"]
        case.facts = case.facts.model_copy(update={"done_so_far": list(dict.fromkeys(done))})


def _leave_message(rt: Runtime, s: Session, event: Event | Intent) -> None:
    """A message whose event was set aside goes to people, with the error, so nobody waits on it."""
    inbound = s.get(InboundMessage, event.payload.inbound_id) if isinstance(event, Event) and \
        event.kind == "message.received" and event.payload.inbound_id is not None else None
    if inbound is not None:
        leave_for_people(rt, s, inbound, None, rt.clock(), reason=f"could not be processed: {event.last_error}")


def _related(s: Session, events: list[Event]) -> list[object]:
    """The messages and cases a round's events read, in two SELECTs instead of two per event."""
    inbound_ids = [e.payload.inbound_id for e in events if e.kind == "message.received" and e.payload.inbound_id]
    case_ids = [e.case_id for e in events if e.case_id is not None]
    rows: list[object] = []
    if inbound_ids:
        rows.extend(s.scalars(select(InboundMessage).where(InboundMessage.id.in_(inbound_ids))))
    if case_ids:
        rows.extend(s.scalars(select(Case).where(Case.id.in_(case_ids))))
    return rows


QUEUE = Queue("process", Event, (Event.status == WorkStatus.PENDING,), None, WorkStatus.SHUNTED,
              handle_in=handle_event, related=_related, on_set_aside=_leave_message)
