"""Two workers on one PostgreSQL and one mailbox: one draft per complaint, whatever happens.

Both are real `inbox-agent run --worker NAME` processes over a real Dovecot, started at the same
instant on an empty database (the schema race). The leader of INBOX is SIGKILLed mid-run: the
other takes the folders over and the claims of the dead one come back; mail that arrives after
the kill is still answered. Every complaint has exactly one case, one reply intent and one draft
in Review. Then the agent approves them all and a worker is SIGKILLed while they are sent: each
reply reaches the SMTP server at most once, and every one ends SENT or UNCERTAIN (for a person).
"""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from aiosmtpd.controller import Controller
from imapclient import IMAPClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from inbox_agent.samples import sample_complaint
from inbox_agent.store.tables import Case, Intent
from tests.support.dovecot import Dovecot
from tests.support.smtp import RecordingHandler
from tests.support.wait import until

SUPPORT = "support@store.example"
FIRST, LATER = 16, 4


def _parcel(i: int) -> str:
    """Customer i's own USPS S10 number (check digit by the UPU rule): a number of another
    customer's case would be left for people."""
    serial = f"{30918264 + i:08d}"
    check = 11 - sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True)) % 11
    return f"LZ{serial}{ {10: 0, 11: 5}.get(check, check)}US"


def _agent(dovecot: Dovecot, user: str) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False, timeout=10)
    client.login(user, "secret")
    return client


def _review_ids(dovecot: Dovecot, user: str) -> list[str]:
    client = _agent(dovecot, user)
    try:
        if not client.folder_exists("Review"):
            return []
        client.select_folder("Review", readonly=True)
        fetched = client.fetch(client.search("ALL"), ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        return [email.message_from_bytes(d[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"])["Message-ID"] for d in fetched.values()]
    finally:
        client.logout()


def _start(config: Path, name: str, tmp: Path, launched: Counter[str]) -> subprocess.Popen[bytes]:
    launched[name] += 1
    log = (tmp / f"{name}.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "inbox_agent.cli", "run", "--config", str(config), "--worker", name],
                            cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "TEST_IMAP_PASSWORD": "secret"})


def _starts(tmp: Path, name: str) -> int:
    return (tmp / f"{name}.log").read_text().count(f"{name}: started")


def _leader(tmp: Path) -> str | None:
    for name in ("worker-1", "worker-2"):
        log = tmp / f"{name}.log"
        if log.exists() and "leading INBOX" in log.read_text():
            return name
    return None


def _approve_all(agent: IMAPClient) -> None:
    agent.select_folder("Review")
    uids = agent.search("ALL")
    agent.copy(uids, "Approved")
    agent.delete_messages(uids)
    agent.expunge()


def _settled(url: str) -> bool:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with Session(engine) as s:
            statuses = list(s.scalars(select(Intent.status).where(Intent.kind == "reply")))
    finally:
        engine.dispose()
    return len(statuses) == FIRST + LATER and all(status in ("SENT", "UNCERTAIN") for status in statuses)


async def test_two_workers_and_sigkills_make_one_draft_and_one_send_per_complaint(
        tmp_path: Path, dovecot: Dovecot, mailuser: str, postgres_url: str,
        smtp_server: tuple[Controller, RecordingHandler]) -> None:
    controller, recorder = smtp_server
    config = tmp_path / "config.toml"
    config.write_text(f"""
[store]
support_address = "{SUPPORT}"
[database]
url = "{postgres_url}"
[imap]
host = "127.0.0.1"
port = {dovecot.port}
tls = "none"
username = "{mailuser}"
password_env = "TEST_IMAP_PASSWORD"
poll_seconds = 1
since = "2000-01-01"
[smtp]
host = "127.0.0.1"
port = {controller.port}
tls = "none"
""")
    launched: Counter[str] = Counter()
    agent = _agent(dovecot, mailuser)
    for i in range(FIRST):
        agent.append("INBOX", sample_complaint(SUPPORT, sender=f"customer{i}@example.org", number=_parcel(i)))
    workers = {name: _start(config, name, tmp_path, launched) for name in ("worker-1", "worker-2")}
    try:
        leader = await until(lambda: _leader(tmp_path), timeout=30, what="a leader of INBOX")
        await until(lambda: len(_review_ids(dovecot, mailuser)) >= 2, timeout=60, what="the first drafts")
        workers[leader].send_signal(signal.SIGKILL)
        workers[leader].wait(timeout=10)
        survivor = "worker-2" if leader == "worker-1" else "worker-1"
        await until(lambda: "leading INBOX" in (tmp_path / f"{survivor}.log").read_text(), timeout=15,
                    what=f"{survivor} taking over INBOX")
        for i in range(FIRST, FIRST + LATER):
            agent.append("INBOX", sample_complaint(SUPPORT, sender=f"customer{i}@example.org", number=_parcel(i)))
        workers[leader] = _start(config, leader, tmp_path, launched)  # back under its name: takes its claims back
        drafts = await until(lambda: (ids := _review_ids(dovecot, mailuser)) and len(ids) >= FIRST + LATER and ids,
                             timeout=120, what="a draft per complaint")
        _approve_all(agent)
        await until(lambda: recorder.messages, timeout=60, what="the first send")
        workers["worker-2"].send_signal(signal.SIGKILL)
        workers["worker-2"].wait(timeout=10)
        workers["worker-2"] = _start(config, "worker-2", tmp_path, launched)
        await until(lambda: _settled(postgres_url), timeout=120, what="every approved reply settled")
        for name in workers:
            await until(lambda name=name: _starts(tmp_path, name) == launched[name], timeout=60, what=f"{name} up")
        for process in workers.values():
            process.send_signal(signal.SIGTERM)
        assert all(process.wait(timeout=30) == 0 for process in workers.values())
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.kill()
        agent.logout()
    copies = Counter(drafts)
    assert len(copies) == FIRST + LATER and set(copies.values()) == {1}, copies
    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with Session(engine) as s:
        customers = Counter(s.scalars(select(Case.customer)))
        replies = Counter(s.scalars(select(Intent.case_id).where(Intent.kind == "reply")))
    assert len(customers) == FIRST + LATER and set(customers.values()) == {1}
    assert len(replies) == FIRST + LATER and set(replies.values()) == {1}
    delivered = Counter(email.message_from_bytes(m.data)["Message-ID"] for m in recorder.messages)
    assert set(delivered.values()) == {1}, delivered
    with Session(engine) as s:
        sent = set(s.scalars(select(Intent.message_id).where(Intent.status == "SENT")))
    engine.dispose()
    assert sent <= set(delivered) and len(sent) >= FIRST + LATER - 2
