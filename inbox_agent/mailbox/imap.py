"""IMAP backend on imapclient: UID-based, with IDLE on a second connection and a poll fallback.

Mail is fetched with BODY.PEEK[] (the agent's \\Seen is left alone), only past the caller's start
UID and only when the folder's UIDNEXT moved; the database is the record of what was read, and the
keyword $InboxAgentSeen is added after the caller committed, where the server can store keywords
(PERMANENTFLAGS). Folder names are put under the server's personal NAMESPACE prefix (`INBOX.` on
cPanel/Courier). Without UIDPLUS nothing is ever expunged (an EXPUNGE would also remove what
agents flagged deleted): our messages are flagged \\Deleted and hidden from our own listings.
A dropped connection (imapclient's AbortError, socket errors) becomes TransientError; the next call
reconnects and resyncs by UID.
"""

from __future__ import annotations

import contextlib
import re
import ssl
import threading
from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from inbox_agent.config import ImapConfig
from inbox_agent.errors import ConfigError, PermanentError, TransientError
from inbox_agent.mailbox.base import SEEN_KEYWORD, StartPoint, StoredMessage
from inbox_agent.mailbox.oauth2 import TokenSource

T = TypeVar("T")
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")
_TRANSIENT_CODES = re.compile(r"\[(UNAVAILABLE|INUSE|SERVERBUG|LIMIT|TRYCREATE)\]")  # RFC 5530: try again later
_BATCH = 100


