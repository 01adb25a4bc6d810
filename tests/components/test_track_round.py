"""The track stage on a real SQLite database and a fake 17TRACK at the HTTP edge: the intents of a
round are looked up together, one 17TRACK call for up to 40 numbers, and the intents that arrive
while a round waits for the rate budget go in that round."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, select

from inbox_agent.config import Config, DatabaseConfig, StoreConfig, TrackingConfig, TrackingProvider
from inbox_agent.domain import OutboxStatus, WorkStatus
from inbox_agent.mailbox.maildir import MaildirBackend
from inbox_agent.orders import model as order_model
from inbox_agent.stages import track
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.database import Database
from inbox_agent.store.payloads import IntentPayload
from inbox_agent.store.tables import Case, CaseNumber, Event, Intent
from inbox_agent.tracking.cache import DatabaseCache
from inbox_agent.tracking.tracker import build_tracker
from tests.support.carriers import SEVENTEEN_KEY, FakeCarriers, Parcel

NOW = datetime(2026, 7, 12, 12, 0, tzinfo=UTC)
COMPLAINTS = 45
SLOW_RATE, SLOW_BURST = 0.5, 2  # 17TRACK's budget refilled so slowly that a round's two calls take 4 s to come back
ARRIVING = 5  # complaints whose intents arrive while a round waits for that budget
WAIT_LIMIT = 30.0  # seconds: a bound on the test, not a measurement


def _runtime(tmp_path: Path, numbers: list[str], budgets: bool = False, rate: float | None = None,
             burst: int | None = None, url: str | None = None) -> tuple[Runtime, FakeCarriers]:
    fakes = FakeCarriers()
    for i, number in enumerate(numbers):
        fakes.add(Parcel(number, last_mile=f"94001112062064{i:08d}"))
    config = Config(store=StoreConfig(support_address="support@store.example"),
                    database=DatabaseConfig(url=url or f"sqlite:///{tmp_path / 'db.sqlite'}"),
                    tracking=TrackingConfig(seventeen_track=TrackingProvider(
                        api_key_env="T17", base_url="http://carriers.test/track/v2.2", rate_per_second=rate,
                        burst=burst)))
    db = Database(config.database.url)
    db.create()
    tracker = build_tracker(config.tracking, DatabaseCache(db, timedelta(hours=1)), env={"T17": SEVENTEEN_KEY},
                            clock=lambda: NOW, transport=fakes.transport(), budgets=db if budgets else None)
    return Runtime(config=config, db=db, mailbox=MaildirBackend(str(tmp_path / "mail"), "INBOX", 1.0),
                   clock=lambda: NOW, tracker=tracker), fakes


def _add_intents(db: Database, numbers: list[str], first: int = 0) -> None:
    with db.transaction() as s:
        for i, number in enumerate(numbers, start=first):
            case = Case(state="tracking", customer=f"c{i}@example.org", language="en", opened_at=NOW,
                        tracking_numbers=[order_model.Parcel(number=number, carrier="cainiao")])
            s.add(case)
            s.flush()
            s.add(Intent(kind="track", case_id=case.id, idempotency_key=f"track:{i}",
                         payload=IntentPayload(numbers=[number]),
                         status=OutboxStatus.PENDING, created_at=NOW, updated_at=NOW))


def test_a_round_of_intents_shares_its_17track_calls(tmp_path: Path) -> None:
    numbers = [f"LP{i:014d}" for i in range(COMPLAINTS)]
    rt, fakes = _runtime(tmp_path, numbers)
    db, tracker = rt.db, rt.tracker
    _add_intents(db, numbers)
    try:
        assert track.run_once(rt) == track.ROUND_SIZE
        assert (len(fakes.calls("/register")), len(fakes.calls("/gettrackinfo"))) == (1, 1)
        assert track.run_once(rt) == COMPLAINTS - track.ROUND_SIZE
        assert (len(fakes.calls("/register")), len(fakes.calls("/gettrackinfo"))) == (2, 2)
    finally:
        tracker.close()
    with db.transaction() as s:
        assert {i.status for i in s.scalars(select(Intent))} == {OutboxStatus.DONE}
        events = list(s.scalars(select(Event).where(Event.kind == "tracking.updated")))
        assert len(events) == COMPLAINTS and {e.status for e in events} == {WorkStatus.PENDING}
        cases = list(s.scalars(select(Case).order_by(Case.id)))
        views = [c.facts.tracking[n] for c, n in zip(cases, numbers, strict=True)]
        assert [v.last_mile.number if v.last_mile else None for v in views] == [
            f"94001112062064{i:08d}" for i in range(COMPLAINTS)]
        assert {v.last_mile_status for v in views} == {"delivered"}


def test_a_round_keeps_each_last_mile_number_once_per_case(tmp_path: Path, database_url: str) -> None:
    """The round's cases' numbers are read once: a last-mile number is added to its case once,
    whether two of the round's intents bring it or the case had it already."""
    numbers = [f"LP{i:014d}" for i in range(3)]
    rt, _ = _runtime(tmp_path, numbers, url=database_url)
    _add_intents(rt.db, numbers)
    with rt.db.transaction() as s:
        s.add(Intent(kind="track", case_id=1, idempotency_key="track:again", payload=IntentPayload(numbers=[numbers[0]]),
                     status=OutboxStatus.PENDING, created_at=NOW, updated_at=NOW))
        s.add(CaseNumber(number="9400111206206400000001", case_id=2, customer="c1@example.org"))
    try:
        assert track.run_once(rt) == 4
    finally:
        rt.tracker.close()
    with rt.db.transaction() as s:
        assert {(i.status, i.last_error) for i in s.scalars(select(Intent))} == {(OutboxStatus.DONE, None)}
        pairs = sorted((n.case_id, n.number) for n in s.scalars(select(CaseNumber)))
        assert pairs == [(1, "9400111206206400000000"), (2, "9400111206206400000001"), (3, "9400111206206400000002")]
    rt.db.dispose()


