"""Daily budgets: what one sender, one case or the whole store may make the daemon do per UTC day.

A budget is a counter row per (key, day), taken inside the caller's transaction, so what was
granted commits together with the work it pays for.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from inbox_agent.store.tables import Budget


def take(s: Session, key: str, now: datetime, wanted: int, limit: int) -> int:
    """Take up to `wanted` units of `key`'s budget of `limit` for today; returns how many were granted."""
    return take_many(s, [(key, now, wanted)], limit)[0]


def take_many(s: Session, wanted: list[tuple[str, datetime, int]], limit: int) -> list[int]:
    """`take` for several (key, now, units) requests, in order, each on a budget of `limit`: their
    rows read (and locked) in one SELECT, the new ones inserted together at the next flush;
    returns what each request was granted."""
    ids = sorted({(key[:400], now.date().isoformat()) for key, now, _ in wanted})
    rows = {(row.key, row.day): row for row in s.scalars(
        select(Budget).where(tuple_(Budget.key, Budget.day).in_(ids)).order_by(Budget.key, Budget.day)
        .with_for_update())}
    granted = []
    for key, now, units in wanted:
        pk = (key[:400], now.date().isoformat())
        row = rows.get(pk)
        if row is None:
            row = rows[pk] = Budget(key=pk[0], day=pk[1], used=0)
            s.add(row)
        granted.append(_grant(row, units, limit))
    return granted


def _grant(row: Budget, wanted: int, limit: int) -> int:
    """Up to `wanted` units of what `row` has left of `limit`, taken; how many."""
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
