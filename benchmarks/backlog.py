"""Backlog drain: N complaints already waiting in a real Dovecot INBOX, then W workers started.

Each complaint has its own customer and its own tracking number (an S10 number delivered in the
US), known to a fake 17TRACK and a fake USPS on loopback (their documented JSON): every complaint
takes the post-office kit path (tracking, picture, draft). The mail is there before the workers'
first start, so they read it as a backfill (`since`, every reply drafted for a person), and the
store's daily cap of paid lookups is raised above N. The workers are real `inbox-agent run`
processes on one database (SQLite, or a fresh schema of the PostgreSQL at INBOX_AGENT_TEST_POSTGRES). The run ends when every
complaint is ingested and no event or intent is left pending. Prints, per database and worker
count: messages/s, CPU ms per message (all workers), peak RSS per worker, drafts in Review and
duplicate drafts (copies of one Message-ID, and cases with more than one reply).

Usage: python benchmarks/backlog.py [--count N] [--workers 1,2] [--databases sqlite,postgresql]
                                    [--rate R]   (needs dovecot-imapd; PostgreSQL for that database)
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imapclient import IMAPClient  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from inbox_agent.domain import OutboxStatus, WorkStatus  # noqa: E402
from inbox_agent.samples import sample_complaint  # noqa: E402
from inbox_agent.store.tables import Event, InboundMessage, Intent  # noqa: E402
from tests.support.carriers import SEVENTEEN_KEY, USPS_ID, USPS_SECRET, FakeCarriers, LocalServer, Parcel  # noqa: E402
from tests.support.dovecot import Dovecot  # noqa: E402

POSTGRES_URL = os.environ.get("INBOX_AGENT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    database: str
    workers: int
    count: int
    seconds: float
    cpu_seconds: float
    peak_rss_mb: list[float]
    drafts: int
    duplicate_copies: int
    cases_with_two_replies: int


def s10(serial: int) -> str:
    """A valid UPU S10 number (check digit included) for the serial."""
    digits = f"{serial:08d}"
    check = 11 - sum(int(d) * w for d, w in zip(digits, S10_WEIGHTS, strict=True)) % 11
    return f"LV{digits}{ {10: 0, 11: 5}.get(check, check)}CN"


def fill_inbox(server: Dovecot, user: str, numbers: list[str]) -> None:
    client = IMAPClient(server.host, port=server.port, ssl=False)
    client.login(user, "secret")
    for i, number in enumerate(numbers):
        client.append("INBOX", sample_complaint("support@store.example", sender=f"customer{i}@example.org",
                                                number=number))
    client.logout()


def config_text(server: Dovecot, user: str, url: str, carriers: LocalServer, rate: float, count: int) -> str:
    return f"""
[store]
support_address = "support@store.example"
[database]
url = "{url}"
[imap]
host = "127.0.0.1"
port = {server.port}
tls = "none"
username = "{user}"
password_env = "BENCH_IMAP_PASSWORD"
poll_seconds = 2
since = "2000-01-01"
[security]
max_paid_lookups_per_day = {10 * count}
[tracking.seventeen_track]
api_key_env = "BENCH_17TRACK_KEY"
base_url = "{carriers.url}/track/v2.2"
rate_per_second = {rate}
[tracking.usps]
client_id_env = "BENCH_USPS_ID"
client_secret_env = "BENCH_USPS_SECRET"
base_url = "{carriers.url}"
rate_per_second = {rate}
"""


def database_url(kind: str, tmp: Path, run: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / f'{run}.db'}"
    engine = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {run} CASCADE"))
        c.execute(text(f"CREATE SCHEMA {run}"))
    engine.dispose()
    return f"{POSTGRES_URL}?options=-csearch_path%3D{run}"


def finished(url: str, count: int) -> tuple[bool, int]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with Session(engine) as s:
            ingested = s.scalar(select(func.count()).select_from(InboundMessage)) or 0
            events = s.scalar(select(func.count()).select_from(Event).where(Event.status == WorkStatus.PENDING)) or 0
            intents = s.scalar(select(func.count()).select_from(Intent)
                               .where(Intent.status == OutboxStatus.PENDING)) or 0
    except Exception:  # noqa: BLE001 - the tables may not exist yet while workers start
        return False, 0
    finally:
        engine.dispose()
    return ingested >= count and not events and not intents, ingested


def proc_figures(pid: int) -> tuple[float, float]:
    """CPU seconds and peak RSS (MB) of a live process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS
    status = Path(f"/proc/{pid}/status").read_text()
    peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return cpu, peak / 1024


