"""Claiming rows, so several workers can share one database without a lock manager of our own.

A claim sets `claimed_until` and `claimed_by` (the worker's name) and counts the try in
`attempts`, in one short transaction. On
PostgreSQL the candidates are locked with `FOR UPDATE SKIP LOCKED`, so concurrent workers take
different rows without waiting; on SQLite (one writer at a time) each row is won by a
compare-and-set on `claimed_until`. A claim expires, so a crashed worker's rows come back; a
worker restarted under the same name takes its own back at once (`release_claims`). `attempts`
then says that an earlier try may have done part of the work.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from inbox_agent.domain import OutboxStatus, WorkStatus
from inbox_agent.store.tables import Event, Intent, Timer

CLAIM_SECONDS = 120
CLAIM_BATCH = 20
# the statuses a row may hold while some stage's runner has it claimed (send holds SENDING)
CLAIMABLE = (WorkStatus.PENDING, OutboxStatus.APPROVED, OutboxStatus.SENDING)
ClaimedTable = type[Event] | type[Intent] | type[Timer]


def claim_ids(session: Session, table: ClaimedTable, where: list[ColumnElement[bool]], now: datetime,
              worker: str, limit: int = CLAIM_BATCH, seconds: float = CLAIM_SECONDS,
              status: str | None = None) -> list[int]:
    """Claim up to `limit` rows of `table` matching `where`, oldest first, for `seconds`; returns
    the ids won. `status`, when given, is set by the claim itself (send's SENDING)."""
    free = or_(table.claimed_until.is_(None), table.claimed_until <= now)
    claim: dict[str, object] = {"claimed_until": now + timedelta(seconds=seconds), "claimed_by": worker,
                                "attempts": table.attempts + 1}
    if status is not None:
        claim["status"] = status
    candidates = select(table.id).where(*where, free).order_by(table.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(candidates.with_for_update(skip_locked=True)))
        if ids:
            session.execute(update(table).where(table.id.in_(ids)).values(**claim))
        return ids
    won = []
    for row_id in session.scalars(candidates).all():
        result = session.execute(update(table).where(table.id == row_id, *where, free).values(**claim))
        if result.rowcount == 1:  # type: ignore[attr-defined]
            won.append(row_id)
    return won


def release_claims(session: Session, worker: str) -> int:
    """Free the rows `worker` still holds: it was restarted, so whatever held them is dead."""
    released = 0
    for table, waiting in ((Event, Event.status.in_(CLAIMABLE)), (Intent, Intent.status.in_(CLAIMABLE)),
                           (Timer, Timer.fired.is_(False))):
        result = session.execute(update(table).where(table.claimed_by == worker, waiting)
                                 .values(claimed_until=None, claimed_by=None))
        released += result.rowcount  # type: ignore[attr-defined]
    return released
