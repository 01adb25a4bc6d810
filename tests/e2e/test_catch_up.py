"""A daemon started on a mailbox with a backlog says how far it is: without a terminal, a log line
every `PROGRESS_EVERY` messages with done/total and the rate, and one when it has caught up.

A real `inbox-agent run --since` (its output to a file, so no terminal) over a real Dovecot
INBOX holding a few dozen older mails.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from imapclient import IMAPClient

from inbox_agent.progress import PROGRESS_EVERY
from inbox_agent.samples import sample_complaint
from tests.support.dovecot import Dovecot
from tests.support.wait import until

SUPPORT = "support@store.example"
BACKLOG = 2 * PROGRESS_EVERY + 10


async def test_catching_up_logs_its_progress_every_n_messages(tmp_path: Path, dovecot: Dovecot,
                                                              mailuser: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"""
[store]
support_address = "{SUPPORT}"
[database]
url = "sqlite:///{tmp_path / 'db.sqlite'}"
[imap]
host = "127.0.0.1"
port = {dovecot.port}
tls = "none"
username = "{mailuser}"
password_env = "TEST_IMAP_PASSWORD"
""")
    agent = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False, timeout=10)
    agent.login(mailuser, "secret")
    for i in range(BACKLOG):
        agent.append("INBOX", sample_complaint(SUPPORT, sender=f"old{i}@example.org"))
    agent.logout()
    log = tmp_path / "run.log"
    with log.open("ab") as out:
        daemon = subprocess.Popen([sys.executable, "-m", "inbox_agent.cli", "run", "--config", str(config),
                                   "--since", f"{datetime.now(UTC):%Y-%m-%d}"], cwd=tmp_path, stdout=out,
                                  stderr=subprocess.STDOUT, env={**os.environ, "TEST_IMAP_PASSWORD": "secret"})
    try:
        await until(lambda: "caught up" in log.read_text(), timeout=120, what="the backlog read")
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
    lines = re.findall(r"ingest: INBOX: (catching up|caught up), (\d+)/(\d+) .*\((\d+\.\d)/s\)", log.read_text())
    assert [(kind, int(done), int(total)) for kind, done, total, _ in lines] == [
        ("catching up", PROGRESS_EVERY, BACKLOG), ("catching up", 2 * PROGRESS_EVERY, BACKLOG),
        ("caught up", BACKLOG, BACKLOG)]
    assert all(float(rate) > 0 for *_, rate in lines)
