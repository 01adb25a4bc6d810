"""The thin slice end to end: a complaint becomes an approved, sent post-office reply.

Over a real Dovecot (IMAP, IDLE) with a recording aiosmtpd server, and over the Maildir backend.
The agent is played from a second IMAP connection: it edits the draft and moves it to Approved.
"""

from __future__ import annotations

import email
import email.policy
import re
from functools import partial
from pathlib import Path

from imapclient import IMAPClient
from sqlalchemy import func, select

from inbox_agent.app import Daemon
from inbox_agent.config import Config, DatabaseConfig, ImapConfig, MaildirConfig, RepliesConfig, SmtpConfig, StoreConfig
from inbox_agent.mailbox.maildir import MaildirBackend
from inbox_agent.samples import sample_complaint
from inbox_agent.store.tables import Case, InboundMessage, Intent
from tests.support.wait import until

SUPPORT = "support@store.example"


def _imap_config(dovecot, user: str, db: str, smtp_port: int | None) -> Config:  # type: ignore[no-untyped-def]
    return Config(
        store=StoreConfig(support_address=SUPPORT),
        database=DatabaseConfig(url=db),
        imap=ImapConfig(host="127.0.0.1", port=dovecot.port, tls="none", username=user,
                        password_env="TEST_IMAP_PASSWORD", poll_seconds=2),
        smtp=SmtpConfig(host="127.0.0.1", port=smtp_port, tls="none") if smtp_port else None,
    )


def _agent(dovecot, user: str) -> IMAPClient:  # type: ignore[no-untyped-def]
    c = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False, timeout=10)
    c.login(user, "secret")
    return c


def _folder(agent: IMAPClient, folder: str) -> dict[int, bytes]:
    agent.select_folder(folder)
    uids = agent.search("ALL")
    return {u: d[b"BODY[]"] for u, d in agent.fetch(uids, ["BODY.PEEK[]"]).items()} if uids else {}


async def test_imap_slice_sends_exactly_the_approved_edit(dovecot, mailuser, smtp_server, tmp_path: Path,
                                                          monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "secret")
    controller, recorder = smtp_server
    config = _imap_config(dovecot, mailuser, f"sqlite:///{tmp_path / 'db.sqlite'}", controller.port)
    complaint = sample_complaint(SUPPORT)
    daemon = Daemon(config)
    await daemon.start()
    try:
        dovecot.deliver(mailuser, complaint)
        agent = _agent(dovecot, mailuser)
        drafts = await until(lambda: _folder(agent, "Review"), what="a draft in Review")
        (uid, draft), = drafts.items()
        edited = draft.replace(b"Please let us know", b"Agent edit: please let us know")
        agent.append("Approved", edited)
        agent.select_folder("Review")
        agent.delete_messages([uid])
        agent.expunge()
        await until(lambda: recorder.messages, what="the SMTP server to receive the reply")
        await until(lambda: _folder(agent, "Sent"), what="a copy in Sent")
        dovecot.deliver(mailuser, complaint)
        await until(lambda: _count(daemon, InboundMessage) == 2, what="the duplicate to be recorded")
    finally:
        await daemon.stop()
    assert len(recorder.messages) == 1
    sent = email.message_from_bytes(recorder.messages[0].data, policy=email.policy.default)
    original = email.message_from_bytes(complaint, policy=email.policy.default)
    assert "Agent edit: please let us know" in sent.get_body(preferencelist=("plain",)).get_content()
    assert sent["In-Reply-To"] == original["Message-ID"]
    assert original["Message-ID"] in sent["References"]
    assert sent["Auto-Submitted"] == "auto-replied"
    assert re.fullmatch(r"Re: .+ \[#C-1-[0-9a-f]{8}\]", str(sent["Subject"]).strip())
    assert str(original["Subject"]) not in str(sent["Subject"])
    assert "X-Inbox-Agent-Intent" not in sent
    assert recorder.messages[0].recipients == ["jamie.customer@example.org"]
    assert _count_where(config, Case) == 1


async def test_daemon_restarted_between_steps_gives_one_case_one_draft_one_send(
        dovecot, mailuser, smtp_server, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "secret")
    controller, recorder = smtp_server
    config = _imap_config(dovecot, mailuser, f"sqlite:///{tmp_path / 'db.sqlite'}", controller.port)
    complaint = sample_complaint(SUPPORT)
    agent = _agent(dovecot, mailuser)
    for step in range(3):
        daemon = Daemon(config)
        await daemon.start()
        try:
            if step == 0:
                dovecot.deliver(mailuser, complaint)
                dovecot.deliver(mailuser, complaint)
                await until(lambda: _folder(agent, "Review"), what="a draft")
            elif step == 1:
                (uid, draft), = _folder(agent, "Review").items()
                agent.move([uid], "Approved")
                await until(lambda: recorder.messages, what="the send")
            else:
                dovecot.deliver(mailuser, complaint)
                await until(partial(_count_is, daemon, InboundMessage, 3), what="the third copy")
        finally:
            await daemon.stop()
    assert len(recorder.messages) == 1
    assert len(_folder(agent, "Review")) == 0
    assert _count_where(config, Case) == 1
    assert _count_where(config, Intent, kind="reply") == 1


