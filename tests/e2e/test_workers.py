"""Two workers on one PostgreSQL and one mailbox: one draft per complaint, whatever happens.

Both are real `inbox-agent run --worker NAME` processes over a real Dovecot, started at the same
instant on an empty database (the schema race). The leader of INBOX is SIGKILLed mid-run: the
other takes the folders over and the claims of the dead one come back; mail that arrives after
the kill is still answered. At the end every complaint has exactly one case, one reply intent and
one draft in Review.
"""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from imapclient import IMAPClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from inbox_agent.samples import sample_complaint
from inbox_agent.store.tables import Case, Intent
from tests.conftest import POSTGRES_URL
from tests.support.dovecot import Dovecot
from tests.support.wait import until

SUPPORT = "support@store.example"
FIRST, LATER = 16, 4


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    schema = f"workers_{os.getpid()}"
    engine = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        c.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with engine.begin() as c:
        c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


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


def _start(config: Path, name: str, tmp: Path) -> subprocess.Popen[bytes]:
    log = (tmp / f"{name}.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "inbox_agent.cli", "run", "--config", str(config), "--worker", name],
                            cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "TEST_IMAP_PASSWORD": "secret"})


def _leader(tmp: Path) -> str | None:
    for name in ("worker-1", "worker-2"):
        log = tmp / f"{name}.log"
        if log.exists() and "leading INBOX" in log.read_text():
            return name
    return None


async def test_two_workers_and_a_sigkill_make_one_draft_per_complaint(
        tmp_path: Path, dovecot: Dovecot, mailuser: str, postgres_schema: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"""
[store]
support_address = "{SUPPORT}"
[database]
url = "{postgres_schema}"
[imap]
host = "127.0.0.1"
port = {dovecot.port}
tls = "none"
username = "{mailuser}"
password_env = "TEST_IMAP_PASSWORD"
poll_seconds = 1
""")
    agent = _agent(dovecot, mailuser)
    for i in range(FIRST):
        agent.append("INBOX", sample_complaint(SUPPORT, sender=f"customer{i}@example.org"))
    workers = {name: _start(config, name, tmp_path) for name in ("worker-1", "worker-2")}
    try:
        leader = await until(lambda: _leader(tmp_path), timeout=30, what="a leader of INBOX")
        await until(lambda: len(_review_ids(dovecot, mailuser)) >= 2, timeout=60, what="the first drafts")
        workers[leader].send_signal(signal.SIGKILL)
        workers[leader].wait(timeout=10)
        survivor = "worker-2" if leader == "worker-1" else "worker-1"
        await until(lambda: "leading INBOX" in (tmp_path / f"{survivor}.log").read_text(), timeout=15,
                    what=f"{survivor} taking over INBOX")
        for i in range(FIRST, FIRST + LATER):
            agent.append("INBOX", sample_complaint(SUPPORT, sender=f"customer{i}@example.org"))
        workers[leader] = _start(config, leader, tmp_path)  # back under its name: takes its claims back
        drafts = await until(lambda: (ids := _review_ids(dovecot, mailuser)) and len(ids) >= FIRST + LATER and ids,
                             timeout=120, what="a draft per complaint")
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
    engine = create_engine(postgres_schema.replace("postgresql://", "postgresql+psycopg://"))
    with Session(engine) as s:
        customers = Counter(s.scalars(select(Case.customer)))
        replies = Counter(s.scalars(select(Intent.case_id).where(Intent.kind == "reply")))
    engine.dispose()
    assert len(customers) == FIRST + LATER and set(customers.values()) == {1}
    assert len(replies) == FIRST + LATER and set(replies.values()) == {1}
