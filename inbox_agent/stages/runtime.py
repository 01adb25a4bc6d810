"""What every stage needs: config, database, mailbox, clock, tracker, order source, and what a
worker remembers between rounds (where it reads its folders). Built once by the app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from inbox_agent.config import Config
from inbox_agent.mailbox.base import MailboxBackend
from inbox_agent.mailbox.oauth2 import TokenSource
from inbox_agent.orders.book import OrderBook
from inbox_agent.security.dns import CachedDns, TxtResolver
from inbox_agent.store.database import Database, utcnow
from inbox_agent.tracking.tracker import SampleTracker, Tracker

if TYPE_CHECKING:
    from inbox_agent.stages.ingest import Reading


@dataclass
class Runtime:
    config: Config
    db: Database
    mailbox: MailboxBackend
    worker: str = "worker"
    clock: Callable[[], datetime] = utcnow
    log: Callable[[str], None] = field(default=lambda message: None)
    tracker: Tracker = field(default_factory=SampleTracker)
    orders: OrderBook | None = None
    dns: TxtResolver = field(default_factory=CachedDns)
    raw_retention_due: datetime | None = None  # when ingest next drops raw mail past [store] keep_raw_days
    reading: Reading | None = None  # where ingest reads INBOX from (stages/ingest.py `begin`)
    rejected_start: int = 0  # the first Rejected position review has not settled
    rejected_seen: set[str] = field(default_factory=set)  # Rejected uids review has settled
    draft_key: bytes | None = None  # the database's draft-proof key once read (mailbox/proof.py; it never changes)
    smtp_tokens: TokenSource | None = None  # OAuth2 access tokens for SMTP, refreshed before expiry
    teach_looked_at: set[tuple[str, str]] = field(default_factory=set)  # (Teach folder, uid) teach has seen
    teach_start: dict[str, int] = field(default_factory=dict)  # per Teach folder, the first position not yet read

    @property
    def folders(self) -> Any:
        box = self.config.imap or self.config.maildir
        from inbox_agent.config import Folders

        return box.folders if box is not None else Folders()
