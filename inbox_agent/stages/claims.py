"""Claiming a row: a compare-and-set on `claimed_until`, so several workers can share one
database without a lock manager. A claim expires, so a crashed worker's rows come back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

CLAIM_SECONDS = 120
MAX_ATTEMPTS = 3


def claim_ids(session: Session, table: Any, where: list[Any], now: datetime, limit: int = 20) -> list[int]:
    """Claim up to `limit` rows of `table` matching `where`; returns the ids won."""
    free = or_(table.claimed_until.is_(None), table.claimed_until < now)
    ids = list(session.scalars(select(table.id).where(*where, free).order_by(table.id).limit(limit)))
    won = []
    until = now + timedelta(seconds=CLAIM_SECONDS)
    for row_id in ids:
        result = session.execute(
            update(table).where(table.id == row_id, free).values(claimed_until=until)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            won.append(row_id)
    return won
