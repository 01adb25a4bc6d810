"""The MailboxBackend protocol every stage talks to.

Calls are blocking (run them in a thread); a backend is used by one thread at a time. Message
ids (`uid`) are strings so IMAP UIDs and Maildir keys fit the same column. Errors reaching the
caller are TransientError (the server is away: retry) or PermanentError (this message is bad).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar, Protocol

INTERNAL_HEADER = "X-Inbox-Agent-Intent"
NOTE_HEADER = "X-Inbox-Agent-Note"  # marks our notes in "Needs attention", so a crash never copies twice
SEEN_KEYWORD = "$InboxAgentSeen"


@dataclass(frozen=True)
class StoredMessage:
    uid: str
    raw: bytes
    position: int = 0  # where the message sits in the folder's order (StartPoint.position)


@dataclass(frozen=True)
class StartPoint:
    """Where reading a folder starts: `position` is an IMAP UID or, in a Maildir, a delivery time in
    whole seconds; `older` counts the messages before it, which are left alone."""

    position: int
    older: int


class MailboxBackend(Protocol):
    positions_grow: ClassVar[bool]
    """True when a new message always gets a higher position than every earlier one (IMAP UIDs), so
    a reader may move its start past what it handled."""

    def ensure_folders(self, folders: list[str]) -> None: ...

    def uidvalidity(self, folder: str) -> int: ...

    def start_point(self, folder: str, since: date | None) -> StartPoint:
        """Where "now" is in `folder` (or the first message delivered on or after `since`)."""
        ...

    def unseen_uids(self, folder: str, known: set[str], start: int = 0) -> list[str]:
        """Uids of the messages of `folder` at or past position `start` whose uid is not in `known`,
        oldest first."""
        ...

    def fetch(self, folder: str, uid: str) -> StoredMessage | None:
        """One message (None when it is gone): catching up holds one message in memory at a time."""
        ...

    def mark_seen(self, folder: str, uids: list[str]) -> None: ...

    def all_messages(self, folder: str) -> list[StoredMessage]: ...

    def append(self, folder: str, raw: bytes, draft: bool = False) -> str | None: ...

    def find_header(self, folder: str, header: str, value: str) -> list[str]: ...

    def delete(self, folder: str, uids: list[str]) -> None: ...

    def wait_for_mail(self, timeout: float) -> bool:
        """Block until INBOX may have changed or `timeout` passes; True when woken by a change."""
        ...

    def close(self) -> None: ...
