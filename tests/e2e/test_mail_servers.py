"""Mail servers as real providers run them, each a real Dovecot configured to answer that way: the
server down at start, a private CA, cPanel/Courier's `INBOX.` namespace, a server without custom
keywords, UIDPLUS or MOVE; and Maildir folder names Dovecot can open."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from imapclient import IMAPClient
from sqlalchemy import func, select

from inbox_agent.app import Daemon
from inbox_agent.config import Config, DatabaseConfig, ImapConfig, StoreConfig
from inbox_agent.mailbox.maildir import MaildirBackend
from inbox_agent.samples import sample_complaint
from inbox_agent.store.tables import InboundMessage
from tests.support.dovecot import Dovecot, free_port
from tests.support.wait import until

SUPPORT = "support@store.example"
USER = "test-servers@example.test"


def _config(port: int, tmp: Path, **imap: object) -> Config:
    settings: dict[str, object] = {"tls": "none", **imap}
    return Config(store=StoreConfig(support_address=SUPPORT),
                  database=DatabaseConfig(url=f"sqlite:///{tmp / 'db.sqlite'}"),
                  imap=ImapConfig(host="127.0.0.1", port=port, username=USER, password_env="TEST_IMAP_PASSWORD",
                                  poll_seconds=2, **settings))  # type: ignore[arg-type]


def _agent(server: Dovecot) -> IMAPClient:
    c = IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=10)
    c.login(USER, "secret")
    return c


def _messages(server: Dovecot, folder: str) -> int:
    agent = _agent(server)
    try:
        return int(agent.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"]) if agent.folder_exists(folder) else 0
    finally:
        agent.logout()


@pytest.fixture
def servers() -> Iterator[list[Dovecot]]:
    started: list[Dovecot] = []
    yield started
    for server in started:
        server.stop()


async def test_start_with_the_server_down_recovers(servers: list[Dovecot], tmp_path: Path, monkeypatch,
                                                   caplog) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "secret")
    caplog.set_level(logging.INFO, logger="inbox_agent")
    port = free_port()
    daemon = Daemon(_config(port, tmp_path))
    await daemon.start()  # nothing listens: no exception, one line, retried in the background
    try:
        await until(lambda: "mailbox not ready" in caplog.text, what="the warning")
        servers.append(Dovecot.start(port=port))
        await until(lambda: "mailbox ready" in caplog.text, what="the daemon to connect")
        servers[0].deliver(USER, sample_complaint(SUPPORT))
        await until(lambda: _messages(servers[0], "Review") == 1, what="the draft")
    finally:
        await daemon.stop()
    warnings = [r for r in caplog.records if "mailbox not ready" in r.getMessage()]
    assert warnings and all(r.exc_info is None and "\n" not in r.getMessage() for r in warnings)
    assert "Connection refused" in warnings[0].getMessage() or "refused" in warnings[0].getMessage()


async def test_a_private_ca_is_trusted_through_ca_file(servers: list[Dovecot], tmp_path: Path, monkeypatch,
                                                       caplog) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "secret")
    caplog.set_level(logging.INFO, logger="inbox_agent")
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1")
    cert, key, ca_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    server = Dovecot.start(cert=(cert, key))
    servers.append(server)
    untrusted = Daemon(_config(server.tls_port, tmp_path / "a", tls="implicit"))
    await untrusted.start()
    await untrusted.stop()
    line = next(r.getMessage() for r in caplog.records if "mailbox not ready" in r.getMessage())
    assert "certificate not trusted" in line and "ca_file" in line
    daemon = Daemon(_config(server.tls_port, tmp_path / "b", tls="implicit", ca_file=str(ca_file)))
    await daemon.start()
    try:
        server.deliver(USER, sample_complaint(SUPPORT))
        await until(lambda: _messages(server, "Review") == 1, what="the draft over TLS")
    finally:
        await daemon.stop()


async def test_cpanel_namespace_prefix_is_found(servers: list[Dovecot], tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "secret")
    server = Dovecot.start(prefix="INBOX.", separator=".")
    servers.append(server)
    daemon = Daemon(_config(server.port, tmp_path))
    await daemon.start()
    try:
        server.deliver(USER, sample_complaint(SUPPORT))
        await until(lambda: _messages(server, "INBOX.Review") == 1, what="the draft in INBOX.Review")
        agent = _agent(server)
        folders = {name for _, _, name in agent.list_folders()}
        agent.logout()
    finally:
        await daemon.stop()
    assert {"INBOX.Review", "INBOX.Approved", "INBOX.Rejected", "INBOX.Sent", "INBOX.Needs attention"} <= folders


async def test_a_server_without_keywords_uidplus_or_move(servers: list[Dovecot], tmp_path: Path,
                                                         monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "secret")
    server = Dovecot.start(extra="mail_max_keyword_length = 1\nimap_capability = IMAP4rev1 IDLE NAMESPACE LITERAL+\n")
    servers.append(server)
    agent = _agent(server)
    agent.create_folder("Approved")
    agent.append("Approved", b"Subject: the agent's own note\r\n\r\nkept until the agent expunges it\r\n")
    agent.select_folder("Approved")
    agent.delete_messages(agent.search("ALL"))  # flagged \\Deleted by the agent, not expunged
    config = _config(server.port, tmp_path)
    for _ in range(2):  # a restart reads nothing twice: the database is the record
        daemon = Daemon(config)
        await daemon.start()
        try:
            if _messages(server, "INBOX") == 0:
                server.deliver(USER, sample_complaint(SUPPORT))
                await until(lambda: _messages(server, "Review") == 1, what="the draft")
                agent.select_folder("Review")
                agent.copy(agent.search("ALL"), "Approved")
                await until(lambda: _messages(server, "Sent") == 1, what="the approved draft in Sent")
            else:
                server.deliver(USER, sample_complaint(SUPPORT, sender="second@example.org", number="YT2506321874502931"))
                await until(lambda: _messages(server, "Review") == 2, what="a draft for the second complaint")
        finally:
            await daemon.stop()
    agent.select_folder("Approved")
    assert len(agent.search("ALL")) == 2, "nothing expunged: the agent's message and ours are both still there"
    assert agent.search(["SUBJECT", "the agent's own note"])
    agent.logout()
    with daemon.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 2


async def test_maildir_folder_names_are_the_ones_dovecot_reads(dovecot: Dovecot, mailuser: str) -> None:
    root = dovecot.root / "mail" / mailuser.split("@")[1] / mailuser.split("@")[0] / "Maildir"
    box = MaildirBackend(root)
    box.append("Nécessite attention", sample_complaint(SUPPORT))
    for path in [root, *root.rglob("*")]:
        os.chown(path, 65534, 65534)
    agent = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False, timeout=10)
    agent.login(mailuser, "secret")
    try:
        assert agent.folder_status("Nécessite attention", [b"MESSAGES"])[b"MESSAGES"] == 1
    finally:
        agent.logout()


async def test_a_wrong_tls_and_port_pairing_is_one_clear_line(dovecot: Dovecot, tmp_path: Path, monkeypatch,
                                                             caplog) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "secret")
    caplog.set_level(logging.INFO, logger="inbox_agent")
    daemon = Daemon(_config(dovecot.port, tmp_path, tls="implicit"))  # implicit TLS on the plain IMAP port
    await daemon.start()
    await daemon.stop()
    line = next(r for r in caplog.records if "mailbox not ready" in r.getMessage())
    assert "TLS failed" in line.getMessage() and f"fit port {dovecot.port}" in line.getMessage()
    assert line.exc_info is None
