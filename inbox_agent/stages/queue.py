"""The queue loop, written once for every stage that works through rows: claim, handle one item,
sort the failures.

A stage describes its queue (`Queue`: which rows are its work, how to handle one, what status
an item set aside gets) and implements only the handling of one item, in one of two ways:
- `handle`: the handler commits the item's result and the next stage's input in a transaction
  of its own, after the I/O the item needs (an IMAP APPEND, an SMTP conversation);
- `handle_in` (group commit): on PostgreSQL the items of a round are handled in one
  transaction and commit together, once: one commit (one WAL flush on the server) for up to a
  round's items instead of one each. The items are first tried without a SAVEPOINT each (two
  statements an item fewer); when anything fails, the whole transaction is rolled back and its
  items are handled again, each in a SAVEPOINT of its own, so a failing item is rolled back
  alone and the others commit (an item's handling writes only to the database, so handling it
  twice gives what handling it once does; only its log lines, and a post office's page drawn for
  a kit when `[kit] page_screenshot` is on, happen twice). A transaction holds at most
  `GROUP_CPU_SECONDS` of the worker's work (CPU time, so a busy machine does not shrink the
  groups to one item), then commits and the next one begins: a result waits that long at most
  before other workers and stages see it. On SQLite each item has a transaction of its own: its
  driver commits at a SAVEPOINT's release when no statement had begun a transaction, and SQLite
  takes one writer at a time anyway. The I/O such a round needs is done before, for all its
  items at once, by `prepare` (track: one lookup for the round's numbers).
Either way the runner never holds a transaction across the network, and a crash before a commit
leaves the items claimed: they come back when the claim runs out, as any crashed work does.

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
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import ColumnElement, select
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
GROUP_CPU_SECONDS = 0.5  # the work (this thread's CPU time) one group commit's transaction may hold


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
    runs (send's SENDING: such a queue claims one row at a time). Exactly one of `handle` (an
    item in transactions of its own) and `handle_in` (an item in the round's transaction, given
    the session and what `prepare` found for it, None without `prepare`) is set; with `handle_in`,
    `related` loads the other rows the round's items read (their cases), together."""

    stage: str
    table: type[R]
    where: tuple[ColumnElement[bool], ...]
    handle: Callable[[Runtime, int], object] | None
    set_aside: str | None
    handle_in: Callable[[Runtime, Session, int, Any], object] | None = None
    prepare: Callable[[Runtime, list[int]], Mapping[int, Any]] | None = None
    related: Callable[[Session, list[R]], list[object]] | None = None
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

    def __post_init__(self) -> None:
        if (self.handle is None) == (self.handle_in is None):
            raise TypeError(f"queue {self.stage}: set exactly one of handle and handle_in")

    def run_once(self, rt: Runtime, limit: int | None = None) -> int:
        """Claim up to `limit` items and handle each; returns how many were claimed. `prepare`, when
        set, does the I/O the claimed items share (one batched call) and returns, for each item to
        handle now, what it found for it."""
        ids = self.claim(rt, limit)
        if not ids:
            return 0
        shares: Mapping[int, Any] = self.prepare(rt, ids) if self.prepare is not None else dict.fromkeys(ids)
        if self.handle_in is not None:
            self._handle_grouped(rt, self.handle_in, shares)
            return len(ids)
        assert self.handle is not None
        for row_id in shares:
            try:
                self.handle(rt, row_id)
            except Exception as error:  # noqa: BLE001 - sorted in `failed`; one item never stops the stage
                self.failed(rt, row_id, error)
        return len(ids)

    def _handle_grouped(self, rt: Runtime, handle_in: Callable[[Runtime, Session, int, Any], object],
                        shares: Mapping[int, Any]) -> None:
        """Group commit: the round's items in one transaction (their rows loaded together first),
        without a SAVEPOINT each until one fails, then again each in its own; the failures are
        sorted once the transaction has committed."""
        todo = list(shares)
        failures: list[tuple[int, Exception]] = []
        held: list[object] = []
        alone = False  # each item in a SAVEPOINT: after a failure in this round
        while todo and not rt.db.is_postgresql:  # one transaction per item (module docstring)
            row_id = todo.pop(0)
            try:
                with rt.db.transaction() as s:
                    handle_in(rt, s, row_id, shares[row_id])
            except Exception as error:  # noqa: BLE001 - sorted in `failed`; one item never stops the stage
                failures.append((row_id, error))
        while todo:
            began = time.thread_time()
            handled: list[int] = []
            try:
                with rt.db.transaction() as s:
                    # one SELECT for the rows, not one per item (held here: the session keeps them weakly)
                    rows: list[R] = list(s.scalars(select(self.table).where(self.table.id.in_(todo))))
                    held[:] = rows
                    if self.related is not None:
                        held.extend(self.related(s, rows))
                    while todo and (not handled or time.thread_time() - began < GROUP_CPU_SECONDS):
                        row_id = todo.pop(0)
                        handled.append(row_id)
                        if not alone:
                            handle_in(rt, s, row_id, shares[row_id])
                            continue
                        try:
                            with s.begin_nested():
                                handle_in(rt, s, row_id, shares[row_id])
                        except Exception as error:  # noqa: BLE001 - rolled back alone, sorted in `failed`
                            failures.append((row_id, error))
                            handled.pop()
            except Exception as lost:  # noqa: BLE001 - the commit failed: every item of it is sorted
                if not alone:  # rolled back whole: its items again, each in a SAVEPOINT
                    todo[:0], alone = handled, True
                    continue
                if not handled:  # the database failed before any item: the loop's backoff, not a spin
                    raise
                failures.extend((row_id, lost) for row_id in handled)
        for row_id, failure in failures:
            self.failed(rt, row_id, failure)

    async def run_once_async(self, rt: Runtime, limit: int | None = None) -> int:
        """`run_once` for a stage whose `handle` is a coroutine function."""
        ids = await asyncio.to_thread(self.claim, rt, limit)
        handle = cast("Callable[[Runtime, int], Awaitable[object]]", self.handle)  # send: never grouped
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
