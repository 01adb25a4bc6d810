"""track: intent(track) -> case facts + event(tracking.updated).

The lookup runs outside any transaction (it may take seconds on the network); its result is
written in one transaction that also marks the intent DONE and queues the event, so a crash
repeats the lookup (answered from the cache) but never records it twice. When no provider could
answer (all down), the intent is retried with growing delays (`[retry.track]`, through the
shared queue loop of stages/queue.py); on the last attempt the event still goes out, carrying
the error, so the playbook can move on (ask the distributor).
"""

from __future__ import annotations

from typing import Any

from inbox_agent.domain import OutboxStatus, WorkStatus
from inbox_agent.errors import TransientError
from inbox_agent.stages.queue import Queue
from inbox_agent.stages.retry import retry_for
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.tables import Case, Event, Intent
from inbox_agent.tracking.status import TrackingStatus


def run_once(rt: Runtime) -> int:
    return QUEUE.run_once(rt)


def handle_lookup(rt: Runtime, intent_id: int) -> None:
    """One track intent: the lookup, then its result in one transaction."""
    numbers = _numbers(rt, intent_id)
    if numbers is not None:
        _record(rt, intent_id, rt.tracker.track(numbers) if numbers else {})


def _numbers(rt: Runtime, intent_id: int) -> list[tuple[str, str]] | None:
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        if intent is None or intent.status != OutboxStatus.PENDING:
            return None
        case = s.get(Case, intent.case_id)
        assert case is not None
        carriers = {t["number"]: t.get("carrier", "unknown") for t in case.tracking_numbers}
        return [(n, carriers.get(n, "unknown")) for n in intent.payload.get("numbers", [])]


def _record(rt: Runtime, intent_id: int, statuses: dict[str, TrackingStatus]) -> None:
    now = rt.clock()
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        if intent is None or intent.status != OutboxStatus.PENDING:
            return
        waiting = [st.error or st.number for st in statuses.values() if st.retry]
        if waiting and intent.attempts < retry_for(rt.config, "track").attempts:
            raise TransientError(f"no provider answered: {'; '.join(waiting)}")
        case = s.get(Case, intent.case_id)
        assert case is not None
        views: dict[str, Any] = {n: st.to_json() for n, st in statuses.items()}
        for view in views.values():
            view.pop("raw", None)
        case.facts = {**case.facts, "tracking": {**(case.facts.get("tracking") or {}), **views}}
        intent.status, intent.updated_at = OutboxStatus.DONE, now
        intent.last_error = "; ".join(waiting)[:2000] or None
        s.add(Event(kind="tracking.updated", case_id=case.id, payload={"numbers": list(views)},
                    status=WorkStatus.PENDING, created_at=now))


QUEUE = Queue("track", Intent, (Intent.kind == "track", Intent.status == OutboxStatus.PENDING), handle_lookup,
              OutboxStatus.FAILED)
