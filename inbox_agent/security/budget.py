"""Daily budgets: what one sender, one case or the whole store may make the daemon do per UTC day.

A budget is a counter row per (key, day), taken inside the caller's transaction, so what was
granted commits together with the work it pays for.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from inbox_agent.store.tables import Budget


def take(s: Session, key: str, now: datetime, wanted: int, limit: int) -> int:
    """Take up to `wanted` units of `key`'s budget of `limit` for today; returns how many were granted."""
    day = now.date().isoformat()
    row = s.get(Budget, (key[:400], day), with_for_update=True)
    if row is None:
        row = Budget(key=key[:400], day=day, used=0)
        s.add(row)
    granted = max(0, min(wanted, limit - row.used))
    row.used += granted
    return granted


def take_each(s: Session, key: str, now: datetime, wanted: list[int], limit: int) -> list[bool]:
    """Several requests on `key`'s budget at once (one locked row read, one write): each is granted
    whole, in order, while it fits in what is left of today's `limit`; returns which were granted."""
    day = now.date().isoformat()
    row = s.get(Budget, (key[:400], day), with_for_update=True)
    if row is None:
        row = Budget(key=key[:400], day=day, used=0)
        s.add(row)
    granted = []
    for count in wanted:
        granted.append(row.used + count <= limit)
        if granted[-1]:
            row.used += count
    return granted


def used(s: Session, key: str, now: datetime) -> int:
    row = s.get(Budget, (key[:400], now.date().isoformat()))
    return row.used if row is not None else 0
