"""Each queue runner run once on one queued item, on real parts (as Mailman's testable runners).

The item is put in the queue the way the previous stage does it (ingest on a real Maildir, the
process stage, a track intent, an approved reply, a due timer), then one `run_once` of the runner
under test is checked: what it committed, what it left for the next stage, how a failure was sorted.
Send talks to a real aiosmtpd server.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import event as engine_events
from sqlalchemy import select, text

from inbox_agent.config import (
    Config,
    DatabaseConfig,
    ImapConfig,
    MaildirConfig,
    OrdersConfig,
    RetryConfig,
    RetryOverride,
    SmtpConfig,
    StoreConfig,
    TrackingConfig,
    TrackingProvider,
)
from inbox_agent.domain import OutboxStatus, WorkStatus
from inbox_agent.mailbox.imap import ImapBackend
from inbox_agent.mailbox.maildir import MaildirBackend
from inbox_agent.orders import model as order_model
from inbox_agent.orders.book import build_order_book
from inbox_agent.playbook import Decision, Facts
from inbox_agent.samples import sample_complaint
from inbox_agent.stages import draft, ingest, order_lookup, process, send, timers, track
from inbox_agent.stages.actions import apply_decision, opened
from inbox_agent.stages.order_lookup import lookup_intent
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.database import Database
from inbox_agent.store.payloads import EventPayload, IntentPayload
from inbox_agent.store.tables import Case, Event, Intent, Timer
from inbox_agent.tracking.cache import DatabaseCache
from inbox_agent.tracking.tracker import build_tracker
from tests.support.carriers import SEVENTEEN_KEY, FakeCarriers, LocalServer, Parcel, s10
from tests.support.dovecot import Dovecot, free_port
from tests.support.smtp import RecordingHandler

SUPPORT = "support@store.example"
NUMBER = "LV123456785CN"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 7, 15, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _runtime(tmp_path: Path, url: str, clock: Clock, config: Config | None = None) -> Runtime:
    config = config or Config(store=StoreConfig(support_address=SUPPORT), database=DatabaseConfig(url=url),
                              maildir=MaildirConfig(path=str(tmp_path / "mail")))
    db = Database(url)
    db.create()
    box = MaildirBackend(str(tmp_path / "mail"))
    box.ensure_folders(["INBOX", "Review", "Approved", "Rejected", "Sent", "Needs attention"])
    rt = Runtime(config=config, db=db, mailbox=box, worker="worker-test", clock=clock)
    rt.reading = ingest.begin(rt)  # the first start comes before any mail, as in the daemon
    return rt


def _complaint_processed(rt: Runtime) -> int:
    rt.mailbox.append("INBOX", sample_complaint(SUPPORT, number=NUMBER))
    assert ingest.run_once(rt) == 1
    assert process.run_once(rt) == 1
    with rt.db.transaction() as s:
        intent = s.scalars(select(Intent).where(Intent.kind == "track")).one()
        return intent.id


def test_process_runner_turns_one_event_into_a_case_and_its_intents(tmp_path: Path, database_url: str) -> None:
    rt = _runtime(tmp_path, database_url, Clock())
    rt.mailbox.append("INBOX", sample_complaint(SUPPORT, number=NUMBER))
    assert ingest.run_once(rt) == 1

    assert process.QUEUE.run_once(rt) == 1

    with rt.db.transaction() as s:
        event = s.scalars(select(Event)).one()
        assert (event.status, event.attempts, event.claimed_by) == (WorkStatus.DONE, 1, "worker-test")
        case = s.scalars(select(Case)).one()
        assert case.tracking_numbers == [order_model.Parcel(number=NUMBER, carrier="china_post")]
        assert [(i.kind, i.status) for i in s.scalars(select(Intent))] == [("track", OutboxStatus.PENDING)]
    assert process.QUEUE.run_once(rt) == 0
    rt.db.dispose()


def test_the_timers_of_a_case_opened_in_the_transaction_are_cancelled_there_and_later(
        tmp_path: Path, database_url: str) -> None:
    """A case opened in this transaction has no timer row until one is started: a cancel there
    removes the timers started before it, keeps those started after, and a later transaction's
    cancel removes the stored ones."""
    clock = Clock()
    rt = _runtime(tmp_path, database_url, clock)
    actions = (("cancel", "all"), ("timer", "customer_followup"), ("cancel", "all"), ("timer", "customer_close"),
               ("timer", "distributor_reminder"), ("cancel", "distributor_reminder"))
    with rt.db.transaction() as s:
        case = Case(state="new", customer="a@example.org", language="en", opened_at=clock())
        event = Event(kind="message.received", status=WorkStatus.PENDING, created_at=clock())
        s.add_all([case, event])
        s.flush()
        opened(s, case)
        apply_decision(rt, s, case, event, Decision("test", "new", "tracking", actions), None, Facts(), clock())
        case_id = case.id
    with rt.db.transaction() as s:
        assert [t.name for t in s.scalars(select(Timer))] == ["customer_close"]
        case = s.get(Case, case_id)
        assert case is not None
        later = Event(kind="timer.expired", case_id=case_id, status=WorkStatus.PENDING, created_at=clock())
        s.add(later)
        s.flush()
        apply_decision(rt, s, case, later, Decision("test", "tracking", "tracking", (("cancel", "all"),)), None,
                       Facts(), clock())
    with rt.db.transaction() as s:
        assert list(s.scalars(select(Timer))) == []
    rt.db.dispose()


def test_process_runner_sets_aside_an_event_that_keeps_failing_and_goes_on(tmp_path: Path) -> None:
    clock = Clock()
    rt = _runtime(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", clock)
    with rt.db.transaction() as s:
        s.add(Event(kind="message.received", payload=EventPayload(inbound_id=999), status=WorkStatus.PENDING,
                    created_at=clock()))
    tries = []
    for _ in range(3):
        tries.append(process.QUEUE.run_once(rt))
        clock.now += timedelta(minutes=5)  # past the backoff
    with rt.db.transaction() as s:
        event = s.scalars(select(Event)).one()
        assert (event.status, event.attempts) == (WorkStatus.SHUNTED, 3)
        assert event.last_error and "AssertionError" in event.last_error
    assert tries == [1, 1, 1]
    assert process.QUEUE.run_once(rt) == 0
    rt.db.dispose()


def test_process_runner_rolls_back_a_failing_event_alone_and_commits_the_rest_of_its_round(
        tmp_path: Path, database_url: str) -> None:
    clock = Clock()
    rt = _runtime(tmp_path, database_url, clock)
    assert ingest.run_once(rt) == 0  # the start point: what comes next is read
    rt.mailbox.append("INBOX", sample_complaint(SUPPORT, sender="first@example.org", number=s10(1)))
    assert ingest.run_once(rt) == 1
    with rt.db.transaction() as s:  # between the two: an event whose message does not exist
        poison = Event(kind="message.received", payload=EventPayload(inbound_id=999), status=WorkStatus.PENDING,
                       created_at=clock())
        s.add(poison)
        s.flush()
        poison_id = poison.id
    rt.mailbox.append("INBOX", sample_complaint(SUPPORT, sender="second@example.org", number=s10(2)))
    assert ingest.run_once(rt) == 1
    savepoints = _savepoints(rt)

    assert process.QUEUE.run_once(rt) == 3

    # on PostgreSQL the round was tried whole, rolled back at the failure, and handled again with
    # a SAVEPOINT per item; on SQLite each item has a transaction of its own
    assert len(savepoints) == (3 if rt.db.is_postgresql else 0)

    with rt.db.transaction() as s:
        events = {e.id: e for e in s.scalars(select(Event))}
        failed = events.pop(poison_id)
        assert (failed.status, failed.attempts, failed.claimed_by) == (WorkStatus.PENDING, 1, None)
        assert failed.last_error and "AssertionError" in failed.last_error
        assert failed.case_id is None and failed.claimed_until is not None
        assert {e.status for e in events.values()} == {WorkStatus.DONE}
        assert sorted(c.customer for c in s.scalars(select(Case))) == ["first@example.org", "second@example.org"]
        assert [i.kind for i in s.scalars(select(Intent))] == ["track", "track"]
    rt.db.dispose()


def test_a_round_that_does_not_fail_commits_its_items_together_without_a_savepoint_each(
        tmp_path: Path, database_url: str) -> None:
    rt = _runtime(tmp_path, database_url, Clock())
    for index in range(3):
        rt.mailbox.append("INBOX", sample_complaint(SUPPORT, sender=f"c{index}@example.org", number=s10(index + 1)))
    assert ingest.run_once(rt) == 3
    savepoints = _savepoints(rt)

    assert process.QUEUE.run_once(rt) == 3

    assert savepoints == []
    with rt.db.transaction() as s:
        assert {e.status for e in s.scalars(select(Event))} == {WorkStatus.DONE}
        assert [i.kind for i in s.scalars(select(Intent))] == ["track"] * 3
    rt.db.dispose()


def _savepoints(rt: Runtime) -> list[str]:
    """The SAVEPOINT statements the database is sent from now on."""
    seen: list[str] = []

    def statement(_conn: object, _cursor: object, text: str, *_: object) -> None:
        if text.startswith("SAVEPOINT"):
            seen.append(text)

    engine_events.listen(rt.db.engine, "before_cursor_execute", statement)
    return seen


def test_process_runner_waits_the_backoff_before_a_retry(tmp_path: Path) -> None:
    clock = Clock()
    rt = _runtime(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", clock)
    with rt.db.transaction() as s:
        s.add(Event(kind="message.received", payload=EventPayload(inbound_id=999), status=WorkStatus.PENDING,
                    created_at=clock()))
    assert process.QUEUE.run_once(rt) == 1
    assert process.QUEUE.run_once(rt) == 0  # one second of backoff has not passed on this clock
    clock.now += timedelta(seconds=1)
    assert process.QUEUE.run_once(rt) == 1
    rt.db.dispose()


@pytest.fixture
def carriers() -> Iterator[tuple[FakeCarriers, LocalServer]]:
    fakes = FakeCarriers().add(Parcel(NUMBER, destination="US"))
    server = fakes.serve()
    yield fakes, server
    server.close()


def test_track_runner_retries_with_backoff_while_no_provider_answers(
        tmp_path: Path, carriers: tuple[FakeCarriers, LocalServer]) -> None:
    fakes, server = carriers
    clock = Clock()
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    seventeen = TrackingProvider(api_key_env="T17", base_url=f"{server.url}/track/v2.2", attempts=1, backoff_seconds=0,
                                 max_wait_seconds=0)
    config = Config(store=StoreConfig(support_address=SUPPORT), database=DatabaseConfig(url=url),
                    maildir=MaildirConfig(path=str(tmp_path / "mail")), tracking=TrackingConfig(seventeen_track=seventeen))
    rt = _runtime(tmp_path, url, clock, config)
    rt.tracker = build_tracker(config.tracking, DatabaseCache(rt.db, timedelta(minutes=60)), env={"T17": SEVENTEEN_KEY},
                               clock=clock)
    intent_id = _complaint_processed(rt)
    fakes.fail_next(10, lambda request: httpx.Response(503, text="busy"))

    assert track.QUEUE.run_once(rt) == 1

    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        assert intent is not None and intent.status == OutboxStatus.PENDING and intent.attempts == 1
        assert intent.claimed_until is not None and intent.claimed_by is None
        assert intent.last_error and "no provider answered" in intent.last_error
        waits = intent.claimed_until.replace(tzinfo=UTC) - clock()
        assert not list(s.scalars(select(Event).where(Event.kind == "tracking.updated")))
    assert waits == timedelta(seconds=60)
    fakes.failures.clear()
    assert track.QUEUE.run_once(rt) == 0
    clock.now += waits
    assert track.QUEUE.run_once(rt) == 1
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        assert intent is not None and intent.status == OutboxStatus.DONE
        assert [e.kind for e in s.scalars(select(Event).where(Event.status == WorkStatus.PENDING))] == ["tracking.updated"]
    rt.db.dispose()


def test_track_runner_records_one_lookup_and_queues_its_event(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", Clock())
    intent_id = _complaint_processed(rt)

    assert track.QUEUE.run_once(rt) == 1

    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        assert intent is not None and intent.status == OutboxStatus.DONE
        case = s.get(Case, intent.case_id)
        assert case is not None and NUMBER in case.facts.tracking
        [event] = s.scalars(select(Event).where(Event.status == WorkStatus.PENDING))
        assert (event.kind, event.case_id) == ("tracking.updated", case.id)
    rt.db.dispose()


def _reply(rt: Runtime, key: str, raw: bytes, message_id: str) -> int:
    with rt.db.transaction() as s:
        intent = Intent(kind="reply", case_id=None, idempotency_key=key, message_id=message_id, raw=raw,
                        recipients=["customer@example.org"], payload=IntentPayload(), status=OutboxStatus.PENDING,
                        created_at=rt.clock(), updated_at=rt.clock())
        s.add(intent)
        s.flush()
        return intent.id


def _draft_raw(message_id: str) -> bytes:
    return (f"From: {SUPPORT}\r\nTo: customer@example.org\r\nSubject: Your parcel\r\nMessage-ID: {message_id}\r\n"
            "\r\nHello\r\n").encode()


def test_draft_runner_sets_a_refused_draft_aside_alone(tmp_path: Path, dovecot: Dovecot, mailuser: str) -> None:
    os.environ["TEST_IMAP_PASSWORD"] = "secret"
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    imap = ImapConfig(host="127.0.0.1", port=dovecot.port, tls="none", username=mailuser,
                      password_env="TEST_IMAP_PASSWORD")
    config = Config(store=StoreConfig(support_address=SUPPORT), database=DatabaseConfig(url=url), imap=imap)
    db = Database(url)
    db.create()
    box = ImapBackend(imap, "secret")
    rt = Runtime(config=config, db=db, mailbox=box, worker="worker-test", clock=Clock())
    box.ensure_folders(["Review", "Approved", "Rejected", "Needs attention"])
    ids = [_reply(rt, "a", _draft_raw("<a@store.example>"), "<a@store.example>"),
           _reply(rt, "refused", b"", "<refused@store.example>"),  # no message at all: refused
           _reply(rt, "c", _draft_raw("<c@store.example>"), "<c@store.example>")]
    try:
        assert draft.REPLIES.run_once(rt) == 3
        with db.transaction() as s:
            a, refused, c = (s.get(Intent, i) for i in ids)
            assert a is not None and refused is not None and c is not None
            assert (a.status, c.status, refused.status) == (OutboxStatus.DRAFTED, OutboxStatus.DRAFTED, OutboxStatus.FAILED)
            assert refused.last_error and "the draft is not a message" in refused.last_error
        assert sorted(m.raw.split(b"Message-ID: ")[1][:17] for m in box.all_messages("Review")) == [
            b"<a@store.example>", b"<c@store.example>"]
        assert draft.REPLIES.run_once(rt) == 0
    finally:
        box.close()
        db.dispose()


def test_draft_runner_finds_the_copy_a_crashed_try_left(tmp_path: Path) -> None:
    """A retried intent (its claim counted an earlier try) is searched for before APPEND."""
    clock = Clock()
    rt = _runtime(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", clock)
    raw = _draft_raw("<once@store.example>")
    intent_id = _reply(rt, "once", raw, "<once@store.example>")
    with rt.db.transaction() as s:  # an earlier try: claimed, appended, then the worker died
        intent = s.get(Intent, intent_id)
        assert intent is not None
        intent.attempts, intent.claimed_until = 1, clock() - timedelta(seconds=1)
    rt.mailbox.append("Review", raw, draft=True)

    assert draft.REPLIES.run_once(rt) == 1

    assert len(rt.mailbox.all_messages("Review")) == 1
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        assert intent is not None and intent.status == OutboxStatus.DRAFTED
        assert intent.attempts == 0 and intent.claimed_by is None  # send counts its own tries
    rt.db.dispose()


def test_draft_runner_copies_one_note_for_people(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", Clock())
    with rt.db.transaction() as s:
        s.add(Intent(kind="note", case_id=None, idempotency_key="note:1", message_id="<n@store.example>",
                     raw=b"X-Inbox-Agent-Note: <n@store.example>\r\n" + _draft_raw("<x@store.example>"),
                     payload=IntentPayload(folder="attention"), status=OutboxStatus.PENDING, created_at=rt.clock(),
                     updated_at=rt.clock()))

    assert draft.NOTES.run_once(rt) == 1

    assert len(rt.mailbox.all_messages("Needs attention")) == 1
    with rt.db.transaction() as s:
        assert s.scalars(select(Intent.status)).one() == OutboxStatus.DONE
    rt.db.dispose()


def test_draft_runner_waits_for_a_mailbox_that_is_away_however_long(tmp_path: Path) -> None:
    """A server away is no fault of the draft: it is retried with growing waits, never set aside."""
    os.environ["TEST_IMAP_PASSWORD"] = "secret"
    clock = Clock()
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    imap = ImapConfig(host="127.0.0.1", port=free_port(), tls="none", username="nobody@example.test",
                      password_env="TEST_IMAP_PASSWORD")  # nothing listens there
    config = Config(store=StoreConfig(support_address=SUPPORT), database=DatabaseConfig(url=url), imap=imap)
    db = Database(url)
    db.create()
    rt = Runtime(config=config, db=db, mailbox=ImapBackend(imap, "secret"), worker="worker-test", clock=clock)
    intent_id = _reply(rt, "away", _draft_raw("<away@store.example>"), "<away@store.example>")
    waits = []
    for _ in range(8):
        assert draft.REPLIES.run_once(rt) == 1
        with db.transaction() as s:
            intent = s.get(Intent, intent_id)
            assert intent is not None and intent.claimed_until is not None
            assert intent.status == OutboxStatus.PENDING and "imap" in (intent.last_error or "")
            waits.append(intent.claimed_until.replace(tzinfo=UTC) - clock())
        clock.now += waits[-1]
    assert [w.total_seconds() for w in waits] == [5, 10, 20, 40, 80, 160, 320, 600]
    db.dispose()


CUSTOMER = "customer@example.org"


def _approved(rt: Runtime, key: str = "sent") -> int:
    """An approved reply, as review leaves it for send."""
    message_id = f"<{key}@store.example>"
    with rt.db.transaction() as s:
        case = Case(state="waiting", customer=CUSTOMER, language="en", opened_at=rt.clock())
        s.add(case)
        s.flush()
        intent = Intent(kind="reply", case_id=case.id, idempotency_key=key, message_id=message_id,
                        raw=_draft_raw(message_id), sent_raw=_draft_raw(message_id), recipients=[CUSTOMER],
                        payload=IntentPayload(), status=OutboxStatus.APPROVED, created_at=rt.clock(), updated_at=rt.clock())
        s.add(intent)
        s.flush()
        return intent.id


def _sending_runtime(tmp_path: Path, clock: Clock, port: int, retry: RetryConfig | None = None) -> Runtime:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    config = Config(store=StoreConfig(support_address=SUPPORT), database=DatabaseConfig(url=url),
                    maildir=MaildirConfig(path=str(tmp_path / "mail")),
                    smtp=SmtpConfig(host="127.0.0.1", port=port, tls="none", timeout_seconds=5),
                    retry=retry or RetryConfig())
    return _runtime(tmp_path, url, clock, config)


def _intent(rt: Runtime, intent_id: int) -> Intent:
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        assert intent is not None
        s.expunge(intent)
        return intent


async def test_send_runner_sends_one_approved_reply_once(
        tmp_path: Path, smtp_server: tuple[Controller, RecordingHandler]) -> None:
    controller, recorder = smtp_server
    rt = _sending_runtime(tmp_path, Clock(), controller.port)
    intent_id = _approved(rt)

    assert await send.SEND.run_once_async(rt) == 1

    intent = _intent(rt, intent_id)
    assert (intent.status, intent.attempts, intent.last_error) == (OutboxStatus.SENT, 1, None)
    assert [m.recipients for m in recorder.messages] == [[CUSTOMER]]
    assert len(rt.mailbox.all_messages("Sent")) == 1
    with rt.db.transaction() as s:
        assert [e.kind for e in s.scalars(select(Event))] == ["reply.sent"]
    assert await send.SEND.run_once_async(rt) == 0
    assert len(recorder.messages) == 1
    rt.db.dispose()


async def test_send_runner_retries_a_4xx_with_backoff_for_its_window_then_sets_it_aside(
        tmp_path: Path, smtp_server: tuple[Controller, RecordingHandler]) -> None:
    controller, recorder = smtp_server
    recorder.answer = "451 4.3.0 Try again later"
    clock = Clock()
    rt = _sending_runtime(tmp_path, clock, controller.port, RetryConfig(send=RetryOverride(give_up_hours=1)))
    lines: list[str] = []
    rt.log = lines.append
    intent_id = _approved(rt)
    waits = []
    while (intent := _intent(rt, intent_id)).status == OutboxStatus.APPROVED:
        assert await send.SEND.run_once_async(rt) == 1
        intent = _intent(rt, intent_id)
        assert intent.last_error and "SMTP 451" in intent.last_error
        if intent.status == OutboxStatus.APPROVED:
            assert intent.claimed_until is not None
            waits.append(intent.claimed_until.replace(tzinfo=UTC) - clock())
            assert await send.SEND.run_once_async(rt) == 0  # not before its wait is over
            clock.now += waits[-1]
    assert [w.total_seconds() for w in waits] == [30, 60, 120, 240, 480, 900, 900, 900]  # an hour in all
    assert intent.status == OutboxStatus.FAILED and "SMTP 451" in (intent.last_error or "")
    assert lines[0].startswith(f"send: case 1 intent {intent_id} to {CUSTOMER}: try 1 failed: ")
    assert lines[0].endswith("retrying in 30 s")
    assert lines[-1].endswith("set aside for people still failing after 1 hours")
    assert recorder.messages == []
    rt.db.dispose()


async def test_send_runner_sets_a_5xx_aside_at_once(
        tmp_path: Path, smtp_server: tuple[Controller, RecordingHandler]) -> None:
    controller, recorder = smtp_server
    recorder.answer = "554 5.7.1 Message rejected"
    rt = _sending_runtime(tmp_path, Clock(), controller.port)
    intent_id = _approved(rt)

    assert await send.SEND.run_once_async(rt) == 1

    intent = _intent(rt, intent_id)
    assert (intent.status, intent.attempts, intent.claimed_until) == (OutboxStatus.FAILED, 1, None)
    assert intent.last_error and "SMTP 554" in intent.last_error
    assert await send.SEND.run_once_async(rt) == 0
    rt.db.dispose()


class _DropDuringData:
    """Takes the whole message, then hangs up instead of answering: it may or may not have left."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        self.received += 1
        server.transport.close()
        return "250 OK"


