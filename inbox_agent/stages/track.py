"""track: intent(track) -> case facts + event(tracking.updated).

The lookup runs outside any transaction (it may take seconds on the network); its result is
written in one transaction that also marks the intent DONE and queues the event, so a crash
repeats the lookup (answered from the cache) but never records it twice. When no provider could
answer (all down), the intent is retried with growing delays (`[retry.track]`, through the
shared queue loop of stages/queue.py); on the last attempt the event still goes out, carrying
the error, so the playbook can move on (ask the distributor).
The numbers of every intent claimed in one round are looked up together first, so a backlog
spends one 17TRACK call on up to 40 numbers instead of one per message; each item then finds its
answers in the tracker's cache.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

from inbox_agent.domain import OutboxStatus, WorkStatus
from inbox_agent.errors import TransientError
from inbox_agent.security.budget import take, used
from inbox_agent.stages.queue import Queue
from inbox_agent.stages.retry import retry_for
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.payloads import EventPayload
from inbox_agent.store.tables import Case, CaseNumber, Event, Intent
from inbox_agent.tracking.status import TrackingStatus

ROUND_SIZE = 40  # intents looked up together: one 17TRACK batch when each holds one number


def run_once(rt: Runtime) -> int:
    return QUEUE.run_once(rt, limit=ROUND_SIZE)


def look_up_round(rt: Runtime, intent_ids: list[int]) -> list[int]:
    """The round's numbers within the daily budget, looked up in one go; returns the intents to
    handle (the others wait for the next day, with a note)."""
    wanted = {intent_id: numbers for intent_id in intent_ids
              if (numbers := _numbers(rt, intent_id)) is not None and _within_budget(rt, intent_id, len(numbers))}
    pairs = list(dict.fromkeys(pair for numbers in wanted.values() for pair in numbers))
    if pairs:
        rt.tracker.track(pairs)
    return list(wanted)


def handle_lookup(rt: Runtime, intent_id: int) -> None:
    """One track intent: its answers (from the round's lookup, through the cache), then its result
    in one transaction."""
    numbers = _numbers(rt, intent_id)
    if numbers is not None:
        _record(rt, intent_id, rt.tracker.track(numbers) if numbers else {})


def _within_budget(rt: Runtime, intent_id: int, count: int) -> bool:
    """[security] max_paid_lookups_per_day for the whole store (each number asked of the carriers
    counts, since a number new to 17TRACK is a paid registration). Past it, the lookup waits for
    the next day with a clear note on the intent and in the log."""
    now = rt.clock()
    limit = rt.config.security.max_paid_lookups_per_day
    with rt.db.transaction() as s:
        if used(s, "paid-lookups", now) + count <= limit:
            take(s, "paid-lookups", now, count, limit)
            return True
        intent = s.get(Intent, intent_id)
        assert intent is not None
        tomorrow = datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=now.tzinfo)
        intent.claimed_until = tomorrow
        intent.last_error = (f"daily cap of {limit} tracking lookups ([security] max_paid_lookups_per_day) "
                             f"reached: case {intent.case_id} waits until {tomorrow:%Y-%m-%d %H:%M}")
        rt.log(f"tracking: {intent.last_error}")
    return False


def _numbers(rt: Runtime, intent_id: int) -> list[tuple[str, str]] | None:
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        if intent is None or intent.status != OutboxStatus.PENDING:
            return None
        case = s.get(Case, intent.case_id)
        assert case is not None
        carriers = {t.number: t.carrier for t in case.tracking_numbers}
        return [(n, carriers.get(n, "unknown")) for n in intent.payload.numbers]


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
        views = {n: replace(st, raw={}) for n, st in statuses.items()}  # the case keeps no raw answer
        case.facts = case.facts.model_copy(update={"tracking": {**case.facts.tracking, **views}})
        for view in views.values():
            last_mile = view.last_mile.number if view.last_mile is not None else None
            if last_mile and s.get(CaseNumber, (last_mile, case.id)) is None:
                s.add(CaseNumber(number=last_mile, case_id=case.id, customer=case.customer))
        intent.status, intent.updated_at = OutboxStatus.DONE, now
        intent.last_error = "; ".join(waiting)[:2000] or None
        s.add(Event(kind="tracking.updated", case_id=case.id, payload=EventPayload(numbers=list(views)),
                    status=WorkStatus.PENDING, created_at=now))


QUEUE = Queue("track", Intent, (Intent.kind == "track", Intent.status == OutboxStatus.PENDING), handle_lookup,
              OutboxStatus.FAILED, prepare=look_up_round)
