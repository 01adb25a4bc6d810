"""Crash safety: the daemon killed with SIGKILL at several points of the flow, then restarted.

The daemon runs as a real process (`inbox-agent run --config F`) on Maildir, SQLite and a
recording aiosmtpd server. After every kill and restart, nothing is lost and nothing is doubled:
one case and one draft per complaint, at most one delivery per approved reply, and every approved
reply ends either sent or set aside as UNCERTAIN for a person (never silently resent).
Tracking is what most stores have: one 17TRACK key (a fake 17TRACK on a loopback port) and no
destination-post account.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import TypeVar

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from inbox_agent.mailbox.maildir import MaildirBackend
from inbox_agent.samples import sample_complaint
from inbox_agent.store.tables import Case, Intent
from tests.support.carriers import SEVENTEEN_KEY, FakeCarriers, Parcel
from tests.support.dovecot import free_port
from tests.support.smtp import RecordingHandler
from tests.support.wait import until

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = [(f"customer{i}@example.org", n) for i, n in
             enumerate(["LP00612849305172", "YT2506321874502931", "LV123456785CN", "9400111206206406260787"])]
PARCELS = [Parcel("LP00612849305172", last_mile="9400111206206406260794"),
           Parcel("YT2506321874502931", last_mile="9400111206206406260800"),
           Parcel("LV123456785CN", last_mile="9400111206206406260787")]


def _config(tmp: Path, smtp_port: int, carriers: str) -> Path:
    path = tmp / "config.toml"
    path.write_text(f"""
[store]
support_address = "support@store.example"
[database]
url = "sqlite:///{tmp / 'db.sqlite'}"
[maildir]
path = "{tmp / 'mail'}"
poll_seconds = 0.05
since = "2000-01-01"                # the complaints may land before the daemon records its start
smtp_listen = "127.0.0.1:{free_port()}"
[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
[tracking.seventeen_track]
api_key_env = "CRASH_T17_TOKEN"
base_url = "{carriers}/track/v2.2"
backoff_seconds = 0
max_wait_seconds = 0
""")
    return path


def _start(config: Path, tmp: Path) -> subprocess.Popen[bytes]:
    log = (tmp / "daemon.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "inbox_agent.cli", "run", "--config", str(config)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "CRASH_T17_TOKEN": SEVENTEEN_KEY})


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def _at_least(items: list[T], count: int) -> list[T] | None:
    return items if len(items) >= count else None


def _intents(db: Path) -> list[Intent]:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with Session(engine) as s:
            return list(s.scalars(select(Intent).where(Intent.kind == "reply")))
    finally:
        engine.dispose()


def _cases(db: Path) -> int:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with Session(engine) as s:
            return len(list(s.scalars(select(Case.id))))
    finally:
        engine.dispose()


def _numbers_in(message: email.message.Message) -> set[str]:
    body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return {p.last_mile or "" for p in PARCELS if p.last_mile and p.last_mile in str(body.get_content())}


async def test_sigkill_at_every_step_loses_nothing_and_sends_nothing_twice(tmp_path: Path) -> None:
    recorder = RecordingHandler()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    fakes = FakeCarriers()
    for parcel in PARCELS:
        fakes.add(parcel)
    carriers = fakes.serve()
    config = _config(tmp_path, controller.port, carriers.url)
    box = MaildirBackend(str(tmp_path / "mail"), "INBOX", 0.05)
    box.ensure_folders(["INBOX", "Review", "Approved", "Rejected", "Sent"])
    db = tmp_path / "db.sqlite"
    process = _start(config, tmp_path)
    try:
        for sender, number in CUSTOMERS:
            box.append("INBOX", sample_complaint("support@store.example", sender=sender, number=number))
        await until(lambda: box.all_messages("Review"), timeout=30, what="the first draft")
        _kill(process)
        process = _start(config, tmp_path)
        drafts = await until(lambda: _at_least(box.all_messages("Review"), len(CUSTOMERS)),
                             timeout=30, what="a draft per complaint")
        _kill(process)
        for draft in drafts:
            box.delete("Review", [draft.uid])
            box.append("Approved", draft.raw)
        process = _start(config, tmp_path)
        await until(lambda: recorder.messages, timeout=30, what="the first send")
        _kill(process)
        process = _start(config, tmp_path)
        await until(lambda: all(i.status in ("SENT", "UNCERTAIN") for i in _intents(db)) and len(_intents(db)) >= 4,
                    timeout=30, what="every approved reply settled")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            _kill(process)
        controller.stop()
        carriers.close()
    intents = _intents(db)
    assert len(intents) == len(CUSTOMERS) and _cases(db) == len(CUSTOMERS)
    assert len(box.all_messages("Review")) == 0
    delivered = Counter(email.message_from_bytes(m.data, policy=email.policy.default)["Message-ID"]
                        for m in recorder.messages)
    assert all(count == 1 for count in delivered.values()), delivered
    sent_ids = {i.message_id for i in intents if i.status == "SENT"}
    assert sent_ids <= set(delivered) and len(sent_ids) >= len(CUSTOMERS) - 1
    assert {r for m in recorder.messages for r in m.recipients} <= {c for c, _ in CUSTOMERS}
    kits = [email.message_from_bytes(m.data, policy=email.policy.default) for m in recorder.messages]
    assert all("sample" not in str(k.get_body(preferencelist=("plain",)).get_content()).lower() for k in kits)
    last_miles = {p.number: p.last_mile for p in PARCELS}
    for kit in kits:  # each delivered kit names its own parcel's last-mile number (one kit may be UNCERTAIN, undelivered)
        number = dict(CUSTOMERS)[str(kit["To"])]
        assert last_miles.get(number, number) in _numbers_in(kit)