async def test_send_runner_never_retries_a_reply_whose_outcome_is_unknown(tmp_path: Path) -> None:
    handler = _DropDuringData()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    clock = Clock()
    rt = _sending_runtime(tmp_path, clock, controller.port)
    intent_id = _approved(rt)
    try:
        assert await send.SEND.run_once_async(rt) == 1
        clock.now += timedelta(days=2)
        assert await send.SEND.run_once_async(rt) == 0
        assert await asyncio.to_thread(send.SETTLE.run_once, rt) == 0
    finally:
        controller.stop()
    intent = _intent(rt, intent_id)
    assert intent.status == OutboxStatus.UNCERTAIN and "during DATA" in (intent.last_error or "")
    assert handler.received == 1
    rt.db.dispose()


def test_settle_runner_settles_what_a_dead_sender_left_and_nothing_else(tmp_path: Path) -> None:
    clock = Clock()
    rt = _sending_runtime(tmp_path, clock, free_port())
    left, copied, live = _approved(rt, "left"), _approved(rt, "copied"), _approved(rt, "live")
    with rt.db.transaction() as s:
        for intent_id, claim in ((left, -1), (copied, -1), (live, 60)):  # two claims ran out, one still holds
            intent = s.get(Intent, intent_id)
            assert intent is not None
            intent.status, intent.claimed_by = OutboxStatus.SENDING, "worker-dead"
            intent.claimed_until = clock() + timedelta(seconds=claim)
    rt.mailbox.append("Sent", _draft_raw("<copied@store.example>"))

    assert send.SETTLE.run_once(rt) == 2

    assert _intent(rt, left).status == OutboxStatus.UNCERTAIN
    assert _intent(rt, copied).status == OutboxStatus.SENT
    assert _intent(rt, live).status == OutboxStatus.SENDING
    assert send.SETTLE.run_once(rt) == 0
    rt.db.dispose()


