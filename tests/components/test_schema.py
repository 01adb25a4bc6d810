"""Workers started at the same instant all make the schema without tripping over each other
(SQLite runs DDL outside transactions; on PostgreSQL a create_all race is a UniqueViolation)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from inbox_agent.store.database import Database
from inbox_agent.store.tables import Base
from tests.support.wait import until

WORKER = """
import os, sys
from inbox_agent.store.database import Database
db = Database(sys.argv[1])
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):  # the start line: every process is ready, none has begun
    pass
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
