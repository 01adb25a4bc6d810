"""track: intent(track) -> tracking snapshots + event(tracking.updated), in one transaction.

Lookups are safe to repeat; a fresh snapshot (younger than the TTL) is reused instead of
calling again. The embedded setup answers from sample data.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from inbox_agent.domain import OutboxStatus, WorkStatus
from inbox_agent.stages.claims import claim_ids
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.database import aware
from inbox_agent.store.tables import Case, Event, Intent, TrackingSnapshot
from inbox_agent.tracking.sample import sample_status
from inbox_agent.tracking.status import TrackingStatus


def run_once(rt: Runtime) -> int:
    now = rt.clock()
    with rt.db.transaction() as s:
        ids = claim_ids(s, Intent, [Intent.kind == "track", Intent.status == OutboxStatus.PENDING], now)
    for intent_id in ids:
        with rt.db.transaction() as s:
            intent = s.get(Intent, intent_id)
            if intent is None or intent.status != OutboxStatus.PENDING:
                continue
            case = s.get(Case, intent.case_id)
            assert case is not None
            statuses = {n: _lookup(rt, s, n).to_json() for n in intent.payload.get("numbers", [])}
            case.facts = {**case.facts, "tracking": {**(case.facts.get("tracking") or {}), **statuses}}
            intent.status, intent.updated_at = OutboxStatus.SENT, now
            s.add(Event(kind="tracking.updated", case_id=case.id, payload={"numbers": list(statuses)},
                        status=WorkStatus.PENDING, created_at=now))
    return len(ids)


def _lookup(rt: Runtime, s: Session, number: str) -> TrackingStatus:
    now = rt.clock()
    ttl = timedelta(minutes=rt.config.tracking.ttl_minutes)
    cached = s.scalars(select(TrackingSnapshot).where(TrackingSnapshot.number == number)
                       .order_by(TrackingSnapshot.fetched_at.desc())).first()
    if cached is not None and (fetched := aware(cached.fetched_at)) is not None and now - fetched < ttl:
        return TrackingStatus.from_json(cached.view)
    status = sample_status(number, now)
    s.add(TrackingSnapshot(provider=status.provider, number=number, status=status.status,
                           view=status.to_json(), fetched_at=now))
    return status
