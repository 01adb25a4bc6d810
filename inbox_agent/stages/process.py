"""process: event -> case state + decision log + intents, in one transaction.

`decide()` is pure; this stage gathers its facts, applies the decision and commits everything
together, so a crash repeats the step with the same result. An event that fails three times is
set aside (shunted) with its error and processing goes on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inbox_agent.domain import CUSTOMER_INTENTS, OutboxStatus, WorkStatus
from inbox_agent.playbook import Decision, decide, load_playbook
from inbox_agent.render.compose import compose_reply
from inbox_agent.render.message import case_id_in_subject
from inbox_agent.stages.claims import MAX_ATTEMPTS, claim_ids
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.tables import Case, CaseMessage, DecisionLog, Event, InboundMessage, Intent

OPEN_STATES_EXCLUDED = ("solved", "closed")


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
        case = _find_case(s, inbound.summary) or _open_case(s, inbound, facts, now)
        if case is not None:
            inbound.case_id = case.id
            event.case_id = case.id
            _remember_numbers(case, inbound.summary)
            if inbound.message_id:
                s.merge(CaseMessage(message_id=inbound.message_id, case_id=case.id, direction="in",
                                    party=inbound.summary.get("sender_role", "unknown"), at=now))
    else:
        case = s.get(Case, event.case_id) if event.case_id else None
        facts = dict(event.payload.get("facts", {}))
    if case is None:
        event.status = WorkStatus.DONE
        return
    facts.update(_case_facts(case))
    decision = decide(load_playbook(), case.state, event.kind, facts)
    _apply(rt, s, case, event, decision, inbound, now)
    event.status = WorkStatus.DONE


def _message_facts(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "intent": summary.get("intent"),
        "role": summary.get("sender_role"),
        "automated": bool(summary.get("automated")),
        "bulk": bool(summary.get("bulk")),
        "has_tracking": bool(summary.get("tracking")),
        "has_order": bool(summary.get("order_numbers")),
    }


def _case_facts(case: Case) -> dict[str, Any]:
    tracking = case.facts.get("tracking") or {}
    return {
        "tracking_delivered": any(t.get("status") == "delivered" for t in tracking.values()),
        "last_mile_known": any(t.get("last_mile") for t in tracking.values()),
    }


def _find_case(s: Session, summary: dict[str, Any]) -> Case | None:
    """Threading: our Message-IDs, then the subject's case tag, then same customer + same number."""
    for mid in reversed(summary.get("thread_ids") or []):
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
                                              Case.state.not_in(OPEN_STATES_EXCLUDED)))
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


def _remember_numbers(case: Case, summary: dict[str, Any]) -> None:
    orders = list(dict.fromkeys([*case.order_numbers, *(summary.get("order_numbers") or [])]))
    seen = {t["number"] for t in case.tracking_numbers}
    tracking = [*case.tracking_numbers, *(t for t in summary.get("tracking") or [] if t["number"] not in seen)]
    case.order_numbers, case.tracking_numbers = orders, tracking
    if not case.language and summary.get("language"):
        case.language = summary["language"]


def _apply(rt: Runtime, s: Session, case: Case, event: Event, decision: Decision,
           inbound: InboundMessage | None, now: Any) -> None:
    s.add(DecisionLog(case_id=case.id, event_id=event.id, rule=decision.rule, from_state=decision.from_state,
                      to_state=decision.to_state, why=decision.why, at=now))
    if decision.to_state != case.state:
        case.state = decision.to_state
        case.version += 1
    for kind, arg in decision.actions:
        if kind == "track":
            numbers = [t["number"] for t in case.tracking_numbers]
            s.add(Intent(kind="track", case_id=case.id, idempotency_key=f"track:{case.id}:{event.id}",
                         payload={"numbers": numbers}, status=OutboxStatus.PENDING, created_at=now, updated_at=now))
        elif kind == "reply":
            s.add(compose_reply(rt, s, case, arg, f"reply:{case.id}:{event.id}:{arg}", now))
        elif kind == "close":
            case.closed_at, case.outcome = now, arg
        elif kind == "attention":
            case.facts = {**case.facts, "attention": decision.rule}
