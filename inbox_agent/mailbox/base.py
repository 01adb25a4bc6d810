"""The MailboxBackend protocol every stage talks to.

Calls are blocking (run them in a thread); a backend is used by one thread at a time. Message
ids (`uid`) are strings so IMAP UIDs and Maildir keys fit the same column. Errors reaching the
caller are TransientError (the server is away: retry) or PermanentError (this message is bad).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

INTERNAL_HEADER = "X-Inbox-Agent-Intent"
NOTE_HEADER = "X-Inbox-Agent-Note"  # marks our notes in "Needs attention", so a crash never copies twice
SEEN_KEYWORD = "$InboxAgentSeen"


@dataclass(frozen=True)
class StoredMessage:
    uid: str
    raw: bytes


class MailboxBackend(Protocol):
    def ensure_folders(self, folders: list[str]) -> None: ...

    def uidvalidity(self, folder: str) -> int: ...

    def unseen_uids(self, folder: str, known: set[str]) -> list[str]:
        """Uids of `folder` not yet marked seen by us and not in `known`, oldest first."""
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