class ImapBackend:
    positions_grow: ClassVar[bool] = True

    def __init__(self, config: ImapConfig, password: str, timeout: float = 30.0) -> None:
        self.config = config
        self._password = password
        self._timeout = timeout
        self._client: IMAPClient | None = None
        self._watcher: IMAPClient | None = None
        self._lock = threading.RLock()
        self._idle_supported: bool | None = None
        self._prefix = ""
        self._delimiter = "/"
        self._keywords: dict[str, bool] = {}  # folder -> PERMANENTFLAGS allows our keyword
        self._no_keywords: set[str] = set()  # folders where storing it was refused all the same
        self._tokens = TokenSource(config, "imap") if config.auth == "oauth2" else None
        self._selected: str | None = None
        self._writable = False  # the selected folder was SELECTed, not EXAMINEd

    def _connect(self) -> IMAPClient:
        c = self.config
        try:
            context = ssl.create_default_context(cafile=c.ca_file) if c.tls != "none" else None
            client = IMAPClient(c.host, port=c.port, ssl=c.tls == "implicit", ssl_context=context,
                                timeout=self._timeout)
            if c.tls == "starttls":
                client.starttls(context)
            self._login(client)
            self._prefix, self._delimiter = _personal_namespace(client)
            return client
        except LoginError:
            raise ConfigError("imap", "username/password_env" if c.auth == "password" else "username/refresh_token_env",
                              f"login refused for {c.username}") from None
        except ssl.SSLCertVerificationError as e:
            raise TransientError(f"imap {c.host}:{c.port}: certificate not trusted ({e.verify_message}); "
                                 "[imap] ca_file names a private CA") from e
        except ssl.SSLError as e:
            raise TransientError(f"imap {c.host}:{c.port}: TLS failed ({e.reason}); does tls = {c.tls!r} "
                                 f"fit port {c.port}?") from e
        except (OSError, IMAPClientError) as e:
            raise TransientError(f"imap {c.host}:{c.port}: {e}") from e

    def _login(self, client: IMAPClient) -> None:
        """Password LOGIN, or SASL OAUTHBEARER (where offered) / XOAUTH2 with a fresh access token."""
        if self._tokens is None:
            client.login(self.config.username, self._password)
        elif client.has_capability("AUTH=OAUTHBEARER"):
            client.oauthbearer_login(self.config.username, self._tokens.token())
        else:
            client.oauth2_login(self.config.username, self._tokens.token())

    def name(self, folder: str) -> str:
        """`folder` as the server names it: under the personal namespace prefix, INBOX excepted, and
        a configured `a/b` written with the server's hierarchy delimiter (`INBOX.Teach.received`)."""
        if folder.upper() == "INBOX" or (self._prefix and folder.startswith(self._prefix)):
            return folder
        return self._prefix + folder.replace("/", self._delimiter)

    def _status(self, c: IMAPClient, folder: str, item: bytes) -> int:
        """STATUS of a folder, after leaving it if it is selected (RFC 3501: STATUS is no check for
        new mail in the selected mailbox; some servers answer it from a stale view)."""
        if self._selected == folder:
            if c.has_capability("UNSELECT"):
                c.unselect_folder()
            else:  # CLOSE after EXAMINE leaves without expunging anything
                c.select_folder(self.name(folder), readonly=True)
                c.close_folder()
            self._selected = None
        return int(c.folder_status(self.name(folder), [item])[item])

    def _select(self, c: IMAPClient, folder: str, readonly: bool = False) -> dict[bytes, Any]:
        info: dict[bytes, Any] = c.select_folder(self.name(folder), readonly=readonly)
        self._selected, self._writable = folder, not readonly
        flags = info.get(b"PERMANENTFLAGS")
        if flags is not None and not readonly:
            self._keywords[folder] = b"\\*" in flags or SEEN_KEYWORD.encode() in flags
        return info

    def _enter(self, c: IMAPClient, folder: str) -> None:
        """`folder` selected for writing, unless it already is: a backlog's fetches and keyword
        stores then cost one round trip each, not a SELECT each as well."""
        if self._selected != folder or not self._writable:
            self._select(c, folder)

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
        self._selected = None
        client, self._client = self._client, None
        _shutdown(client)

    def ensure_folders(self, folders: list[str]) -> None:
        def run(c: IMAPClient) -> None:
            for folder in folders:
                if not c.folder_exists(self.name(folder)):
                    try:
                        c.create_folder(self.name(folder))
                    except IMAPClientError:
                        if not c.folder_exists(self.name(folder)):  # another worker made it meanwhile: fine
                            raise

        self._run(run)

    def uidvalidity(self, folder: str) -> int:
        return self._run(lambda c: self._status(c, folder, b"UIDVALIDITY"))

    def start_point(self, folder: str, since: date | None) -> StartPoint:
        def run(c: IMAPClient) -> StartPoint:
            info = self._select(c, folder, readonly=True)
            position = int(info[b"UIDNEXT"])
            if since is not None:
                position = min([position, *c.search(["SINCE", since])])
            older = len(c.search(["UID", f"1:{position - 1}"])) if position > 1 else 0
            return StartPoint(position, older)

        return self._run(run)

    def unseen_uids(self, folder: str, known: set[str], start: int = 0) -> list[str]:
        def run(c: IMAPClient) -> list[str]:
            if self._status(c, folder, b"UIDNEXT") <= start:  # nothing new: no SELECT, no SEARCH
                return []
            self._select(c, folder)
            return [str(u) for u in sorted(c.search(["UID", f"{max(start, 1)}:*"])) if u >= start and str(u) not in known]

        return self._run(run)

    def fetch(self, folder: str, uid: str) -> StoredMessage | None:
        def run(c: IMAPClient) -> StoredMessage | None:
            self._enter(c, folder)
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
                    out.append(StoredMessage(str(uid), raw, uid))
        return out

    def mark_seen(self, folder: str, uids: list[str]) -> None:
        if not uids:
            return

        def run(c: IMAPClient) -> None:
            self._enter(c, folder)
            if not self._keywords.get(folder, False) or folder in self._no_keywords:
                return
            try:
                c.add_flags([int(u) for u in uids], [SEEN_KEYWORD])
            except IMAPClient.AbortError:
                raise
            except IMAPClientError:  # the server announced keywords but refuses ours (Exchange, length limits)
                self._no_keywords.add(folder)

        self._run(run)

    def all_messages(self, folder: str) -> list[StoredMessage]:
        def run(c: IMAPClient) -> list[StoredMessage]:
            if self._status(c, folder, b"MESSAGES") == 0:  # an empty folder costs one STATUS
                return []
            self._select(c, folder)
            return self._fetch(c, list(c.search("UNDELETED")))

        return self._run(run)

    def append(self, folder: str, raw: bytes, draft: bool = False) -> str | None:
        """APPEND; a server's NO to this message (not a server away) is a PermanentError."""
        flags = [b"\\Draft"] if draft else []

        def run(c: IMAPClient) -> bytes | str:
            try:
                return c.append(self.name(folder), raw, flags=flags)
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
            self._select(c, folder, readonly=True)
            return [str(u) for u in c.search(["UNDELETED", "HEADER", header, value])]

        return self._run(run)

    def delete(self, folder: str, uids: list[str]) -> None:
        if not uids:
            return

        def run(c: IMAPClient) -> None:
            self._select(c, folder)
            ids = [int(u) for u in uids]
            c.delete_messages(ids)
            if c.has_capability("UIDPLUS"):
                c.uid_expunge(ids)

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
                self._watcher.select_folder(self.name(self.config.folders.inbox), readonly=True)
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


def _personal_namespace(client: IMAPClient) -> tuple[str, str]:
    """The personal namespace's prefix ("" on most servers, "INBOX." on cPanel/Courier) and its
    hierarchy delimiter ("/" when the server does not say)."""
    if not client.has_capability("NAMESPACE"):
        return "", "/"
    personal = client.namespace().personal
    if not personal:
        return "", "/"
    prefix, delimiter = personal[0][0], personal[0][1]
    return str(prefix), str(delimiter or "/")


def _shutdown(client: IMAPClient | None) -> None:
    """Close a connection that is broken or no longer wanted; failing to close changes nothing."""
    if client is not None:
        with contextlib.suppress(Exception):
            client.shutdown()