async def test_maildir_slice_on_sqlite_and_postgresql(tmp_path: Path, database_url: str) -> None:
    config = Config(store=StoreConfig(support_address=SUPPORT),
                    database=DatabaseConfig(url=database_url),
                    maildir=MaildirConfig(path=str(tmp_path / "mail"), poll_seconds=0.05))
    daemon = Daemon(config)
    box = daemon.mailbox
    assert isinstance(box, MaildirBackend)
    await daemon.start()
    try:
        box.append("INBOX", b"From: x@example.org\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n--zz")
        box.append("INBOX", b"")
        box.append("INBOX", sample_complaint(SUPPORT))
        drafts = await until(lambda: box.all_messages("Review"), what="a draft")
        box.delete("Review", [drafts[0].uid])
        box.append("Approved", drafts[0].raw.replace(b"Please let us know", b"Edited: let us know"))
        sent = await until(lambda: box.all_messages("Sent"), what="the reply in Sent")
    finally:
        await daemon.stop()
    assert len(sent) == 1 and b"Edited: let us know" in sent[0].raw
    kit = email.message_from_bytes(sent[0].raw, policy=email.policy.default)
    assert [p.get_content_type() for p in kit.walk()][-1] == "image/png"
    with daemon.db.transaction() as s:
        shunted = list(s.scalars(select(InboundMessage).where(InboundMessage.status == "SHUNTED")))
    assert [m.error for m in shunted] == ["empty message"]


def _count_is(daemon: Daemon, table: type, expected: int) -> bool:
    return _count(daemon, table) == expected


def _count(daemon: Daemon, table: type) -> int:
    with daemon.db.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def _count_where(config: Config, table: type, **where: str) -> int:
    from inbox_agent.store.database import Database

    db = Database(config.database.url)
    with db.transaction() as s:
        query = select(func.count()).select_from(table)
        for k, v in where.items():
            query = query.where(getattr(table, k) == v)
        return int(s.scalar(query) or 0)


async def test_automatic_replies_are_capped_per_address_per_day(tmp_path: Path) -> None:
    config = Config(store=StoreConfig(support_address=SUPPORT),
                    database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'db.sqlite'}"),
                    maildir=MaildirConfig(path=str(tmp_path / "mail"), poll_seconds=0.05),
                    replies=RepliesConfig(mode="auto", max_auto_per_sender_per_day=1))
    daemon = Daemon(config)
    box = daemon.mailbox
    assert isinstance(box, MaildirBackend)
    await daemon.start()
    try:
        box.append("INBOX", sample_complaint(SUPPORT))
        await until(lambda: box.all_messages("Sent"), what="the first automatic reply")
        second = sample_complaint(SUPPORT, number="YT2506321874502931").replace(b"#1043", b"#2088")
        box.append("INBOX", second)
        held = await until(lambda: box.all_messages("Review"), what="the second reply held for a person")
    finally:
        await daemon.stop()
    assert len(box.all_messages("Sent")) == 1 and len(held) == 1


async def test_no_supplier_address_hands_the_case_to_a_person(tmp_path: Path) -> None:
    config = Config(store=StoreConfig(support_address=SUPPORT),
                    database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'db.sqlite'}"),
                    maildir=MaildirConfig(path=str(tmp_path / "mail"), poll_seconds=0.05),
                    replies=RepliesConfig(mode="auto"))
    daemon = Daemon(config)
    box = daemon.mailbox
    assert isinstance(box, MaildirBackend)
    await daemon.start()
    try:
        complaint = sample_complaint(SUPPORT)
        box.append("INBOX", complaint)
        await until(lambda: box.all_messages("Sent"), what="the kit")
        await until(lambda: _state(daemon) == "awaiting_customer", what="the kit recorded as sent")
        again = complaint.replace(b"Message-ID: <", b"Message-ID: <again-").replace(
            b"Nothing in my mailbox or on the porch.", b"Still nothing, I have not received the parcel.")
        box.append("INBOX", again)
        notes = await until(lambda: box.all_messages("Needs attention"), what="a note for a person")
    finally:
        await daemon.stop()
    assert _state(daemon) == "needs_attention"
    assert b"supplier_dnr_request was not sent" in notes[0].raw
    assert len(box.all_messages("Sent")) == 1, "the customer is not told the supplier was contacted"


def _state(daemon: Daemon) -> str:
    with daemon.db.transaction() as s:
        case = s.get(Case, 1)
        return case.state if case else ""
