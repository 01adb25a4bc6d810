"""A local Maildir++ mailbox (INBOX at the root, folders as `.Name`), via the stdlib `mailbox`.

Used by the embedded setup and in production when the daemon runs on the mail server itself.
A Maildir key never changes while the message exists, so it serves as the UID, and UIDVALIDITY is
a constant. "Seen by us" is the database's knowledge of the key (`known`), not a flag.
"""

from __future__ import annotations

import mailbox
import os
import threading
from email.parser import BytesHeaderParser
from pathlib import Path

from inbox_agent.errors import TransientError
from inbox_agent.mailbox.base import StoredMessage

UIDVALIDITY = 1


class MaildirBackend:
    def __init__(self, path: str | Path, inbox: str = "INBOX", poll_seconds: float = 0.2) -> None:
        self.root = Path(path)
        self.inbox = inbox
        self.poll_seconds = poll_seconds
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
        path = self.root / f".{folder}"
        _make_maildir(path)
        return mailbox.Maildir(str(path), factory=None, create=True)

    def ensure_folders(self, folders: list[str]) -> None:
        for folder in folders:
            self._box(folder)

    def uidvalidity(self, folder: str) -> int:
        return UIDVALIDITY

    def unseen_uids(self, folder: str, known: set[str]) -> list[str]:
        return [key for key in sorted(self._box(folder).keys()) if key not in known]

    def fetch(self, folder: str, uid: str) -> StoredMessage | None:
        try:
            return StoredMessage(uid, self._box(folder).get_bytes(uid))
        except KeyError:
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