def count_drafts(server: Dovecot, user: str, url: str) -> tuple[int, int, int]:
    client = IMAPClient(server.host, port=server.port, ssl=False)
    client.login(user, "secret")
    client.select_folder("Review", readonly=True)
    uids = client.search("ALL")
    ids = Counter()
    for data in client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]).values():
        ids[data[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].strip().lower()] += 1
    client.logout()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with Session(engine) as s:
        per_case = Counter(s.scalars(select(Intent.case_id).where(Intent.kind == "reply")))
    engine.dispose()
    return len(uids), sum(n - 1 for n in ids.values()), sum(1 for n in per_case.values() if n > 1)


def run_one(server: Dovecot, fakes: FakeCarriers, carriers: LocalServer, kind: str, workers: int, count: int, rate: float,
            serial: int) -> Result:
    run = f"backlog_{os.getpid()}_{serial}"
    user = f"test-{run}@example.test"
    numbers = [s10(serial * 1_000_000 + i) for i in range(count)]
    for number in numbers:
        fakes.add(Parcel(number, destination="US"))
    fill_inbox(server, user, numbers)
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url(kind, Path(tmp), run)
        config = Path(tmp) / "config.toml"
        config.write_text(config_text(server, user, url, carriers, rate, count))
        env = {**os.environ, "BENCH_IMAP_PASSWORD": "secret", "BENCH_17TRACK_KEY": SEVENTEEN_KEY,
               "BENCH_USPS_ID": USPS_ID, "BENCH_USPS_SECRET": USPS_SECRET}
        logs = [(Path(tmp) / f"worker{w}.log").open("wb") for w in range(workers)]
        start = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-m", "inbox_agent.cli", "run", "--config", str(config)],
                                  cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT) for log in logs]
        figures: list[tuple[float, float]] = []
        try:
            last_report = 0.0
            while True:
                done, ingested = finished(url, count)
                if done:
                    break
                dead = [w for w, p in enumerate(procs) if p.poll() is not None]
                if dead:
                    log_text = (Path(tmp) / f"worker{dead[0]}.log").read_text()[-3000:]
                    raise RuntimeError(f"worker {dead[0] + 1} exited: {log_text}")
                if time.perf_counter() - last_report > 10:
                    last_report = time.perf_counter()
                    print(f"  ... {ingested}/{count} ingested after {last_report - start:.0f} s", file=sys.stderr)
                time.sleep(0.2)
            seconds = time.perf_counter() - start
            figures = [proc_figures(p.pid) for p in procs]
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
            for log in logs:
                log.close()
        drafts, copies, doubled = count_drafts(server, user, url)
        if kind == "postgresql":
            engine = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
            with engine.begin() as c:
                c.execute(text(f"DROP SCHEMA {run} CASCADE"))
            engine.dispose()
    return Result(kind, workers, count, seconds, sum(f[0] for f in figures), [f[1] for f in figures], drafts,
                  copies, doubled)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--databases", default="sqlite,postgresql")
    ap.add_argument("--rate", type=float, default=100.0, help="17TRACK requests/s allowed per worker")
    args = ap.parse_args()
    server = Dovecot.start()
    fakes = FakeCarriers()
    carriers = fakes.serve()
    serial = 0
    try:
        for kind in args.databases.split(","):
            for workers in (int(w) for w in args.workers.split(",")):
                serial += 1
                r = run_one(server, fakes, carriers, kind, workers, args.count, args.rate, serial)
                rss = ", ".join(f"{m:.0f}" for m in r.peak_rss_mb)
                print(f"{r.database:10} {r.workers} worker(s) {r.count} complaints: {r.seconds:6.1f} s, "
                      f"{r.count / r.seconds:6.1f} msg/s, CPU {1000 * r.cpu_seconds / r.count:5.1f} ms/msg, "
                      f"peak RSS {rss} MB; drafts {r.drafts}, duplicate copies {r.duplicate_copies}, "
                      f"cases with two replies {r.cases_with_two_replies}", flush=True)
    finally:
        carriers.close()
        server.stop()


if __name__ == "__main__":
    main()
