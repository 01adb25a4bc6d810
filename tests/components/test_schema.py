"""Workers started at the same instant all make the schema without tripping over each other
(SQLite runs DDL outside transactions; PostgreSQL raises UniqueViolation on a create_all race)."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import inspect

from inbox_agent.store.database import Database
from inbox_agent.store.tables import Base


def test_four_processes_create_the_schema_at_once(database_url: str) -> None:
    code = f"from inbox_agent.store.database import Database; Database({database_url!r}).create()"
    processes = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True) for _ in range(4)]
    failures = [p.communicate(timeout=120)[1] for p in processes if p.wait(timeout=120) != 0]
    assert failures == []
    db = Database(database_url)
    try:
        with db.engine.connect() as connection:
            inspector = inspect(connection)
            assert set(Base.metadata.tables) <= set(inspector.get_table_names())
            assert "ix_inbound_message_case_id" in {i["name"] for i in inspector.get_indexes("inbound_message")}
    finally:
        db.dispose()
