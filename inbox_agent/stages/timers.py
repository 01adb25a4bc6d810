"""timers: a due timer -> event(timer.expired), in one transaction.

The runner is the shared queue loop (stages/queue.py): due timers are claimed like any queued
row, and each is fired (the timers of a round in one transaction, each in a SAVEPOINT of its
own) by an update that marks it fired only if it was not yet, so two workers never fire it
twice. A timer that cannot be fired (its case changed meanwhile: tried again a second later; a
bug: set aside after `[retry.timers] attempts`) never holds up the others. The case counts how
often each timer fired (the playbook's `count`, e.g. "after two reminders"). Time comes from the
runtime's clock, so tests can move it.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from inbox_agent.domain import WorkStatus
from inbox_agent.playbook import Facts
from inbox_agent.stages.queue import Queue, Row
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.payloads import EventPayload
from inbox_agent.store.tables import Case, Event, Timer


def run_once(rt: Runtime) -> int:
    return QUEUE.run_once(rt)


def handle_timer(rt: Runtime, s: Session, timer_id: int, _share: None = None) -> None:
    """Fire one due timer: its count on the case and its event, inside the round's transaction."""
    # fired, and its tries counted afresh for when the playbook sets it again
    won = s.execute(update(Timer).where(Timer.id == timer_id, Timer.fired.is_(False))
                    .values(fired=True, attempts=0, last_error=None))
    if won.rowcount != 1:  # type: ignore[attr-defined]
        return
    timer = s.get(Timer, timer_id)
    assert timer is not None
    case = s.get(Case, timer.case_id)
    assert case is not None
    counts = {**case.facts.timer_counts, timer.name: case.facts.timer_counts.get(timer.name, 0) + 1}
    case.facts = case.facts.model_copy(update={"timer_counts": counts})
    s.add(Event(kind="timer.expired", case_id=case.id, status=WorkStatus.PENDING, created_at=rt.clock(),
                payload=EventPayload(facts=Facts(timer=timer.name, count=counts[timer.name]))))


def _never_fire(rt: Runtime, s: Session, timer: Row) -> None:
    """A timer set aside is marked fired without its event; its `last_error` says why."""
    assert isinstance(timer, Timer)
    timer.fired = True


def _describe(timer: Row) -> str:
    return f"timer {timer.name if isinstance(timer, Timer) else ''} {timer.id} (case {timer.case_id})"


QUEUE = Queue("timers", Timer, (Timer.fired.is_(False),), None, None, handle_in=handle_timer, on_set_aside=_never_fire,
              due=Timer.due_at, describe=_describe)
