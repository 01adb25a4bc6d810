"""One rate budget per provider key, shared by every worker on the database.

A provider's allowance (17TRACK: 3 requests/s) belongs to the API key, not to a process: two
workers with their own buckets would spend twice of it. The bucket lives in one `rate_budget`
row per (provider, key hash) instead, as the generic cell rate algorithm keeps it: the time at
which the bucket is full again. A call may go when adding one interval (1 / rate) to that time
leaves at most `burst` intervals pending; it takes its call by adding the interval in a single
atomic upsert (`INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING`, a row lock on
PostgreSQL, the write lock on SQLite), else it waits until a call may be spare and asks again:
`burst` calls go at once, then `rate` per second on average, across all workers together. A call
is taken only when it goes, never reserved for later: a worker that stalls (a busy machine)
cannot send its delayed calls together afterwards. The calls of one worker waiting at the same
moment (a round's batches, gathered) are taken together, as many as the bucket has, in one
upsert: one statement for the round instead of one per call. `spare` waits, without taking
anything, until the bucket could give a round its calls at once (the track stage waits there
before it gathers a round's numbers).

On PostgreSQL the database's clock is the clock (workers on several machines agree on it); on
SQLite, which only workers of one machine share, it is that machine's clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import deque
from collections.abc import Mapping
from typing import cast

from sqlalchemy import ColumnElement, Table, bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite

from inbox_agent.store.database import Database
from inbox_agent.store.tables import RateBudget

RECHECK_SHARE = 0.1  # of an interval: how soon a call refused at the very moment of a refill asks again


def budget_key(provider: str, secrets: Mapping[str, str]) -> str:
    """The row's key: a SHA-256 of the provider and its credentials (the credentials are never stored)."""
    material = "\0".join([provider, *(f"{k}={secrets[k]}" for k in sorted(secrets))])
    return hashlib.sha256(material.encode()).hexdigest()


class SharedRateLimiter:
    """A token bucket of `burst` calls refilled at `per_second`, kept in the database (see module docstring)."""

    def __init__(self, db: Database, key: str, per_second: float, burst: int | None = None) -> None:
        self.db = db
        self.key = key
        self.per_second = per_second
        self.burst = max(1, burst or round(per_second))
        self.interval = 1.0 / per_second
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._serving: asyncio.Task[None] | None = None

    async def acquire(self) -> None:
        """Wait until the key's budget has a call to spare, and take it (together with the calls of
        this process waiting at the same moment)."""
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        if self._serving is None or self._serving.done():
            self._serving = asyncio.create_task(self._serve())
        await turn

    async def _serve(self) -> None:
        """Hand out the calls taken to the callers waiting, oldest first, until none waits."""
        try:
            while waiting := [turn for turn in self._waiting if not turn.done()]:
                taken, wait = await asyncio.to_thread(self.take, len(waiting))
                for turn in waiting[:taken]:
                    turn.set_result(None)
                self._waiting = deque(turn for turn in self._waiting if not turn.done())
                if wait > 0:
                    await asyncio.sleep(wait)
        except BaseException as error:  # the database away, or shutting down: no caller is left waiting
            for turn in self._waiting:
                if turn.done():
                    continue
                if isinstance(error, Exception):
                    turn.set_exception(error)
                else:
                    turn.cancel()
            self._waiting.clear()
            raise

    async def spare(self, calls: int) -> None:
        """Wait until the bucket holds `calls` calls (at most `burst`): a look at the row, the time
        it needs to refill them, and a look again, as another worker may have taken them meanwhile
        (workers waiting together wake together: the first to claim takes the round's work)."""
        while (wait := await asyncio.to_thread(self.until_spare, calls)) > 0:
            await asyncio.sleep(wait)

    def until_spare(self, calls: int) -> float:
        """Seconds until the bucket holds `calls` calls (at most `burst`), 0 when it does now."""
        table = cast("Table", RateBudget.__table__)
        with self.db.transaction() as s:
            state = s.execute(select(table.c.full_until, self._now()).where(table.c.key == self.key)).first()
        if state is None:
            return 0.0
        full_until, at = float(state[0]), float(state[1])
        return max(0.0, full_until - at - (self.burst - min(calls, self.burst)) * self.interval)

    def _now(self) -> ColumnElement[float]:
        """The clock of the budget (module docstring), as a column."""
        if self.db.is_postgresql:
            return literal_column("EXTRACT(EPOCH FROM statement_timestamp())::float8")
        return bindparam("now", time.time())

    def take(self, count: int = 1) -> tuple[int, float]:
        """Take up to `count` calls (at most `burst`), as many as the bucket has now; returns how
        many were taken and, when none was, the seconds until one may be spare (others may take it
        first: ask again then)."""
        want = min(count, self.burst)
        for _ in range(count + 1):
            full_until, at = self._take_exactly(want)
            if full_until is None:
                return want, 0.0
            spare = int((at + self.burst * self.interval - max(full_until, at)) / self.interval)
            if spare < 1:
                wait = full_until + self.interval - self.burst * self.interval - at
                return 0, wait if wait > 0 else self.interval * RECHECK_SHARE  # refused at the moment it refilled
            want = min(want - 1, spare)  # others took some meanwhile: ask for what is left
        return 0, self.interval * RECHECK_SHARE

    def _take_exactly(self, count: int) -> tuple[float | None, float]:
        """Take `count` calls in one atomic upsert when the bucket has them all; else take nothing
        and return the bucket's state (when it is full again, and the clock's now)."""
        table = cast("Table", RateBudget.__table__)
        upsert: postgresql.Insert | sqlite.Insert
        now = self._now()
        if self.db.is_postgresql:
            after = func.greatest(table.c.full_until, now) + count * self.interval
            upsert = postgresql.insert(table)
        else:
            after = func.max(table.c.full_until, now) + count * self.interval
            upsert = sqlite.insert(table)
        spare = after - self.burst * self.interval <= now
        taken = (upsert.values(key=self.key, full_until=now + count * self.interval)
                 .on_conflict_do_update(index_elements=[table.c.key], set_={"full_until": after}, where=spare)
                 .returning(table.c.key))
        with self.db.transaction() as s:
            if s.execute(taken).first() is not None:
                return None, 0.0
            full_until, at = s.execute(select(table.c.full_until, now).where(table.c.key == self.key)).one()
        return float(full_until), float(at)
