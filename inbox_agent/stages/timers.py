"""timers: a due timer -> event(timer.expired), in one transaction.

The timer is marked fired by a compare-and-set, so two workers never fire it twice; the case
counts how often each timer fired (the playbook's `count`, e.g. "after two reminders").
Time comes from the runtime's clock, so tests can move it.
"""

from __future__ import annotations

from sqlalchemy import select, update

from inbox_agent.domain import WorkStatus
from inbox_agent.playbook import Facts
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.payloads import EventPayload
from inbox_agent.store.tables import Case, Event, Timer


def run_once(rt: Runtime) -> int:
    now = rt.clock()
    with rt.db.transaction() as s:
        due = list(s.scalars(select(Timer.id).where(Timer.fired.is_(False), Timer.due_at <= now).order_by(Timer.due_at)))
    fired = 0
    for timer_id in due:
        with rt.db.transaction() as s:
            won = s.execute(update(Timer).where(Timer.id == timer_id, Timer.fired.is_(False)).values(fired=True))
            if won.rowcount != 1:  # type: ignore[attr-defined]
                continue
            timer = s.get(Timer, timer_id)
            assert timer is not None
            case = s.get(Case, timer.case_id)
            assert case is not None
            counts = {**case.facts.timer_counts, timer.name: case.facts.timer_counts.get(timer.name, 0) + 1}
            case.facts = case.facts.model_copy(update={"timer_counts": counts})
            s.add(Event(kind="timer.expired", case_id=case.id, status=WorkStatus.PENDING, created_at=now,
                        payload=EventPayload(facts=Facts(timer=timer.name, count=counts[timer.name]))))
            fired += 1
    return fired
