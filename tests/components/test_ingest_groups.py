"""Ingest's group commit on real parts (a Maildir, SQLite and PostgreSQL): the messages read since
the last commit are stored in one transaction and only then marked seen; a group whose transaction
fails loses nothing and marks nothing, and each of its messages is then stored alone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from inbox_agent.config import Config, DatabaseConfig, MaildirConfig, StoreConfig
from inbox_agent.domain import WorkStatus
from inbox_agent.mailbox.maildir import MaildirBackend
from inbox_agent.samples import sample_complaint
from inbox_agent.stages import ingest
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.database import Database
from inbox_agent.store.tables import Event, InboundMessage

SUPPORT = "support@store.example"
NUMBERS = ["LV123456785CN", "RR123456785CN", "LP00612849305172", "YT2506321874502931", "LV123456794CN"]


class SeenCheckingMailbox(MaildirBackend):
    """A Maildir that records what it is told was seen, and checks at that moment, through a
    connection of its own, that every such message is committed (the ingest promise)."""

    def __init__(self, path: str, url: str) -> None:
        super().__init__(path)
        self.seen: list[str] = []
        self.checker = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))

    def mark_seen(self, folder: str, uids: list[str]) -> None:
        with Session(self.checker) as s:
            stored = set(s.scalars(select(InboundMessage.uid).where(InboundMessage.uid.in_(uids))))
        assert stored == set(uids), f"marked seen before its commit: {set(uids) - stored}"
        self.seen.extend(uids)


def _runtime(tmp_path: Path, url: str) -> tuple[Runtime, SeenCheckingMailbox]:
    config = Config(store=StoreConfig(support_address=SUPPORT), database=DatabaseConfig(url=url),
                    maildir=MaildirConfig(path=str(tmp_path / "mail")))
    db = Database(url)
    db.create()
    box = SeenCheckingMailbox(str(tmp_path / "mail"), url)
    box.ensure_folders(["INBOX", "Review", "Approved", "Rejected", "Sent", "Needs attention"])
    rt = Runtime(config=config, db=db, mailbox=box, worker="worker-test",
                 clock=lambda: datetime(2026, 7, 15, 9, 0, tzinfo=UTC))
    rt.reading = ingest.begin(rt)
    return rt, box


def _complaints(rt: Runtime) -> list[str]:
    """One complaint per number, each from its own customer; their uids."""
    return [str(rt.mailbox.append("INBOX", sample_complaint(SUPPORT, sender=f"c{i}@example.org", number=n)))
            for i, n in enumerate(NUMBERS)]


@contextmanager
def _inbound_commits(db: Database) -> Iterator[list[int]]:
    """For each transaction that committed inbound_message rows, its INSERT statements for them."""
    counts: list[int] = []
    pending = {"rows": 0}

    def statement(_conn: Connection, _cursor: object, sql: str, *_: object) -> None:
        if sql.startswith("INSERT INTO inbound_message"):
            pending["rows"] += 1

    def commit(_conn: Connection) -> None:
        if pending["rows"]:
            counts.append(pending["rows"])
        pending["rows"] = 0

    def begin(_conn: Connection) -> None:
        pending["rows"] = 0

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    event.listen(db.engine, "begin", begin)
    try:
        yield counts
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)
        event.remove(db.engine, "begin", begin)


def _stored(rt: Runtime) -> tuple[list[str], int]:
    with rt.db.transaction() as s:
        uids = list(s.scalars(select(InboundMessage.uid).where(InboundMessage.error.is_(None))
                              .order_by(InboundMessage.id)))
        events = s.scalar(select(func.count()).select_from(Event).where(Event.kind == "message.received"))
        return uids, int(events or 0)


def test_the_messages_of_a_round_are_committed_together_then_marked_seen(tmp_path: Path, database_url: str) -> None:
    rt, box = _runtime(tmp_path, database_url)
    uids = _complaints(rt)

    with _inbound_commits(rt.db) as commits:
        assert ingest.run_once(rt) == len(uids)

    assert len(commits) == 1  # one commit for the whole round
    assert _stored(rt) == (sorted(uids, key=uids.index), len(uids))
    assert sorted(box.seen) == sorted(uids)
    rt.db.dispose()


def test_a_group_whose_commit_fails_loses_nothing_and_marks_nothing_seen(tmp_path: Path, database_url: str) -> None:
    rt, box = _runtime(tmp_path, database_url)
    uids = _complaints(rt)

    inserting = {"rows": 0}

    def insert(_conn: Connection, _cursor: object, sql: str, *_: object) -> None:
        inserting["rows"] += sql.startswith("INSERT INTO inbound_message")

    def fail_once(_conn: Connection) -> None:  # the database goes away at the group's commit
        if inserting["rows"]:
            event.remove(rt.db.engine, "commit", fail_once)
            event.remove(rt.db.engine, "before_cursor_execute", insert)
            raise ConnectionError(f"server closed the connection at COMMIT ({inserting['rows']} messages)")

    stored_before = _stored(rt)
    event.listen(rt.db.engine, "before_cursor_execute", insert)
    event.listen(rt.db.engine, "commit", fail_once)
    with _inbound_commits(rt.db) as commits:
        assert ingest.run_once(rt) == len(uids)

    # the group rolled back whole; then each message was stored alone, and only then marked seen
    assert stored_before == ([], 0)
    assert commits == [1] * len(uids)  # each message alone: its own commit
    assert _stored(rt) == (uids, len(uids))
    assert sorted(box.seen) == sorted(uids)
    assert ingest.run_once(rt) == 0
    rt.db.dispose()


def test_a_group_holding_a_message_stored_already_stores_the_others_and_records_the_duplicate(
        tmp_path: Path, database_url: str) -> None:
    rt, box = _runtime(tmp_path, database_url)
    first = sample_complaint(SUPPORT, sender="again@example.org", number="LV123456785CN")
    rt.mailbox.append("INBOX", first)
    assert ingest.run_once(rt) == 1
    redelivered = str(rt.mailbox.append("INBOX", first))  # the same message under a new uid
    others = [str(rt.mailbox.append("INBOX", sample_complaint(SUPPORT, sender=f"o{i}@example.org", number=n)))
              for i, n in enumerate(NUMBERS[1:3])]

    assert ingest.run_once(rt) == 3

    uids, events = _stored(rt)
    assert uids[1:] == others and events == 3
    with rt.db.transaction() as s:
        duplicate = s.scalars(select(InboundMessage).where(InboundMessage.uid == redelivered)).one()
        assert duplicate.error == "duplicate"
    assert redelivered in box.seen and set(others) <= set(box.seen)
    rt.db.dispose()


def test_a_message_set_aside_in_a_group_keeps_its_place_and_queues_no_event(tmp_path: Path, database_url: str) -> None:
    rt, box = _runtime(tmp_path, database_url)
    before = str(rt.mailbox.append("INBOX", sample_complaint(SUPPORT, sender="a@example.org", number=NUMBERS[0])))
    bad = str(rt.mailbox.append("INBOX", b"X-Nothing: here\r\n\r\nnot a message\r\n"))
    after = str(rt.mailbox.append("INBOX", sample_complaint(SUPPORT, sender="c@example.org", number=NUMBERS[1])))

    assert ingest.run_once(rt) == 3

    with rt.db.transaction() as s:
        rows = {row.uid: row for row in s.scalars(select(InboundMessage))}
        assert set(rows) == {before, bad, after}
        assert rows[before].id < rows[bad].id < rows[after].id
        assert rows[bad].status == WorkStatus.SHUNTED and (rows[bad].error or "").startswith("not an email")
    assert _stored(rt) == ([before, after], 2)
    assert sorted(box.seen) == sorted([before, bad, after])
    rt.db.dispose()
