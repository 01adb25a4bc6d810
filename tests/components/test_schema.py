"""Workers started at the same instant all make the schema without tripping over each other
(SQLite runs DDL outside transactions; on PostgreSQL a create_all race is a UniqueViolation)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect, text

from inbox_agent.store.database import Database
from inbox_agent.store.tables import Base
from tests.support.wait import until

WORKER = """
import os, sys
from inbox_agent.store.database import Database
parent = os.getppid()
db = Database(sys.argv[1])
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):  # the start line: every process is ready, none has begun
    if os.getppid() != parent:  # the test is gone (killed): nobody will open the line
        sys.exit(1)
db.create()
"""


async def test_six_processes_create_the_schema_at_once(database_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    ready = [tmp_path / f"ready{i}" for i in range(6)]
    processes = [subprocess.Popen([sys.executable, "-c", WORKER, database_url, str(r), str(go)], stderr=subprocess.PIPE,
                                  text=True) for r in ready]
    try:
        await until(lambda: all(r.exists() for r in ready), timeout=60, what="every process at the start line")
        go.touch()
        failures = [p.communicate(timeout=120)[1] for p in processes if p.wait(timeout=120) != 0]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    assert failures == []
    db = Database(database_url)
    try:
        with db.engine.connect() as connection:
            inspector = inspect(connection)
            assert set(Base.metadata.tables) <= set(inspector.get_table_names())
            assert "ix_inbound_message_case_id" in {i["name"] for i in inspector.get_indexes("inbound_message")}
    finally:
        db.dispose()


def test_an_older_database_gains_the_runner_columns_with_its_rows_kept(database_url: str) -> None:
    """A timer table made before timers had claims, and queues without `failing_since`, are brought
    up to date by `create()`; existing rows get zero tries."""
    db = Database(database_url)
    db.create()
    with db.engine.begin() as connection:
        for table, column in (("timer", "attempts"), ("timer", "last_error"), ("timer", "failing_since"),
                              ("timer", "claimed_until"), ("timer", "claimed_by"), ("intent", "failing_since"),
                              ("event", "failing_since")):
            connection.execute(text(f'ALTER TABLE "{table}" DROP COLUMN {column}'))
        connection.execute(text("""INSERT INTO "case" (id, state, version, customer, language, subject, order_numbers,
                                   tracking_numbers, facts, opened_at) VALUES (1, 'waiting', 1, 'c@example.org', 'en',
                                   '', '[]', '[]', '{}', '2026-07-01 09:00:00')"""))
        connection.execute(text("INSERT INTO timer (case_id, name, due_at, fired) "
                                "VALUES (1, 'customer_close', '2026-07-02 09:00:00', false)"))

    db.create()

    columns = {t: {c["name"] for c in inspect(db.engine).get_columns(t)} for t in ("timer", "intent", "event")}
    assert {"attempts", "last_error", "failing_since", "claimed_until", "claimed_by"} <= columns["timer"]
    assert "failing_since" in columns["intent"] and "failing_since" in columns["event"]
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT attempts, fired FROM timer")).one() == (0, False)
    db.dispose()
