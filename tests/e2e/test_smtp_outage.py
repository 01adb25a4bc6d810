"""SMTP failures: an outage (connection refused, then a 451) ends in exactly one delivery once the
server is back; a failure before DATA is never UNCERTAIN; every outcome is one log line naming the
case and the recipient. The clock is injected: the test moves it past each backoff."""

from __future__ import annotations

import logging
import ssl
from datetime import timedelta
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from sqlalchemy import select

from inbox_agent.app import Daemon
from inbox_agent.config import Config, DatabaseConfig, MaildirConfig, SmtpConfig, StoreConfig
from inbox_agent.samples import sample_complaint
from inbox_agent.store.tables import Intent
from tests.support.dovecot import free_port
from tests.support.scenario import Clock
from tests.support.smtp import RecordingHandler
from tests.support.wait import until

SUPPORT = "support@store.example"
CUSTOMER = "jamie.customer@example.org"


def _reply(daemon: Daemon) -> Intent:
    with daemon.db.transaction() as s:
        intent = s.scalars(select(Intent).where(Intent.kind == "reply")).one()
        s.expunge(intent)
        return intent


async def _failed_attempt(daemon: Daemon, attempts: int, error: str) -> None:
    def reached() -> bool:
        intent = _reply(daemon)
        return intent.attempts == attempts and intent.status == "APPROVED" and error in (intent.last_error or "")

    await until(reached, what=f"attempt {attempts} failing with {error!r}")


async def test_an_smtp_outage_ends_in_exactly_one_delivery(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="inbox_agent")
    port = free_port()
    clock = Clock()
    config = Config(store=StoreConfig(support_address=SUPPORT),
                    database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'db.sqlite'}"),
                    maildir=MaildirConfig(path=str(tmp_path / "mail"), poll_seconds=0.05),
                    smtp=SmtpConfig(host="127.0.0.1", port=port, tls="none", timeout_seconds=5))
    recorder = RecordingHandler(answer="451 4.3.0 Temporary local problem, try again")
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    daemon = Daemon(config, clock=clock)
    box = daemon.mailbox
    await daemon.start()
    try:
        box.append("INBOX", sample_complaint(SUPPORT))
        (draft,) = await until(lambda: box.all_messages("Review"), what="the draft")
        box.append("Approved", draft.raw)
        box.delete("Review", [draft.uid])
        await _failed_attempt(daemon, 1, "not reachable")  # the server is down: connection refused
        assert _reply(daemon).claimed_until is not None
        controller.start()  # back, but answering 451 at the end of DATA
        clock.now += timedelta(seconds=30)
        daemon.kick("send")
        await _failed_attempt(daemon, 2, "SMTP 451")
        recorder.answer = None  # the outage is over
        clock.now += timedelta(seconds=60)
        daemon.kick("send")
        await until(lambda: _reply(daemon).status == "SENT", what="the reply sent")
        await until(lambda: box.all_messages("Sent"), what="the copy in Sent")
    finally:
        await daemon.stop()
        controller.stop()
    assert len(recorder.messages) == 1 and recorder.messages[0].recipients == [CUSTOMER]
    outcomes = [r.getMessage() for r in caplog.records if r.getMessage().startswith("send: case 1 intent")]
    assert len(outcomes) == 3 and all(CUSTOMER in line for line in outcomes), outcomes
    assert outcomes[0].endswith("retrying in 30 s") and "SMTP 451" in outcomes[1] and outcomes[2].endswith(": SENT")


