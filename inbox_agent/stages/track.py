"""track: intent(track) -> case facts + event(tracking.updated).

The lookup runs outside any transaction (it may take seconds on the network); its result is
written in one transaction that also marks the intent DONE and queues the event, so a crash
repeats the lookup (answered from the cache) but never records it twice. When no provider could
answer (all down), the intent is retried with growing delays (`[retry.track]`, through the
shared queue loop of stages/queue.py); on the last attempt the event still goes out, carrying
the error, so the playbook can move on (ask the distributor).
The numbers of every intent claimed in one round are looked up together, before any transaction
(one 17TRACK call for up to 40 numbers), and the round's results are then written in one
transaction, each intent in a SAVEPOINT of its own (stages/queue.py): a backlog costs a few
statements per intent, not a transaction per number and provider. A round waits for the
providers' rate budget before it claims, not after: while 17TRACK's budget refills (3 calls a
second, a round of new numbers takes 2), the intents that arrive join the round that is waiting.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from inbox_agent.domain import OutboxStatus, WorkStatus
from inbox_agent.errors import TransientError
from inbox_agent.security.budget import take_each
from inbox_agent.stages.queue import Queue
from inbox_agent.stages.retry import retry_for
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.payloads import EventPayload
from inbox_agent.store.tables import Case, CaseNumber, Event, Intent
from inbox_agent.tracking.status import TrackingStatus

ROUND_SIZE = 40  # intents looked up together: one 17TRACK batch when each holds one number
KNOWN_NUMBERS = "known_numbers"  # Session.info: the (number, case id) pairs the round's cases have


def run_once(rt: Runtime) -> int:
    """One round: first the wait for the providers' rate budget (tracking/tracker.py
    `wait_for_budget`), then the claim, so the round carries every number that came in meanwhile."""
    rt.tracker.wait_for_budget()
    return QUEUE.run_once(rt, limit=ROUND_SIZE)


def look_up_round(rt: Runtime, intent_ids: list[int]) -> dict[int, dict[str, TrackingStatus]]:
    """The round's intents whose numbers fit in the daily budget, their numbers looked up in one
    go; returns the answers of each intent to record (the others wait for the next day, with a
    note). The intents, their cases and the budget are read in one transaction."""
    wanted = _within_budget(rt, _numbers(rt, intent_ids))
    pairs = list(dict.fromkeys(pair for numbers in wanted.values() for pair in numbers))
    statuses = rt.tracker.track(pairs) if pairs else {}
    return {intent_id: {number: statuses[number] for number, _ in numbers} for intent_id, numbers in wanted.items()}


def _numbers(rt: Runtime, intent_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """The (number, carrier) pairs of each pending intent among `intent_ids`, in id order."""
    with rt.db.transaction() as s:
        intents = list(s.scalars(select(Intent).where(Intent.id.in_(intent_ids), Intent.status == OutboxStatus.PENDING)
                                 .order_by(Intent.id)))
        cases = {case.id: case for case in s.scalars(select(Case).where(Case.id.in_({i.case_id for i in intents})))}
        wanted = {}
        for intent in intents:
            case = cases.get(intent.case_id or 0)
            assert case is not None
            carriers = {t.number: t.carrier for t in case.tracking_numbers}
            wanted[intent.id] = [(n, carriers.get(n, "unknown")) for n in intent.payload.numbers]
        return wanted


def _within_budget(rt: Runtime, wanted: dict[int, list[tuple[str, str]]]) -> dict[int, list[tuple[str, str]]]:
    """[security] max_paid_lookups_per_day for the whole store (each number asked of the carriers
    counts, since a number new to 17TRACK is a paid registration), taken for the round at once.
    Past it, a lookup waits for the next day with a clear note on the intent and in the log."""
    now = rt.clock()
    limit = rt.config.security.max_paid_lookups_per_day
    with rt.db.transaction() as s:
        granted = take_each(s, "paid-lookups", now, [len(numbers) for numbers in wanted.values()], limit)
        tomorrow = datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=now.tzinfo)
        for intent_id, ok in zip(list(wanted), granted, strict=True):
            if ok:
                continue
            del wanted[intent_id]
            intent = s.get(Intent, intent_id)
            assert intent is not None
            intent.claimed_until = tomorrow
            intent.last_error = (f"daily cap of {limit} tracking lookups ([security] max_paid_lookups_per_day) "
                                 f"reached: case {intent.case_id} waits until {tomorrow:%Y-%m-%d %H:%M}")
            rt.log(f"tracking: {intent.last_error}")
    return wanted


def record(rt: Runtime, s: Session, intent_id: int, statuses: dict[str, TrackingStatus]) -> None:
    """One track intent's answers (from the round's lookup) on its case, the intent done and the
    event queued, inside the round's transaction."""
    now = rt.clock()
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
    known: set[tuple[str, int]] | None = s.info.get(KNOWN_NUMBERS)
    added = []
    for view in views.values():
        last_mile = view.last_mile.number if view.last_mile is not None else None
        pair = (last_mile or "", case.id)
        if last_mile and pair not in added and not _has_number(s, known, pair):
            added.append(pair)
            s.add(CaseNumber(number=last_mile, case_id=case.id, customer=case.customer))
    intent.status, intent.updated_at = OutboxStatus.DONE, now
    intent.last_error = "; ".join(waiting)[:2000] or None
    s.add(Event(kind="tracking.updated", case_id=case.id, payload=EventPayload(numbers=list(views)),
                status=WorkStatus.PENDING, created_at=now))
    if known is not None and added:
        s.flush()  # written first: the round's list learns only numbers its transaction holds
        known.update(added)


def _has_number(s: Session, known: set[tuple[str, int]] | None, pair: tuple[str, int]) -> bool:
    """Whether the case has the number: in the round's list, or asked of the database when no
    round made one (on SQLite an item has a transaction of its own, stages/queue.py)."""
    if known is not None:
        return pair in known
    return s.get(CaseNumber, pair) is not None


def _cases(s: Session, intents: list[Intent]) -> list[object]:
    """The cases of a round's intents, in one SELECT, and the numbers they already have, in one
    more (kept in the session's `KNOWN_NUMBERS`: `record` adds a last-mile number only once,
    without a SELECT per intent)."""
    case_ids = {i.case_id for i in intents if i.case_id is not None}
    rows = s.execute(select(CaseNumber.number, CaseNumber.case_id).where(CaseNumber.case_id.in_(case_ids)))
    s.info[KNOWN_NUMBERS] = {(number, case_id) for number, case_id in rows}
    return list(s.scalars(select(Case).where(Case.id.in_(case_ids))))


QUEUE = Queue("track", Intent, (Intent.kind == "track", Intent.status == OutboxStatus.PENDING), None,
              OutboxStatus.FAILED, handle_in=record, prepare=look_up_round, related=_cases)
