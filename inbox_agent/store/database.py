"""Engine and transactions. One `transaction()` is one hand-off: it commits all or nothing.

SQLite runs in WAL mode with a busy timeout so the stages of one process and a CLI reading at the
same time do not trip over each other. Times are stored as aware UTC datetimes. Several workers
may start at once: the schema is made under a lock (an advisory lock on PostgreSQL, an `flock`
beside the file on SQLite).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DefaultClause, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from inbox_agent.errors import ConfigError
from inbox_agent.security.secrets import masked_url
from inbox_agent.store.tables import Base

SCHEMA_LOCK = 0x1B0C5C4E  # the advisory lock held while the schema is made (any fixed number)
NEXT_ID = text("SELECT nextval(pg_get_serial_sequence(:table, 'id'))")  # PostgreSQL: a table's next id


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class Database:
    """The engine plus a session factory; `create()` makes missing tables."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except Exception:  # noqa: BLE001 - any malformed URL is a config error
            raise ConfigError("database", "url", f"not a database URL: {masked_url(url)!r}") from None
        kwargs: dict[str, Any] = {"future": True, "hide_parameters": True}
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        elif parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.url = parsed
        self.engine: Engine = create_engine(parsed, **kwargs)
        if parsed.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgresql(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    def create(self) -> None:
        """Make missing tables, and the columns and indexes added since an older version made them."""
        with self._schema_lock(), self.engine.begin() as connection:
            if self.is_postgresql:
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            _create_schema(connection)

    @contextmanager
    def _schema_lock(self) -> Iterator[None]:
        """SQLite runs DDL outside transactions: workers on one file take turns with an `flock`
        beside it (PostgreSQL uses the advisory lock above)."""
        database = self.url.database
        if self.is_postgresql or not database or database == ":memory:":
            yield
            return
        with open(f"{database}.schema.lock", "ab") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def reserved_id(s: Session, table: type[Base]) -> int | None:
    """A new row's id taken from its table's sequence before the row is written, on PostgreSQL
    (None on SQLite, whose INSERT gives it): a row that holds its own id (a reply's header and
    proof) is then written in one INSERT, not an INSERT and an UPDATE. An id taken by a
    transaction that rolls back is skipped, as an INSERT's own would be."""
    if s.get_bind().dialect.name != "postgresql":
        return None
    return int(s.connection().scalar(NEXT_ID, {"table": table.__tablename__}))


def _create_schema(connection: Connection) -> None:
    Base.metadata.create_all(connection)
    existing = inspect(connection)
    for table in Base.metadata.sorted_tables:
        have = {c["name"] for c in existing.get_columns(table.name)}
        for column in table.columns:
            default = column.server_default.arg if isinstance(column.server_default, DefaultClause) else None
            if column.name not in have and (column.nullable or default is not None):
                kind = column.type.compile(dialect=connection.dialect)
                rest = "" if column.nullable else f" NOT NULL DEFAULT {default}"
                connection.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN {column.name} {kind}{rest}'))
    for table in Base.metadata.sorted_tables:
        for index in table.indexes:
            index.create(connection, checkfirst=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