@pytest.mark.parametrize("tls, status, error", [
    ("starttls", "APPROVED", "STARTTLS"),  # the server cannot do STARTTLS: nothing left, tried again later
    ("none", "FAILED", "SMTP 554"),  # refused for good: FAILED at once, never UNCERTAIN
])
async def test_failures_before_or_at_data_are_never_uncertain(tmp_path: Path, smtp_server, tls: str, status: str,
                                                              error: str) -> None:  # type: ignore[no-untyped-def]
    controller, recorder = smtp_server
    recorder.answer = "554 5.7.1 Message rejected"
    config = Config(store=StoreConfig(support_address=SUPPORT),
                    database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'db.sqlite'}"),
                    maildir=MaildirConfig(path=str(tmp_path / "mail"), poll_seconds=0.05),
                    smtp=SmtpConfig(host="127.0.0.1", port=controller.port, tls=tls, timeout_seconds=5))  # type: ignore[arg-type]
    daemon = Daemon(config, clock=Clock())
    box = daemon.mailbox
    await daemon.start()
    try:
        box.append("INBOX", sample_complaint(SUPPORT))
        (draft,) = await until(lambda: box.all_messages("Review"), what="the draft")
        box.append("Approved", draft.raw)
        box.delete("Review", [draft.uid])
        await until(lambda: _reply(daemon).attempts == 1 and _reply(daemon).status != "SENDING", what="one attempt")
    finally:
        await daemon.stop()
    intent = _reply(daemon)
    assert intent.status == status and error in (intent.last_error or ""), (intent.status, intent.last_error)
    assert recorder.messages == []


async def test_starttls_with_an_untrusted_certificate_is_not_uncertain_and_ca_file_fixes_it(tmp_path: Path) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    recorder = RecordingHandler()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), tls_context=server_context,
                            require_starttls=True)
    controller.start()
    try:
        for trusted in (False, True):
            config = Config(store=StoreConfig(support_address=SUPPORT),
                            database=DatabaseConfig(url=f"sqlite:///{tmp_path / f'db-{trusted}.sqlite'}"),
                            maildir=MaildirConfig(path=str(tmp_path / f"mail-{trusted}"), poll_seconds=0.05),
                            smtp=SmtpConfig(host="127.0.0.1", port=controller.port, tls="starttls", timeout_seconds=5,
                                            ca_file=str(ca_file) if trusted else None))
            daemon = Daemon(config, clock=Clock())
            box = daemon.mailbox
            await daemon.start()
            try:
                box.append("INBOX", sample_complaint(SUPPORT))
                (draft,) = await until(lambda: box.all_messages("Review"), what="the draft")  # noqa: B023
                box.append("Approved", draft.raw)
                box.delete("Review", [draft.uid])
                await until(lambda: _reply(daemon).attempts == 1 and _reply(daemon).status != "SENDING",  # noqa: B023
                            what="one attempt")
            finally:
                await daemon.stop()
            intent = _reply(daemon)
            if trusted:
                assert intent.status == "SENT" and len(recorder.messages) == 1
            else:
                assert intent.status == "APPROVED" and "certificate not trusted" in (intent.last_error or "")
                assert recorder.messages == []
    finally:
        controller.stop()


@pytest.mark.parametrize("smtputf8", [True, False])
async def test_a_non_ascii_recipient_needs_smtputf8(tmp_path: Path, smtputf8: bool) -> None:
    recorder = RecordingHandler()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=smtputf8)
    controller.start()
    config = Config(store=StoreConfig(support_address=SUPPORT),
                    database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'db.sqlite'}"),
                    maildir=MaildirConfig(path=str(tmp_path / "mail"), poll_seconds=0.05),
                    smtp=SmtpConfig(host="127.0.0.1", port=controller.port, tls="none", timeout_seconds=5))
    daemon = Daemon(config, clock=Clock())
    box = daemon.mailbox
    await daemon.start()
    try:
        box.append("INBOX", sample_complaint(SUPPORT))
        (draft,) = await until(lambda: box.all_messages("Review"), what="the draft")
        box.append("Approved", draft.raw.replace(b"To: jamie.customer@example.org",
                                                 "To: josé@example.org".encode()))
        box.delete("Review", [draft.uid])
        await until(lambda: _reply(daemon).status in ("SENT", "FAILED") or box.all_messages("Needs attention"),
                    what="an outcome")
    finally:
        await daemon.stop()
        controller.stop()
    if smtputf8:
        assert _reply(daemon).status == "SENT" and recorder.messages[0].recipients == ["josé@example.org"]
    else:
        intent = _reply(daemon)
        assert recorder.messages == [] and intent.status == "FAILED" and "SMTPUTF8" in (intent.last_error or "")
