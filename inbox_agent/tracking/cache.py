"""Answers kept per (provider, number) for a TTL, so a number costs at most one call per TTL.

Errors that may pass (provider down) are never cached; explained not-found answers are, since
asking again within the TTL would get the same answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select

from inbox_agent.store.database import Database, aware
from inbox_agent.store.tables import TrackingSnapshot
from inbox_agent.tracking.status import TrackingStatus

_IN_BATCH = 500  # numbers per IN (...) list


class Cache(Protocol):
    def get(self, provider: str, number: str, now: datetime) -> TrackingStatus | None: ...

    def put(self, status: TrackingStatus, now: datetime) -> None: ...

    def get_many(self, provider: str, numbers: Sequence[str], now: datetime) -> dict[str, TrackingStatus]: ...

    def put_many(self, statuses: Sequence[TrackingStatus], now: datetime) -> None: ...


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

    def get_many(self, provider: str, numbers: Sequence[str], now: datetime) -> dict[str, TrackingStatus]:
        return {n: found for n in numbers if (found := self.get(provider, n, now)) is not None}

    def put_many(self, statuses: Sequence[TrackingStatus], now: datetime) -> None:
        for status in statuses:
            self.put(status, now)


class DatabaseCache:
    """tracking_snapshot rows: the newest per (provider, number) answers while younger than the TTL.
    A round's numbers are read, and its answers written, in one transaction per provider call."""

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
        self.put_many([status], now)

    def get_many(self, provider: str, numbers: Sequence[str], now: datetime) -> dict[str, TrackingStatus]:
        """The fresh answers among `numbers` (the newest row of each), by number."""
        found: dict[str, dict[str, Any]] = {}
        with self.db.transaction() as s:
            for start in range(0, len(numbers), _IN_BATCH):
                rows = s.execute(select(TrackingSnapshot.number, TrackingSnapshot.view)
                                 .where(TrackingSnapshot.provider == provider,
                                        TrackingSnapshot.number.in_(numbers[start:start + _IN_BATCH]),
                                        TrackingSnapshot.fetched_at > now - self.ttl)
                                 .order_by(TrackingSnapshot.fetched_at))
                found.update({number: view for number, view in rows})  # the newest row comes last
        return {number: TrackingStatus.from_json(view) for number, view in found.items()}

    def put_many(self, statuses: Sequence[TrackingStatus], now: datetime) -> None:
        if not statuses:
            return
        with self.db.transaction() as s:
            s.add_all([TrackingSnapshot(provider=status.provider, number=status.number, status=status.status,
                                        view=status.to_json(), fetched_at=now) for status in statuses])
