"""Answers kept per (provider, number) for a TTL, so a number costs at most one call per TTL.

Errors that may pass (provider down) are never cached; explained not-found answers are, since
asking again within the TTL would get the same answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select

from inbox_agent.store.database import Database, aware
from inbox_agent.store.tables import TrackingSnapshot
from inbox_agent.tracking.status import TrackingStatus


class Cache(Protocol):
    def get(self, provider: str, number: str, now: datetime) -> TrackingStatus | None: ...

    def put(self, status: TrackingStatus, now: datetime) -> None: ...


class MemoryCache:
    """For one-shot commands (`inbox-agent track` without a database)."""

    def __init__(self, ttl: timedelta) -> None:
        self.ttl = ttl
        self._items: dict[tuple[str, str], tuple[datetime, TrackingStatus]] = {}

    def get(self, provider: str, number: str, now: datetime) -> TrackingStatus | None:
        item = self._items.get((provider, number))
        return item[1] if item and now - item[0] < self.ttl else None

    def put(self, status: TrackingStatus, now: datetime) -> None:
        self._items[(status.provider, status.number)] = (now, status)


class DatabaseCache:
    """tracking_snapshot rows: the newest per (provider, number) answers while younger than the TTL."""

    def __init__(self, db: Database, ttl: timedelta) -> None:
        self.db = db
        self.ttl = ttl

    def get(self, provider: str, number: str, now: datetime) -> TrackingStatus | None:
        with self.db.transaction() as s:
            row = s.scalars(select(TrackingSnapshot)
                            .where(TrackingSnapshot.provider == provider, TrackingSnapshot.number == number)
                            .order_by(TrackingSnapshot.fetched_at.desc()).limit(1)).first()
            if row is None or (fetched := aware(row.fetched_at)) is None or now - fetched >= self.ttl:
                return None
            return TrackingStatus.from_json(row.view)

    def put(self, status: TrackingStatus, now: datetime) -> None:
        with self.db.transaction() as s:
            s.add(TrackingSnapshot(provider=status.provider, number=status.number, status=status.status,
                                   view=status.to_json(), fetched_at=now))