def test_intents_arriving_while_a_round_waits_for_the_budget_join_that_round(tmp_path: Path) -> None:
    """One complaint's round spends the shared budget (register, gettrackinfo); the next round waits
    for it to refill before it claims, and the complaints that arrive meanwhile cost its two calls
    together, not two each."""
    numbers = [f"LP{i:014d}" for i in range(1 + ARRIVING)]
    rt, fakes = _runtime(tmp_path, numbers, budgets=True, rate=SLOW_RATE, burst=SLOW_BURST)
    looked = threading.Event()  # the waiting round has read the budget row
    event.listen(rt.db.engine, "before_cursor_execute", lambda _c, _cur, statement, *_: looked.set()
                 if "rate_budget" in statement and statement.lstrip().upper().startswith("SELECT") else None)
    _add_intents(rt.db, numbers[:1])
    rounds: list[int] = []
    try:
        assert track.run_once(rt) == 1
        assert (len(fakes.calls("/register")), len(fakes.calls("/gettrackinfo"))) == (1, 1)
        looked.clear()
        waiting = threading.Thread(target=lambda: rounds.append(track.run_once(rt)))
        waiting.start()
        assert looked.wait(WAIT_LIMIT), "the round did not look at the rate budget before claiming"
        _add_intents(rt.db, numbers[1:], first=1)  # while it waits for the two calls to refill
        waiting.join(WAIT_LIMIT)
        assert not waiting.is_alive()
    finally:
        rt.tracker.close()
    assert rounds == [ARRIVING]
    assert (len(fakes.calls("/register")), len(fakes.calls("/gettrackinfo"))) == (2, 2)
    with rt.db.transaction() as s:
        assert {i.status for i in s.scalars(select(Intent))} == {OutboxStatus.DONE}
        assert len(list(s.scalars(select(Event).where(Event.kind == "tracking.updated")))) == 1 + ARRIVING
