"""The first start on a mailbox that already holds mail answers none of it (issue: old complaints got
emails in auto mode); `since` backfills explicitly, as drafts only. Real Dovecot and Maildir."""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from imapclient import IMAPClient

from inbox_agent.app import Daemon
from inbox_agent.config import Config, DatabaseConfig, ImapConfig, MaildirConfig, RepliesConfig, SmtpConfig, StoreConfig
from inbox_agent.mailbox.maildir import MaildirBackend
from inbox_agent.samples import sample_complaint
from tests.support.wait import until

SUPPORT = "support@store.example"
OLD = [("old.one@example.org", "LP00612849305172"), ("old.two@example.org", "YT2506321874502931")]
NEW = "fresh.customer@example.org"
NEW_NUMBER = "LZ309182649US"  # a parcel of its own (another customer's number would be left for people)


def _imap(dovecot, user: str, tmp: Path, smtp_port: int, **imap: object) -> Config:  # type: ignore[no-untyped-def]
    return Config(store=StoreConfig(support_address=SUPPORT),
                  database=DatabaseConfig(url=f"sqlite:///{tmp / 'db.sqlite'}"),
                  imap=ImapConfig(host="127.0.0.1", port=dovecot.port, tls="none", username=user,
                                  password_env="TEST_IMAP_PASSWORD", poll_seconds=2, **imap),  # type: ignore[arg-type]
                  smtp=SmtpConfig(host="127.0.0.1", port=smtp_port, tls="none"),
                  replies=RepliesConfig(mode="auto"))


def _count(dovecot, user: str, folder: str) -> int:  # type: ignore[no-untyped-def]
    c = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False, timeout=10)
    try:
        c.login(user, "secret")
        return int(c.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"]) if c.folder_exists(folder) else 0
    finally:
        c.logout()


async def test_first_start_in_auto_mode_leaves_old_imap_mail_alone(dovecot, mailuser, smtp_server, tmp_path: Path,
                                                                  monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "secret")
    caplog.set_level(logging.INFO, logger="inbox_agent")
    controller, recorder = smtp_server
    for sender, number in OLD:
        dovecot.deliver(mailuser, sample_complaint(SUPPORT, sender=sender, number=number))
    config = _imap(dovecot, mailuser, tmp_path, controller.port)
    daemon = Daemon(config)
    await daemon.start()
    try:
        dovecot.deliver(mailuser, sample_complaint(SUPPORT, sender=NEW, number=NEW_NUMBER))
        await until(lambda: recorder.messages, what="the reply to the new complaint")
    finally:
        await daemon.stop()
    daemon = Daemon(config)  # a restart does not change the start point
    await daemon.start()
    await daemon.stop()
    assert [m.recipients for m in recorder.messages] == [[NEW]]
    assert _count(dovecot, mailuser, "INBOX") == 3, "old mail stays where it was"
    assert "first start on INBOX: 2 older messages left alone" in caplog.text
    assert "INBOX: 2 older messages left alone" in caplog.text.split("first start", 1)[1]


async def test_since_backfills_old_imap_mail_as_drafts_only(dovecot, mailuser, smtp_server, tmp_path: Path,
                                                           monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "secret")
    controller, recorder = smtp_server
    dovecot.deliver(mailuser, sample_complaint(SUPPORT, sender=OLD[0][0], number=OLD[0][1]))
    config = _imap(dovecot, mailuser, tmp_path, controller.port, since=datetime.now(UTC).date())
    daemon = Daemon(config)
    await daemon.start()
    try:
        await until(lambda: _count(dovecot, mailuser, "Review") == 1, what="a draft for the backfilled complaint")
        dovecot.deliver(mailuser, sample_complaint(SUPPORT, sender=NEW, number=NEW_NUMBER))
        await until(lambda: recorder.messages, what="the automatic reply to the new complaint")
    finally:
        await daemon.stop()
    assert [m.recipients for m in recorder.messages] == [[NEW]], "a backfilled complaint is never answered in auto mode"


@pytest.mark.parametrize("backfill", [False, True])
async def test_maildir_first_start_and_backfill(tmp_path: Path, backfill: bool) -> None:
    box = MaildirBackend(tmp_path / "mail")
    hour_ago = time.time() - 3600
    for sender, number in OLD:
        key = box.append("INBOX", sample_complaint(SUPPORT, sender=sender, number=number))
        assert key is not None
        path = next((tmp_path / "mail").glob(f"*/{key}*"))
        os.utime(path, (hour_ago, hour_ago))
    config = Config(store=StoreConfig(support_address=SUPPORT),
                    database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'db.sqlite'}"),
                    maildir=MaildirConfig(path=str(tmp_path / "mail"), poll_seconds=0.05,
                                          since=datetime.fromtimestamp(hour_ago, UTC).date() if backfill else None),
                    replies=RepliesConfig(mode="auto"))
    daemon = Daemon(config)
    mailbox = daemon.mailbox
    await daemon.start()
    try:
        mailbox.append("INBOX", sample_complaint(SUPPORT, sender=NEW, number=NEW_NUMBER))
        await until(lambda: mailbox.all_messages("Sent"), what="the automatic reply to the new complaint")
        if backfill:
            await until(lambda: len(mailbox.all_messages("Review")) == 2, what="drafts for the backfilled mail")
    finally:
        await daemon.stop()
    sent = mailbox.all_messages("Sent")
    assert len(sent) == 1 and NEW.encode() in sent[0].raw
    assert len(mailbox.all_messages("Review")) == (2 if backfill else 0)
