"""A local Maildir++ mailbox (INBOX at the root, folders as `.Name`), via the stdlib `mailbox`.

Used by the embedded setup and in production when the daemon runs on the mail server itself.
A Maildir key never changes while the message exists, so it serves as the UID, and UIDVALIDITY is
a constant. "Seen by us" is the database's knowledge of the key (`known`), not a flag. A message's
position is its delivery time (the file's mtime, whole seconds). Folder names are written as Dovecot
reads them: modified UTF-7 by default, or UTF-8 (`mail_location = maildir:~/Maildir:UTF-8`).
"""

from __future__ import annotations

import mailbox
import os
import re
import threading
import time
from datetime import UTC, date, datetime
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import ClassVar

from imapclient import imap_utf7

from inbox_agent.errors import TransientError
from inbox_agent.mailbox.base import StartPoint, StoredMessage

UIDVALIDITY = 1
# A file's mtime comes from the kernel's coarse clock, which can be a tick behind time.time(): a
# message delivered just before the first start counts as new rather than risk leaving it unread.
START_SLACK_SECONDS = 1


class MaildirBackend:
    positions_grow: ClassVar[bool] = False

    def __init__(self, path: str | Path, inbox: str = "INBOX", poll_seconds: float = 0.2,
                 folder_encoding: str = "utf-7") -> None:
        self.root = Path(path)
        self.inbox = inbox
        self.poll_seconds = poll_seconds
        self.folder_encoding = folder_encoding
        self._older: dict[str, set[str]] = {}  # keys found before a folder's start, never read again
        self._changed = threading.Event()
        self._last_listing: frozenset[str] = frozenset()
        try:
            _make_maildir(self.root)
            self._root_box = mailbox.Maildir(str(self.root), factory=None, create=True)
        except OSError as e:
            raise TransientError(f"maildir {self.root}: {e}") from e

    def _box(self, folder: str) -> mailbox.Maildir:
        if folder == self.inbox:
            return self._root_box
        path = self.root / f".{self.disk_name(folder)}"
        _make_maildir(path)
        return mailbox.Maildir(str(path), factory=None, create=True)

    def ensure_folders(self, folders: list[str]) -> None:
        for folder in folders:
            self._box(folder)

    def disk_name(self, folder: str) -> str:
        """The folder's directory name without the leading dot, in the encoding Dovecot reads."""
        return folder if self.folder_encoding == "utf-8" else imap_utf7.encode(folder).decode("ascii")

    def uidvalidity(self, folder: str) -> int:
        return UIDVALIDITY

    def start_point(self, folder: str, since: date | None) -> StartPoint:
        if since is None:
            position = int(time.time()) - START_SLACK_SECONDS
        else:
            position = int(datetime(since.year, since.month, since.day, tzinfo=UTC).timestamp())
        box = self._box(folder)
        older = sum(1 for key in box.iterkeys() if (self._delivered(box, key) or position) < position)
        return StartPoint(position, older)

    def unseen_uids(self, folder: str, known: set[str], start: int = 0) -> list[str]:
        box = self._box(folder)
        older = self._older.setdefault(folder, set())
        found = []
        for key in box.iterkeys():
            if key in known or key in older:
                continue
            delivered = self._delivered(box, key)
            if delivered is None:
                continue
            if delivered < start:
                older.add(key)
                continue
            found.append((delivered, key))
        return [key for _, key in sorted(found, key=lambda item: (item[0], _key_order(item[1])))]

    def fetch(self, folder: str, uid: str) -> StoredMessage | None:
        box = self._box(folder)
        delivered = self._delivered(box, uid)
        try:
            return StoredMessage(uid, box.get_bytes(uid), delivered or 0)
        except KeyError:
            return None

    @staticmethod
    def _delivered(box: mailbox.Maildir, key: str) -> int | None:
        """Delivery time of a message (its file's mtime), None when it is gone already."""
        try:
            return int(box.get_message(key).get_date())
        except (KeyError, OSError):
            return None

    def mark_seen(self, folder: str, uids: list[str]) -> None:
        """Nothing to do: the database's record of the key is the mark."""

    def all_messages(self, folder: str) -> list[StoredMessage]:
        found = (self.fetch(folder, uid) for uid in self.unseen_uids(folder, set()))
        return [stored for stored in found if stored is not None]

    def append(self, folder: str, raw: bytes, draft: bool = False) -> str | None:
        msg = mailbox.MaildirMessage(raw)
        if draft:
            msg.set_flags("D")
        return self._box(folder).add(msg)

    def find_header(self, folder: str, header: str, value: str) -> list[str]:
        box = self._box(folder)
        parser = BytesHeaderParser()
        found = []
        for key in box.iterkeys():
            try:
                headers = parser.parsebytes(box.get_bytes(key))
            except KeyError:
                continue
            if any(v.strip() == value for v in headers.get_all(header, [])):
                found.append(key)
        return found

    def delete(self, folder: str, uids: list[str]) -> None:
        box = self._box(folder)
        for uid in uids:
            box.discard(uid)

    def wait_for_mail(self, timeout: float) -> bool:
        """Poll the INBOX directories (cheap listings) until something new shows up."""
        waited = 0.0
        while waited < timeout:
            listing = frozenset(self._listing())
            if listing - self._last_listing:
                self._last_listing = listing
                return True
            self._last_listing = listing
            step = min(self.poll_seconds, timeout - waited)
            if self._changed.wait(step):
                self._changed.clear()
                return True
            waited += step
        return False

    def notify(self) -> None:
        """Wake a waiter at once (the embedded SMTP listener calls this after delivering)."""
        self._changed.set()

    def _listing(self) -> list[str]:
        names: list[str] = []
        for sub in ("new", "cur"):
            try:
                names.extend(os.listdir(self.root / sub))
            except FileNotFoundError:
                continue
        return names

    def close(self) -> None:
        self._changed.set()


def _make_maildir(path: Path) -> None:
    for sub in ("new", "cur", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)


_NUMBERS = re.compile(r"(\d+)")


def _key_order(key: str) -> list[str | int]:
    """A Maildir key as delivery order reads it: its numbers as numbers ("1796058820.M94007P27818Q1"
    before "1796058820.M100977P27818Q2": the same second, microseconds 94007 before 100977)."""
    return [int(part) if part.isdigit() else part for part in _NUMBERS.split(key)]
