"""A playbook scenario on real parts: Dovecot (IMAP, IDLE), a recording aiosmtpd server, the fake
carriers on a loopback HTTP port, SQLite, and a clock the test moves.

People are played from outside: the customer, the distributor and the supplier send mail to the
support mailbox (delivered by dovecot-lda), answering the messages the daemon sent them.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from imapclient import IMAPClient
from sqlalchemy import func, select

from inbox_agent.app import Daemon
from inbox_agent.config import (
    Config,
    DatabaseConfig,
    ImapConfig,
    OrdersConfig,
    PartiesConfig,
    ReadingConfig,
    RepliesConfig,
    SmtpConfig,
    StoreConfig,
    TrackingConfig,
    TrackingProvider,
)
from inbox_agent.store.tables import Case, Event, InboundMessage, Intent
from tests.support.carriers import LocalServer
from tests.support.dovecot import Dovecot
from tests.support.smtp import RecordingHandler
from tests.support.wait import until

SUPPORT = "support@store.example"
SUPPLIER = "supplier@brightleaf.example"
DISTRIBUTOR = "ops@fastlane.example"
START = datetime(2026, 7, 12, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Scenario:
    dovecot: Dovecot
    user: str
    smtp: tuple[Controller, RecordingHandler]
    carriers: LocalServer
    db_url: str
    clock: Clock = field(default_factory=Clock)
    daemon: Daemon | None = None
    orders: OrdersConfig | None = None
    tracking: TrackingConfig | None = None  # None: 17TRACK and USPS

    def fast(self, path: str, **settings: str) -> TrackingProvider:
        """A provider section pointing at the fake carriers, with no waiting between retries."""
        return TrackingProvider(base_url=f"{self.carriers.url}{path}", backoff_seconds=0, max_wait_seconds=0,
                                **settings)
    settings: dict[str, Any] = field(default_factory=dict)  # Config sections replacing the defaults below
    dns: dict[bytes, bytes] = field(default_factory=dict)  # DNS TXT records, for DKIM keys
    reading: ReadingConfig = field(default_factory=ReadingConfig)

    @property
    def config(self) -> Config:
        return Config(
            store=StoreConfig(name="Brightleaf Home", support_address=SUPPORT, signature="Brightleaf Home support"),
            database=DatabaseConfig(url=self.db_url),
            imap=ImapConfig(host="127.0.0.1", port=self.dovecot.port, tls="none", username=self.user,
                            password_env="TEST_IMAP_PASSWORD", poll_seconds=2),
            smtp=SmtpConfig(host="127.0.0.1", port=self.smtp[0].port, tls="none"),
            parties=PartiesConfig(suppliers=[SUPPLIER], distributors=[DISTRIBUTOR]),
            tracking=self.tracking or TrackingConfig(
                seventeen_track=self.fast("/track/v2.2", api_key_env="T17_TOKEN"),
                usps=self.fast("", client_id_env="USPS_ID", client_secret_env="USPS_SECRET"),
            ),
            replies=RepliesConfig(mode="auto"),
            orders=self.orders,
            reading=self.reading,
        ).model_copy(update=self.settings)

    async def start(self) -> None:
        self.daemon = Daemon(self.config, clock=self.clock, dns=self._txt)
        await self.daemon.start()

    async def stop(self) -> None:
        if self.daemon is not None:
            await self.daemon.stop()
            self.daemon = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def _txt(self, name: bytes, timeout: float = 5) -> bytes | None:
        return self.dns.get(name)

    def deliver(self, sender: str, subject: str, body: str, answering: EmailMessage | None = None,
                headers: dict[str, str] | None = None) -> str:
        msg = EmailMessage(policy=email.policy.SMTP)
        msg["From"] = sender
        msg["To"] = SUPPORT
        msg["Subject"] = f"Re: {answering['Subject']}" if answering is not None else subject
        msg["Date"] = email.utils.format_datetime(self.clock.now)
        msg["Message-ID"] = email.utils.make_msgid(domain="people.example")
        if answering is not None:
            msg["In-Reply-To"] = answering["Message-ID"]
            msg["References"] = answering["Message-ID"]
        for key, value in (headers or {}).items():
            msg[key] = value
        msg.set_content(body)
        self.dovecot.deliver(self.user, msg.as_bytes())
        return str(msg["Message-ID"])

    def sent(self, to: str | None = None) -> list[EmailMessage]:
        """What reached the SMTP server, oldest first (optionally only to `to`)."""
        out = []
        for received in self.smtp[1].messages:
            if to is None or to in received.recipients:
                out.append(email.message_from_bytes(received.data, policy=email.policy.default))
        return out  # type: ignore[return-value]

    async def wait_sent(self, to: str, count: int, what: str) -> EmailMessage:
        """Wait until `count` messages went to `to`; returns the newest."""
        found = await until(lambda: self.sent(to) if len(self.sent(to)) >= count else None, timeout=20, what=what)
        return found[-1]

    async def advance(self, hours: float) -> None:
        """Move the clock and let the timers fire."""
        self.clock.now += timedelta(hours=hours)
        assert self.daemon is not None
        self.daemon.kick("timers")

    def case(self, case_id: int) -> Case:
        assert self.daemon is not None
        with self.daemon.db.transaction() as s:
            case = s.get(Case, case_id)
            assert case is not None
            s.expunge(case)
            return case

    async def wait_state(self, case_id: int, state: str) -> Case:
        def reached() -> Case | None:
            case = self.case(case_id)
            return case if case.state == state else None

        return await until(reached, timeout=20, what=f"case {case_id} in state {state}")

    async def settled(self, inbound: int, timeout: float = 30) -> None:
        """Wait until `inbound` messages were read and every event they caused was handled (a
        message is stored with its event in one transaction)."""
        def done() -> bool:
            assert self.daemon is not None
            with self.daemon.db.transaction() as s:
                events = s.scalar(select(func.count()).select_from(Event).where(Event.status == "PENDING"))
                read = s.scalar(select(func.count()).select_from(InboundMessage))
            return events == 0 and read == inbound

        await until(done, timeout=timeout, what=f"{inbound} messages read and processed")

    def intents(self, kind: str = "reply") -> list[Any]:
        assert self.daemon is not None
        with self.daemon.db.transaction() as s:
            return [(i.template, i.status) for i in s.scalars(select(Intent).where(Intent.kind == kind)
                                                             .order_by(Intent.id))]

    def attention(self) -> list[EmailMessage]:
        """What the daemon left for people in "Needs attention"."""
        client = IMAPClient("127.0.0.1", port=self.dovecot.port, ssl=False, timeout=10)
        try:
            client.login(self.user, "secret")
            client.select_folder("Needs attention", readonly=True)
            uids = client.search("ALL")
            data = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
            return [email.message_from_bytes(d[b"BODY[]"], policy=email.policy.default)  # type: ignore[misc]
                    for d in data.values()]
        finally:
            client.logout()


def text_of(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def db_path(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'scenario.sqlite'}"