def _timer(rt: Runtime, name: str, facts: dict[str, object]) -> int:
    """A due-in-an-hour timer on a new case whose facts column holds `facts` as written (raw JSON,
    so a test can store what no model would write)."""
    with rt.db.transaction() as s:
        case = Case(state="waiting", customer=CUSTOMER, language="en", opened_at=rt.clock())
        s.add(case)
        s.flush()
        case_id = case.id
        s.expunge(case)
        s.execute(text('UPDATE "case" SET facts = :facts WHERE id = :id'), {"facts": json.dumps(facts), "id": case_id})
        timer = Timer(case_id=case_id, name=name, due_at=rt.clock() + timedelta(hours=1), fired=False)
        s.add(timer)
        s.flush()
        return timer.id


def test_timers_runner_fires_one_due_timer_once(tmp_path: Path) -> None:
    clock = Clock()
    rt = _runtime(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", clock)
    timer_id = _timer(rt, "supplier_reminder", {"timer_counts": {"supplier_reminder": 1}})
    assert timers.QUEUE.run_once(rt) == 0  # not due yet
    clock.now += timedelta(hours=1)

    assert timers.QUEUE.run_once(rt) == 1

    with rt.db.transaction() as s:
        timer = s.get(Timer, timer_id)
        assert timer is not None and timer.fired and (timer.attempts, timer.claimed_by) == (0, "worker-test")
        [event] = s.scalars(select(Event))
        assert (event.kind, event.case_id, event.payload.to_json()) == (
            "timer.expired", timer.case_id, {"facts": {"timer": "supplier_reminder", "count": 2}})
    assert timers.QUEUE.run_once(rt) == 0
    rt.db.dispose()


def test_timers_runner_sets_a_timer_it_cannot_fire_aside_and_fires_the_others(tmp_path: Path) -> None:
    clock = Clock()
    rt = _runtime(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", clock)
    broken = _timer(rt, "customer_close", {"timer_counts": "not a mapping"})  # bad data: a poison item
    fine = _timer(rt, "customer_close", {})
    clock.now += timedelta(hours=1)
    rounds = []
    for _ in range(3):
        rounds.append(timers.QUEUE.run_once(rt))
        clock.now += timedelta(minutes=5)  # past the backoff

    assert rounds == [2, 1, 1]
    with rt.db.transaction() as s:
        timer = s.get(Timer, broken)
        assert timer is not None and timer.fired and timer.attempts == 3
        assert timer.last_error and "timer_counts" in timer.last_error
        events = list(s.scalars(select(Event)))
        assert [(e.kind, e.case_id) for e in events] == [("timer.expired", s.get(Timer, fine).case_id)]  # type: ignore[union-attr]
    assert timers.QUEUE.run_once(rt) == 0
    rt.db.dispose()


def test_orders_runner_puts_the_senders_order_on_the_case_and_queues_its_event(tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(f"order,email,name,country,tracking_number,carrier,supplier,supplier_order,created_at\n"
                      f"1043,{CUSTOMER},Robin Customer,US,{NUMBER},,,,2026-07-01\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    config = Config(store=StoreConfig(support_address=SUPPORT), database=DatabaseConfig(url=url),
                    maildir=MaildirConfig(path=str(tmp_path / "mail")), orders=OrdersConfig(csv=str(orders)))
    rt = _runtime(tmp_path, url, Clock(), config)
    rt.orders = build_order_book(config.orders)
    with rt.db.transaction() as s:
        case = Case(state="looking_up_order", customer=CUSTOMER, language="en", order_numbers=["1043"],
                    opened_at=rt.clock())
        s.add(case)
        s.flush()
        s.add(lookup_intent(case, None, Facts(intent="where_is_my_order"), "order:1", rt.clock()))

    assert order_lookup.QUEUE.run_once(rt) == 1

    with rt.db.transaction() as s:
        assert s.scalars(select(Intent.status)).one() == OutboxStatus.DONE
        case = s.scalars(select(Case)).one()
        assert case.tracking_numbers == [order_model.Parcel(number=NUMBER, carrier="china_post")]
        [event] = s.scalars(select(Event))
        assert event.kind == "order.looked_up" and event.payload.facts.order == "found"
        assert event.payload.facts.has_tracking is True
    assert order_lookup.QUEUE.run_once(rt) == 0
    rt.db.dispose()


START_ROUNDS = 10


def test_two_workers_recording_the_inbox_first_start_at_once_agree_on_it(tmp_path: Path, database_url: str) -> None:
    """Two workers started together both find no start point and record one: the second insert
    fails on the folder's key, and that worker takes the first's start point instead of exiting."""
    runtimes = [_runtime(tmp_path, database_url, Clock()) for _ in range(2)]
    for _ in range(START_ROUNDS):
        with runtimes[0].db.transaction() as s:
            s.execute(text("DELETE FROM mailbox_cursor"))
            s.execute(text("DELETE FROM mailbox_start"))
        together = threading.Barrier(len(runtimes))
        with ThreadPoolExecutor(len(runtimes)) as pool:
            first, second = pool.map(_begin_together, runtimes, [together] * len(runtimes))
        assert first == second


def _begin_together(rt: Runtime, together: threading.Barrier) -> ingest.Reading:
    together.wait()
    return ingest.begin(rt)


def test_a_reply_decided_on_the_message_that_opens_its_case_answers_that_message(
        tmp_path: Path, database_url: str) -> None:
    """The message is linked to its case in the item's own transaction, not yet written when the
    reply is composed: the reply answers it all the same (In-Reply-To and References name it)."""
    rt = _runtime(tmp_path, database_url, Clock())
    complaint = sample_complaint(SUPPORT, order_only=True)
    rt.mailbox.append("INBOX", complaint)
    assert ingest.run_once(rt) == 1

    assert process.run_once(rt) == 1

    with rt.db.transaction() as s:
        reply = s.scalars(select(Intent).where(Intent.kind == "reply")).one()
        assert reply.raw is not None and reply.template == "customer_ask_tracking_number"  # it gave its order
        answer = message_from_bytes(reply.raw)
    original = message_from_bytes(complaint)
    assert answer["In-Reply-To"] == original["Message-ID"]
    assert answer["References"] == original["Message-ID"]
    rt.db.dispose()
