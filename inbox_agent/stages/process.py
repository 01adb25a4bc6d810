"""process: event -> case state + decision log + intents, in one transaction.

`decide()` is pure; this stage gathers its facts, applies the decision (stages/actions.py) and
commits everything together, so a crash repeats the step with the same result. An event that
fails three times is set aside (shunted) with its error and processing goes on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inbox_agent.domain import CUSTOMER_INTENTS, WorkStatus
from inbox_agent.playbook import decide, load_playbook
from inbox_agent.render.directory import public_tracking_url
from inbox_agent.render.message import case_id_in_subject
from inbox_agent.stages.actions import apply_decision, case_facts, leave_for_people
from inbox_agent.stages.claims import MAX_ATTEMPTS, claim_ids
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.tables import Case, CaseMessage, Event, InboundMessage

FINAL_STATES = ("solved", "refunded", "unresolved", "closed")
_WORDS_KEPT = 3
_DONE_SENTENCES = {
    "customer_post_office_kit": "sent the customer the post office's contact details, tracking link and tracking history",
    "customer_followup": "followed up with the customer",
    "distributor_last_mile_request": "asked the distributor for the post office tracking number",
}


def run_once(rt: Runtime) -> int:
    now = rt.clock()
    with rt.db.transaction() as s:
        ids = claim_ids(s, Event, [Event.status == WorkStatus.PENDING], now)
    for event_id in ids:
        try:
            with rt.db.transaction() as s:
                _handle(rt, s, event_id)
        except Exception as e:  # noqa: BLE001 - one bad event never stops the stage
            _failed(rt, event_id, e)
    return len(ids)


def _failed(rt: Runtime, event_id: int, error: Exception) -> None:
    with rt.db.transaction() as s:
        event = s.get(Event, event_id)
        if event is None:
            return
        event.attempts += 1
        event.last_error = f"{type(error).__name__}: {error}"
        event.claimed_until = None
        if event.attempts >= MAX_ATTEMPTS:
            event.status = WorkStatus.SHUNTED
            rt.log(f"process: event {event_id} set aside after {event.attempts} attempts: {event.last_error}")


def _handle(rt: Runtime, s: Session, event_id: int) -> None:
    event = s.get(Event, event_id)
    if event is None or event.status != WorkStatus.PENDING:
        return
    now = rt.clock()
    facts: dict[str, Any]
    inbound: InboundMessage | None = None
    if event.kind == "message.received":
        inbound = s.get(InboundMessage, event.payload["inbound_id"])
        assert inbound is not None
        facts = _message_facts(inbound.summary)
        if _unsure(inbound.summary, facts) and not _guesses_agree(rt, s, inbound.summary, facts):
            _leave_unsure(rt, s, inbound, now)
            event.status = WorkStatus.DONE
            return
        case = _find_case(s, inbound.summary) or _open_case(s, inbound, facts, now)
        if case is not None:
            inbound.case_id = event.case_id = case.id
            facts["has_new_tracking"] = _remember_message(case, inbound.summary)
            if inbound.message_id:
                s.merge(CaseMessage(message_id=inbound.message_id, case_id=case.id, direction="in",
                                    party=inbound.summary.get("sender_role", "unknown"), at=now))
    else:
        case = s.get(Case, event.case_id) if event.case_id else None
        facts = dict(event.payload.get("facts", {}))
        if case is not None and event.kind == "reply.sent":
            _remember_done(case, str(facts.get("template")), now)
    if case is None:
        if inbound is not None and not (facts["automated"] or facts["bulk"]):
            leave_for_people(rt, s, inbound, None, now)
        event.status = WorkStatus.DONE
        return
    facts.update(case_facts(rt, case))
    decision = decide(load_playbook(), case.state, event.kind, facts)
    apply_decision(rt, s, case, event, decision, inbound, facts, now)
    event.status = WorkStatus.DONE


def _message_facts(summary: dict[str, Any]) -> dict[str, Any]:
    automated = bool(summary.get("automated"))
    return {
        "intent": summary.get("intent"),
        "role": summary.get("sender_role"),
        "automated": automated,
        "bulk": bool(summary.get("bulk")),
        "bounce": bool(summary.get("bounce")) and automated,
        "has_tracking": bool(summary.get("tracking")),
        "has_order": bool(summary.get("order_numbers")),
    }


def _unsure(summary: dict[str, Any], facts: dict[str, Any]) -> bool:
    """A person's message whose intent the reader is not sure of: nothing is done on a guess."""
    return summary.get("intent_confident") is False and not (facts["automated"] or facts["bulk"])


def _guesses_agree(rt: Runtime, s: Session, summary: dict[str, Any], facts: dict[str, Any]) -> bool:
    """Whether the reader's two best guesses, together as likely as `min_confidence`, lead the
    playbook to the same decision in the message's case ("still nothing" after the post-office
    kit is where-is-my-order or delivered-not-received alike): then acting relies on no guess."""
    guesses = summary.get("intent_guesses") or []
    if len(guesses) < 2 or guesses[0][1] + guesses[1][1] < rt.config.reading.min_confidence:
        return False
    case = _find_case(s, summary)
    if case is None:
        return False
    seen = {t["number"] for t in case.tracking_numbers}
    known = {**facts, **case_facts(rt, case),
             "has_new_tracking": any(t["number"] not in seen for t in summary.get("tracking") or [])}
    decisions = [decide(load_playbook(), case.state, "message.received", {**known, "intent": intent})
                 for intent, _ in guesses[:2]]
    same = decisions[0].rule != "none" and all(
        (d.to_state, d.actions) == (decisions[0].to_state, decisions[0].actions) for d in decisions)
    if same:
        rt.log(f"process: intent unsure ({guesses[0][0]} or {guesses[1][0]}), both lead to {decisions[0].rule}")
    return same


