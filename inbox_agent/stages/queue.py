"""The queue loop, written once for every stage that works through rows: claim, handle one item,
sort the failures.

A stage describes its queue (`Queue`: which rows are its work, how to handle one, what status
an item set aside gets) and implements only the handling of one item. The handler commits the
item's result and the next stage's input in one transaction of its own, after any I/O it needs
(a tracking call, an IMAP APPEND), so the runner never holds a transaction across the network.

A failure is sorted by what it asks for (inbox_agent/errors.py):
- `TransientError` (a server away, a case changed by another worker): the item waits the
  stage's backoff (doubling, up to its maximum) and is tried again, however long the outage
  (or, when the stage's `give_up_hours` is set, until that long after its first such failure);
- `PermanentError` (retrying cannot help: the server refused this draft): the item is set aside
  at once with the reason, for people; the others go on;
- anything unexpected (a bug, bad data): tried again after the backoff, and set aside once it has
  failed the stage's `attempts` times (a poison item never blocks the queue).
Retry values are per stage (stages/retry.py); log lines name the stage, the row and the case.
A stage whose handling is a coroutine (send, on aiosmtplib) runs the same loop with
`run_once_async`: claims and failures go to threads, the handler runs on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar, cast

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.elements import SQLCoreOperations

from inbox_agent.errors import InboxAgentError, PermanentError, TransientError, short_error
from inbox_agent.stages.claims import CLAIM_BATCH, CLAIM_SECONDS, claim_ids
from inbox_agent.stages.retry import retry_for
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.database import aware
from inbox_agent.store.tables import Event, Intent, Timer

log = logging.getLogger("inbox_agent")

Row = Event | Intent | Timer
R = TypeVar("R", Event, Intent, Timer)


def _where(row: Row) -> str:
    return f"{type(row).__tablename__} {row.id} (case {row.case_id})"


@dataclass(frozen=True)
class Queue(Generic[R]):
    """One stage's queue: its rows (`where` on `table`, and `due` no later than now when set), how
    to handle one, and the status an item set aside gets (None for a table without a status:
    `on_set_aside` marks it). `on_failed` undoes a handler's mark in the transaction that sorts
    its failure. `stage` names it in logs and in `[retry.<stage>]`; `describe` names a row in
    log lines. A round claims `batch` rows, each for `claim_seconds` (120 s unless said);
    `claimed_status`, when set, is written by the claim itself, committed before the handler
    runs (send's SENDING: such a queue claims one row at a time)."""

    stage: str
    table: type[R]
    where: tuple[ColumnElement[bool], ...]
    handle: Callable[[Runtime, int], object]
    set_aside: str | None
    prepare: Callable[[Runtime, list[int]], list[int]] | None = None
    on_set_aside: Callable[[Runtime, Session, R], None] | None = None
    on_failed: Callable[[Runtime, Session, R, Exception], None] | None = None
    due: SQLCoreOperations[datetime] | None = None
    batch: int = CLAIM_BATCH
    claimed_status: str | None = None
    claim_seconds: Callable[[Runtime], float] | None = None
    describe: Callable[[R], str] = _where

    def claim(self, rt: Runtime, limit: int | None = None) -> list[int]:
        """Claim up to `limit` items (the queue's `batch`), in one short transaction; returns their ids."""
        now = rt.clock()
        seconds = self.claim_seconds(rt) if self.claim_seconds is not None else CLAIM_SECONDS
        where = list(self.where)
        if self.due is not None:
            where.append(self.due <= now)
        with rt.db.transaction() as s:
            return claim_ids(s, self.table, where, now, rt.worker, limit or self.batch, seconds, self.claimed_status)

    def run_once(self, rt: Runtime, limit: int | None = None) -> int:
        """Claim up to `limit` items and handle each; returns how many were claimed. `prepare`, when
        set, does work the claimed items share (one batched call) and names the ones to handle now."""
        ids = self.claim(rt, limit)
        for row_id in self.prepare(rt, ids) if self.prepare is not None and ids else ids:
            try:
                self.handle(rt, row_id)
            except Exception as error:  # noqa: BLE001 - sorted in `failed`; one item never stops the stage
                self.failed(rt, row_id, error)
        return len(ids)

    async def run_once_async(self, rt: Runtime, limit: int | None = None) -> int:
        """`run_once` for a stage whose `handle` is a coroutine function."""
        ids = await asyncio.to_thread(self.claim, rt, limit)
        handle = cast("Callable[[Runtime, int], Awaitable[object]]", self.handle)
        for row_id in ids:
            try:
                await handle(rt, row_id)
            except Exception as error:  # noqa: BLE001 - sorted in `failed`; one item never stops the stage
                await asyncio.to_thread(self.failed, rt, row_id, error)
        return len(ids)

    def failed(self, rt: Runtime, row_id: int, error: Exception) -> None:
        """Retry later with backoff, or set the item aside with the error as its note."""
        if isinstance(error, StaleDataError):  # another worker changed the same case meanwhile
            error = TransientError(f"changed by another worker ({error})")
        retry = retry_for(rt.config, self.stage)
        now = rt.clock()
        with rt.db.transaction() as s:
            row = s.get(self.table, row_id)
            if row is None:
                return
            if self.on_failed is not None:
                self.on_failed(rt, s, row, error)
            row.last_error = short_error(error)
            row.claimed_by = None
            where = f"{self.stage}: {self.describe(row)}"
            transient = isinstance(error, TransientError)
            if transient and retry.give_up_hours is not None:
                row.failing_since = aware(row.failing_since) or now
            given_up = (retry.give_up_hours is not None and transient
                        and now - (aware(row.failing_since) or now) >= timedelta(hours=retry.give_up_hours))
            poison = not transient and row.attempts >= retry.attempts
            if isinstance(error, PermanentError) or poison or given_up:
                row.claimed_until = None
                if self.set_aside is not None and not isinstance(row, Timer):
                    row.status = self.set_aside
                how = f"still failing after {retry.give_up_hours:g} hours" if given_up else f"after {row.attempts} tries"
                rt.log(f"{where}: {row.last_error}; set aside for people {how}")
                if self.on_set_aside is not None:
                    self.on_set_aside(rt, s, row)
            else:
                wait = retry.delay(row.attempts)
                row.claimed_until = now + wait
                rt.log(f"{where}: try {row.attempts} failed: {row.last_error}; retrying in {wait.total_seconds():.0f} s")
            if isinstance(row, Intent):
                row.updated_at = now
        if not isinstance(error, InboxAgentError):
            log.warning("%s: unexpected error on %s %s", self.stage, self.table.__tablename__, row_id, exc_info=error)
