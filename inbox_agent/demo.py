"""`inbox-agent demo`: the thin slice on a throwaway embedded setup, the agent played by us.

A complaint arrives by SMTP, a draft appears in Review, the "agent" edits and approves it, the
daemon sends it (into Sent), and the case timeline is printed. Exit 0 when all of it happened.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select

from inbox_agent.app import Daemon
from inbox_agent.config import Config, DatabaseConfig, MaildirConfig, StoreConfig
from inbox_agent.domain import OutboxStatus
from inbox_agent.mailbox.maildir import MaildirBackend
from inbox_agent.samples import sample_complaint
from inbox_agent.store.tables import Intent
from inbox_agent.timeline import case_timeline

T = TypeVar("T")


async def run_demo(echo: Callable[[str], None], timeout: float = 30.0) -> int:
    with tempfile.TemporaryDirectory(prefix="inbox-agent-demo-") as tmp:
        config = Config(
            store=StoreConfig(name="Demo Store", support_address="support@store.example"),
            database=DatabaseConfig(url=f"sqlite:///{Path(tmp) / 'demo.db'}"),
            maildir=MaildirConfig(path=str(Path(tmp) / "mail"), poll_seconds=0.05),
        )
        daemon = Daemon(config)
        mailbox = daemon.mailbox
        assert isinstance(mailbox, MaildirBackend)
        await daemon.start()
        try:
            echo(f"demo: throwaway setup in {tmp} (sample tracking data)")
            mailbox.append("INBOX", sample_complaint("support@store.example"))
            mailbox.notify()
            echo("demo: a customer complaint arrived in INBOX")
            drafts = await _wait(lambda: mailbox.all_messages("Review"), timeout)
            echo("demo: a draft reply is in Review; the agent edits it and moves it to Approved")
            edited = drafts[0].raw.replace(b"Please let us know", b"(Checked by Alex.) Please let us know")
            mailbox.delete("Review", [drafts[0].uid])
            mailbox.append("Approved", edited)
            await _wait(lambda: _sent(daemon), timeout)
            sent = mailbox.all_messages("Sent")
            echo(f"demo: sent {len(sent)} message(s); the agent's edit is in it: {b'Checked by Alex' in sent[0].raw}")
            await _wait(lambda: (case_timeline(daemon.db, 1) or {}).get("state") == "awaiting_customer", timeout)
            echo(json.dumps(case_timeline(daemon.db, 1), indent=2, ensure_ascii=False))
            return 0
        except TimeoutError as e:
            echo(f"demo failed: {e}")
            return 1
        finally:
            await daemon.stop()


def _sent(daemon: Daemon) -> bool:
    with daemon.db.transaction() as s:
        return s.scalar(select(Intent.id).where(Intent.kind == "reply", Intent.status == OutboxStatus.SENT)) is not None


async def _wait(condition: Callable[[], T], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await asyncio.to_thread(condition)
        if result:
            return result
        await asyncio.sleep(0.05)
    raise TimeoutError(f"condition not met within {timeout} s")
