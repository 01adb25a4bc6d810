"""The track stage on a real SQLite database and a fake 17TRACK at the HTTP edge: the intents of a
round are looked up together, one 17TRACK call for up to 40 numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from inbox_agent.config import Config, DatabaseConfig, StoreConfig, TrackingConfig, TrackingProvider
from inbox_agent.domain import OutboxStatus, WorkStatus
from inbox_agent.mailbox.maildir import MaildirBackend
from inbox_agent.orders import model as order_model
from inbox_agent.stages import track
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.database import Database
from inbox_agent.store.payloads import IntentPayload
from inbox_agent.store.tables import Case, Event, Intent
from inbox_agent.tracking.cache import DatabaseCache
from inbox_agent.tracking.tracker import build_tracker
from tests.support.carriers import SEVENTEEN_KEY, FakeCarriers, Parcel

NOW = datetime(2026, 7, 12, 12, 0, tzinfo=UTC)
COMPLAINTS = 45


def test_a_round_of_intents_shares_its_17track_calls(tmp_path: Path) -> None:
    fakes = FakeCarriers()
    numbers = [f"LP{i:014d}" for i in range(COMPLAINTS)]
    for i, number in enumerate(numbers):
        fakes.add(Parcel(number, last_mile=f"94001112062064{i:08d}"))
    config = Config(store=StoreConfig(support_address="support@store.example"),
                    database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'db.sqlite'}"),
                    tracking=TrackingConfig(seventeen_track=TrackingProvider(
                        api_key_env="T17", base_url="http://carriers.test/track/v2.2")))
    db = Database(config.database.url)
    db.create()
    tracker = build_tracker(config.tracking, DatabaseCache(db, timedelta(hours=1)), env={"T17": SEVENTEEN_KEY},
                            clock=lambda: NOW, transport=fakes.transport())
    rt = Runtime(config=config, db=db, mailbox=MaildirBackend(str(tmp_path / "mail"), "INBOX", 1.0),
                 clock=lambda: NOW, tracker=tracker)
    with db.transaction() as s:
        for i, number in enumerate(numbers):
            case = Case(state="tracking", customer=f"c{i}@example.org", language="en", opened_at=NOW,
                        tracking_numbers=[order_model.Parcel(number=number, carrier="cainiao")])
            s.add(case)
            s.flush()
            s.add(Intent(kind="track", case_id=case.id, idempotency_key=f"track:{i}",
                         payload=IntentPayload(numbers=[number]),
                         status=OutboxStatus.PENDING, created_at=NOW, updated_at=NOW))
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
