"""A case's timeline, for `inbox-agent cases show` and the demo: messages in and out,
decisions with the rule that fired, tracking, all in time order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from inbox_agent.store.database import Database
from inbox_agent.store.tables import Case, DecisionLog, InboundMessage, Intent


def case_timeline(db: Database, case_id: int) -> dict[str, Any] | None:
    with db.transaction() as s:
        case = s.get(Case, case_id)
        if case is None:
            return None
        entries: list[tuple[str, str]] = []
        for m in s.scalars(select(InboundMessage).where(InboundMessage.case_id == case_id)):
            entries.append((m.received_at.isoformat(timespec="seconds"),
                            f"in   {m.summary.get('from')}: {m.summary.get('subject')!r} "
                            f"({m.summary.get('intent')}, {m.summary.get('sender_role')})"))
        for d in s.scalars(select(DecisionLog).where(DecisionLog.case_id == case_id)):
            entries.append((d.at.isoformat(timespec="seconds"),
                            f"rule {d.rule}: {d.from_state} -> {d.to_state} ({', '.join(d.why)})"))
        for i in s.scalars(select(Intent).where(Intent.case_id == case_id)):
            what = f"{i.kind} {i.template or ''}".strip()
            entries.append((i.updated_at.isoformat(timespec="seconds"), f"out  {what}: {i.status} {i.message_id or ''}"))
        tracking = case.facts.get("tracking") or {}
        return {
            "id": case.id, "state": case.state, "customer": case.customer, "language": case.language,
            "order_numbers": case.order_numbers,
            "tracking": {n: {"status": t.get("status"), "last_mile": t.get("last_mile"),
                             "sample": t.get("sample")} for n, t in tracking.items()},
            "outcome": case.outcome,
            "timeline": [f"{at}  {text}" for at, text in sorted(entries, key=lambda e: e[0])],
        }
