"""The queue loop, written once for every stage that works through rows: claim, handle one item,
sort the failures.

A stage describes its queue (`Queue`: which rows are its work, how to handle one, what status
an item set aside gets) and implements only the handling of one item. The handler commits the
item's result and the next stage's input in one transaction of its own, after any I/O it needs
(a tracking call, an IMAP APPEND), so the runner never holds a transaction across the network.

A failure is sorted by what it asks for (inbox_agent/errors.py):
- `TransientError` (a server away, a case changed by another worker): the item waits the
  stage's backoff (doubling, up to its maximum) and is tried again, however long the outage;
- `PermanentError` (retrying cannot help: the server refused this draft): the item is set aside
  at once with the reason, for people; the others go on;
- anything unexpected (a bug, bad data): tried again after the backoff, and set aside once it has
  failed the stage's `attempts` times (a poison item never blocks the queue).
Retry values are per stage (stages/retry.py); log lines name the stage, the row and the case.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from inbox_agent.errors import InboxAgentError, PermanentError, TransientError, short_error
from inbox_agent.stages.claims import CLAIM_BATCH, claim_ids
from inbox_agent.stages.retry import retry_for
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.tables import Event, Intent

log = logging.getLogger("inbox_agent")


@dataclass(frozen=True)
class Queue:
    """One stage's queue: its rows (`where` on `table`), how to handle one, and the status an item
    set aside gets. `stage` names it in logs and in `[retry.<stage>]`."""

    stage: str
    table: type[Event] | type[Intent]
    where: tuple[ColumnElement[bool], ...]
    handle: Callable[[Runtime, int], object]
    set_aside: str
    prepare: Callable[[Runtime, list[int]], list[int]] | None = None
    on_set_aside: Callable[[Runtime, Session, Event | Intent], None] | None = None

    def run_once(self, rt: Runtime, limit: int = CLAIM_BATCH) -> int:
        """Claim up to `limit` items and handle each; returns how many were claimed. `prepare`, when
        set, does work the claimed items share (one batched call) and names the ones to handle now."""
        with rt.db.transaction() as s:
            ids = claim_ids(s, self.table, list(self.where), rt.clock(), rt.worker, limit)
        for row_id in self.prepare(rt, ids) if self.prepare is not None and ids else ids:
            try:
                self.handle(rt, row_id)
            except StaleDataError as error:  # another worker changed the same case meanwhile
                self.failed(rt, row_id, TransientError(f"changed by another worker ({error})"))
            except Exception as error:  # noqa: BLE001 - sorted below; one item never stops the stage
                self.failed(rt, row_id, error)
        return len(ids)

    def failed(self, rt: Runtime, row_id: int, error: Exception) -> None:
        """Retry later with backoff, or set the item aside with the error as its note."""
        retry = retry_for(rt.config, self.stage)
        now = rt.clock()
        with rt.db.transaction() as s:
            row = cast("Event | Intent | None", s.get(self.table, row_id))
            if row is None:
                return
            row.last_error = short_error(error)
            row.claimed_by = None
            where = f"{self.stage}: {self.table.__tablename__} {row_id} (case {row.case_id})"
            poison = not isinstance(error, TransientError) and row.attempts >= retry.attempts
            if isinstance(error, PermanentError) or poison:
                row.status, row.claimed_until = self.set_aside, None
                rt.log(f"{where} set aside for people after {row.attempts} tries: {row.last_error}")
                if self.on_set_aside is not None:
                    self.on_set_aside(rt, s, row)
            else:
                wait = retry.delay(row.attempts)
                row.claimed_until = now + wait
                rt.log(f"{where} try {row.attempts} failed, again in {wait.total_seconds():.0f} s: {row.last_error}")
            if isinstance(row, Intent):
                row.updated_at = now
        if not isinstance(error, InboxAgentError):
            log.warning("%s: unexpected error on %s %s", self.stage, self.table.__tablename__, row_id, exc_info=error)
