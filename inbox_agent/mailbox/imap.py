"""IMAP backend on imapclient: UID-based, with IDLE on a second connection and a poll fallback.

Mail is fetched with BODY.PEEK[] (the agent's \\Seen is left alone) and marked with the keyword
$InboxAgentSeen only after the caller committed it. A dropped connection (imapclient's
AbortError, socket errors) becomes TransientError; the next call reconnects and resyncs by UID.
"""

from __future__ import annotations

import contextlib
import re
import ssl
import threading
from collections.abc import Callable
from typing import TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from inbox_agent.config import ImapConfig
from inbox_agent.errors import ConfigError, PermanentError, TransientError
from inbox_agent.mailbox.base import SEEN_KEYWORD, StoredMessage

T = TypeVar("T")
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")
_TRANSIENT_CODES = re.compile(r"\[(UNAVAILABLE|INUSE|SERVERBUG|LIMIT|TRYCREATE)\]")  # RFC 5530: try again later
_BATCH = 100


class ImapBackend:
    def __init__(self, config: ImapConfig, password: str, timeout: float = 30.0) -> None:
        self.config = config
        self._password = password
        self._timeout = timeout
        self._client: IMAPClient | None = None
        self._watcher: IMAPClient | None = None
        self._lock = threading.RLock()
        self._idle_supported: bool | None = None

    def _connect(self) -> IMAPClient:
        c = self.config
        try:
            context = ssl.create_default_context() if c.tls != "none" else None
            client = IMAPClient(c.host, port=c.port, ssl=c.tls == "implicit", ssl_context=context,
                                timeout=self._timeout)
            if c.tls == "starttls":
                client.starttls(context)
            client.login(c.username, self._password)
            return client
        except LoginError:
            raise ConfigError("imap", "username/password_env", f"login refused for {c.username}") from None
        except (OSError, IMAPClientError, ssl.SSLError) as e:
            raise TransientError(f"imap {c.host}:{c.port}: {e}") from e

    def _run(self, action: Callable[[IMAPClient], T]) -> T:
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            try:
                return action(self._client)
            except (TimeoutError, OSError, IMAPClient.AbortError) as e:
                self._drop()
                raise TransientError(f"imap connection lost: {e}") from e
            except IMAPClientError as e:
                raise TransientError(f"imap error: {e}") from e

    def _drop(self) -> None:
        client, self._client = self._client, None
        _shutdown(client)

    def ensure_folders(self, folders: list[str]) -> None:
        def run(c: IMAPClient) -> None:
            for folder in folders:
                if not c.folder_exists(folder):
                    try:
                        c.create_folder(folder)
                    except IMAPClientError:
                        if not c.folder_exists(folder):  # another worker made it meanwhile: fine
                            raise

        self._run(run)

    def uidvalidity(self, folder: str) -> int:
        return self._run(lambda c: int(c.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"]))

    def unseen_uids(self, folder: str, known: set[str]) -> list[str]:
        def run(c: IMAPClient) -> list[str]:
            c.select_folder(folder)
            return [str(u) for u in sorted(c.search(["UNKEYWORD", SEEN_KEYWORD])) if str(u) not in known]

        return self._run(run)

    def fetch(self, folder: str, uid: str) -> StoredMessage | None:
        def run(c: IMAPClient) -> StoredMessage | None:
            c.select_folder(folder)
            found = self._fetch(c, [int(uid)])
            return found[0] if found else None

        return self._run(run)

    def _fetch(self, c: IMAPClient, uids: list[int]) -> list[StoredMessage]:
        out: list[StoredMessage] = []
        for start in range(0, len(uids), _BATCH):
            batch = uids[start : start + _BATCH]
            for uid, data in sorted(c.fetch(batch, ["BODY.PEEK[]"]).items()):
                raw = data.get(b"BODY[]")
                if isinstance(raw, bytes):
                    out.append(StoredMessage(str(uid), raw))
        return out

    def mark_seen(self, folder: str, uids: list[str]) -> None:
        if not uids:
            return

        def run(c: IMAPClient) -> None:
            c.select_folder(folder)
            c.add_flags([int(u) for u in uids], [SEEN_KEYWORD])

        self._run(run)

    def all_messages(self, folder: str) -> list[StoredMessage]:
        def run(c: IMAPClient) -> list[StoredMessage]:
            c.select_folder(folder)
            return self._fetch(c, list(c.search("ALL")))

        return self._run(run)

    def append(self, folder: str, raw: bytes, draft: bool = False) -> str | None:
        """APPEND; a server's NO to this message (not a server away) is a PermanentError."""
        flags = [b"\\Draft"] if draft else []

        def run(c: IMAPClient) -> bytes | str:
            try:
                return c.append(folder, raw, flags=flags)
            except IMAPClient.AbortError:
                raise
            except IMAPClientError as e:
                if _TRANSIENT_CODES.search(str(e)):
                    raise
                raise PermanentError(f"{folder} refused the message: {e}") from e

        response = self._run(run)
        found = _APPENDUID.search(response if isinstance(response, bytes) else b"")
        return found.group(2).decode() if found else None

    def find_header(self, folder: str, header: str, value: str) -> list[str]:
        def run(c: IMAPClient) -> list[str]:
            c.select_folder(folder, readonly=True)
            return [str(u) for u in c.search(["HEADER", header, value])]

        return self._run(run)

    def delete(self, folder: str, uids: list[str]) -> None:
        if not uids:
            return

        def run(c: IMAPClient) -> None:
            c.select_folder(folder)
            ids = [int(u) for u in uids]
            c.delete_messages(ids)
            if c.has_capability("UIDPLUS"):
                c.uid_expunge(ids)
            else:
                c.expunge()

        self._run(run)

    def wait_for_mail(self, timeout: float) -> bool:
        """IDLE on INBOX from a second connection; without IDLE (or when it drops), just wait."""
        if not self.config.idle or self._idle_supported is False:
            threading.Event().wait(min(timeout, self.config.poll_seconds))
            return False
        try:
            if self._watcher is None:
                self._watcher = self._connect()
                self._idle_supported = bool(self._watcher.has_capability("IDLE"))
                if not self._idle_supported:
                    return False
                self._watcher.select_folder(self.config.folders.inbox, readonly=True)
            watcher = self._watcher
            watcher.idle()
            try:
                responses = list(watcher.idle_check(timeout=min(timeout, self.config.poll_seconds)))
            finally:
                _, after = watcher.idle_done()
                responses += list(after or [])
            return any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses)
        except (OSError, IMAPClient.AbortError, IMAPClientError, TransientError):
            watcher, self._watcher = self._watcher, None
            _shutdown(watcher)
            threading.Event().wait(min(1.0, timeout))
            return False

    def close(self) -> None:
        with self._lock:
            self._drop()
        watcher, self._watcher = self._watcher, None
        _shutdown(watcher)


def _shutdown(client: IMAPClient | None) -> None:
    """Close a connection that is broken or no longer wanted; failing to close changes nothing."""
    if client is not None:
        with contextlib.suppress(Exception):
            client.shutdown()