def _leave_unsure(rt: Runtime, s: Session, inbound: InboundMessage, now: Any) -> None:
    """To "Needs attention" with the reader's two best guesses and why. The message stays linked
    to its case (so the thread is kept), but the case learns nothing from it and nothing is sent."""
    summary = inbound.summary
    case = _find_case(s, summary)
    if case is not None:
        inbound.case_id = case.id
        if inbound.message_id:
            s.merge(CaseMessage(message_id=inbound.message_id, case_id=case.id, direction="in",
                                party=summary.get("sender_role", "unknown"), at=now))
    guesses = ", ".join(f"{name} {p:.2f}" for name, p in summary.get("intent_guesses") or [])
    why = "; ".join(w.removeprefix("model: ") for w in summary.get("intent_why") or [])
    reason = (f"intent unsure (below {rt.config.reading.min_confidence:.2f}): best guesses {guesses}; why: {why}. "
              "Move this message into Teach/<intent> to have it handled as that intent.")
    rt.log(f"process: message {inbound.id} left for people: intent unsure ({guesses})")
    leave_for_people(rt, s, inbound, case.id if case is not None else None, now, reason)


def _find_case(s: Session, summary: dict[str, Any]) -> Case | None:
    """Threading: our Message-IDs (in the thread, or quoted by a bounce), then the subject's case
    tag, then an open case of the same customer with the same order or tracking number."""
    for mid in [*reversed(summary.get("thread_ids") or []), *(summary.get("quoted_ids") or [])]:
        link = s.get(CaseMessage, mid)
        if link is not None:
            return s.get(Case, link.case_id)
    tagged = case_id_in_subject(summary.get("subject", ""))
    if tagged is not None and (case := s.get(Case, tagged)) is not None:
        return case
    numbers = set(summary.get("order_numbers") or []) | {t["number"] for t in summary.get("tracking") or []}
    if not numbers:
        return None
    candidates = s.scalars(select(Case).where(Case.customer == summary.get("from", ""),
                                              Case.state.not_in(FINAL_STATES)).order_by(Case.id))
    for case in candidates:
        known = set(case.order_numbers) | {t["number"] for t in case.tracking_numbers}
        if known & numbers:
            return case
    return None


def _open_case(s: Session, inbound: InboundMessage, facts: dict[str, Any], now: Any) -> Case | None:
    """Only a person's own first message about an order opens a case."""
    summary = inbound.summary
    if facts["automated"] or facts["bulk"] or facts["role"] != "customer":
        return None
    if facts["intent"] not in {i.value for i in CUSTOMER_INTENTS}:
        return None
    case = Case(state="new", customer=summary.get("from", ""), language=summary.get("language") or "",
                subject=summary.get("subject", ""), order_numbers=[], tracking_numbers=[],
                facts={"customer_name": summary.get("from_name", "")}, opened_at=now)
    s.add(case)
    s.flush()
    return case


def _remember_message(case: Case, summary: dict[str, Any]) -> bool:
    """Keep what the message tells the case: numbers, the customer's words, a partner's address,
    a new tracking number (the distributor's last mile, a supplier's reship). True when the
    message carries a tracking number the case did not have."""
    role = summary.get("sender_role")
    seen = {t["number"] for t in case.tracking_numbers}
    new_numbers = [t for t in summary.get("tracking") or [] if t["number"] not in seen]
    facts = dict(case.facts)
    if role == "customer" and summary.get("intent") in ("delivered_not_received", "where_is_my_order") and (
            words := (summary.get("new_text") or "").strip()):
        facts["customer_words"] = "\n\n".join([*(facts.get("customer_words") or "").split("\n\n"), words][-_WORDS_KEPT:]
                                              ).strip()
    if role in ("distributor", "supplier"):
        facts[f"{role}_address"] = summary.get("from")
    if new_numbers and role == "distributor":
        facts["last_mile_number"] = new_numbers[0]["number"]
    if new_numbers and role == "supplier":
        facts["new_tracking_number"] = new_numbers[0]["number"]
        facts["new_tracking_url"] = public_tracking_url(new_numbers[0]["number"])
    case.facts = facts
    case.order_numbers = list(dict.fromkeys([*case.order_numbers, *(summary.get("order_numbers") or [])]))
    case.tracking_numbers = [*case.tracking_numbers, *new_numbers]
    if not case.language and summary.get("language") and role == "customer":
        case.language = summary["language"]
    return bool(new_numbers)


def _remember_done(case: Case, template: str, now: Any) -> None:
    sentence = _DONE_SENTENCES.get(template)
    if sentence:
        done = [*(case.facts.get("done_so_far") or []), f"{sentence} ({now:%Y-%m-%d})"]
        case.facts = {**case.facts, "done_so_far": list(dict.fromkeys(done))}
