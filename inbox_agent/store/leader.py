"""Leadership of the mailbox folders: one worker at a time watches and ingests them.

On PostgreSQL the leader holds a session advisory lock (one key per folder) on a connection of
its own; on SQLite, an exclusive `flock` on a file beside the database. Either is released by the
operating system or the server the moment the holder dies, even by SIGKILL, so a follower that
asks every second takes over within seconds. Everything else is shared among workers by claims.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import zlib
from typing import IO

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from inbox_agent.store.database import Database

LEADER_LOCK_BASE = 0x1B0C0000  # advisory lock keys: this plus the CRC-32 of mailbox and folder (any fixed number)


class Leadership:
    """`hold()` tries to become (or checks it still is) the leader for `folder` of `mailbox` (its
    account, so stores sharing one PostgreSQL never wait for each other)."""

    def __init__(self, db: Database, folder: str, mailbox: str = "") -> None:
        self.db, self.folder = db, folder
        self.key = (LEADER_LOCK_BASE + zlib.crc32(f"{mailbox}/{folder}".encode())) % 2**62
        self._connection: Connection | None = None
        self._file: IO[bytes] | None = None
        self.held = False

    def hold(self) -> bool:
        """True while this worker leads; never blocks."""
        try:
            self.held = self._hold_postgresql() if self.db.is_postgresql else self._hold_file()
        except (DBAPIError, OSError):
            self.release()
        return self.held

    def _hold_postgresql(self) -> bool:
        if self._connection is None:
            self._connection = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if self.held:
            self._connection.execute(text("SELECT 1"))  # still connected, so still holding
            return True
        return bool(self._connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}))

    def _hold_file(self) -> bool:
        database = self.db.url.database
        if not database or database == ":memory:":
            return True
        if self._file is None:
            path = f"{database}.{zlib.crc32(self.folder.encode()):08x}.leader"
            self._file = open(path, "ab")  # noqa: SIM115 - held open for as long as we lead
            os.chmod(path, 0o600)
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        self.held = False
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.invalidate()  # closed for good, not pooled: the lock goes with it
                self._connection.close()
            self._connection = None
        if self._file is not None:
            self._file.close()
            self._file = None
