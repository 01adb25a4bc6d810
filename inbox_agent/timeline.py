"""Cases for people: the list, one case's timeline (messages in and out with their status,
tracking, every decision with the rule that fired and why, timers), and closing by hand."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from inbox_agent.store.database import Database
from inbox_agent.store.tables import Case, DecisionLog, InboundMessage, Intent, Timer


def case_rows(db: Database, state: str | None = None) -> list[dict[str, Any]]:
    """One line per case, newest first."""
    with db.transaction() as s:
        query = select(Case).order_by(Case.id.desc())
        if state:
            query = query.where(Case.state == state)
        return [{"id": c.id, "state": c.state, "customer": c.customer, "language": c.language,
                 "orders": c.order_numbers, "tracking": [t.number for t in c.tracking_numbers],
                 "opened_at": _iso(c.opened_at), "outcome": c.outcome} for c in s.scalars(query)]


def case_timeline(db: Database, case_id: int) -> dict[str, Any] | None:
    with db.transaction() as s:
        case = s.get(Case, case_id)
        if case is None:
            return None
        entries: list[tuple[str, str]] = []
        for m in s.scalars(select(InboundMessage).where(InboundMessage.case_id == case_id)):
            entries.append((_iso(m.received_at),
                            f"in   {m.summary.sender}: {m.summary.subject!r} "
                            f"({m.summary.intent}, {m.summary.sender_role})"))
        for d in s.scalars(select(DecisionLog).where(DecisionLog.case_id == case_id)):
            entries.append((_iso(d.at), f"rule {d.rule}: {d.from_state} -> {d.to_state} ({', '.join(d.why)})"))
        for i in s.scalars(select(Intent).where(Intent.case_id == case_id)):
            what = f"{i.kind} {i.template or ''}".strip()
            to = f" to {', '.join(i.recipients)}" if i.recipients else ""
            entries.append((_iso(i.updated_at), f"out  {what}{to}: {i.status} {i.message_id or ''}".rstrip()))
        timers = [{"name": t.name, "due_at": _iso(t.due_at), "fired": t.fired}
                  for t in s.scalars(select(Timer).where(Timer.case_id == case_id).order_by(Timer.due_at))]
        facts = case.facts
        return {
            "id": case.id, "state": case.state, "customer": case.customer, "language": case.language,
            "order_numbers": case.order_numbers,
            "tracking": {n: {"status": t.status, "last_mile": asdict(t.last_mile) if t.last_mile else None,
                             "last_mile_status": t.last_mile_status, "sample": t.sample, "error": t.error,
                             "legs": [leg.describe() for leg in t.legs]}
                         for n, t in facts.tracking.items()},
            "timers": timers,
            "escalations": facts.escalations,
            "order": facts.order.model_dump(mode="json") if facts.order is not None else None,
            "order_notes": facts.order_notes,
            "outcome": case.outcome,
            "timeline": [f"{at}  {text}" for at, text in sorted(entries, key=lambda e: e[0])],
        }


def close_case(db: Database, case_id: int, reason: str, now: datetime) -> bool:
    """Close a case by hand: its timers stop, the reason is its outcome. False when unknown."""
    with db.transaction() as s:
        case = s.get(Case, case_id)
        if case is None:
            return False
        s.execute(delete(Timer).where(Timer.case_id == case_id))
        s.add(DecisionLog(case_id=case_id, event_id=None, rule="closed_by_hand", from_state=case.state,
                          to_state="closed", why=[f"reason={reason}"], at=now))
        case.state, case.outcome, case.closed_at = "closed", reason, now
        case.version += 1
        return True


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""
