"""CPU a worker spends while there is nothing to do: its runners' polls, the folder leader's check.

One real `inbox-agent run` worker on a real Dovecot (empty INBOX) and a fresh PostgreSQL schema
(or SQLite); once it has started, its CPU seconds (from /proc) are read over --seconds and printed
per minute, with the statements the database saw meanwhile (PostgreSQL's pg_stat_database
transaction count for the test database).

Usage: python benchmarks/idle_cpu.py [--seconds 60] [--database postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from benchmarks.backlog import POSTGRES_URL, config_text, database_url, proc_figures  # noqa: E402
from tests.support.carriers import SEVENTEEN_KEY, USPS_ID, USPS_SECRET, FakeCarriers  # noqa: E402
from tests.support.dovecot import Dovecot  # noqa: E402

STARTED = b"started"


def transactions() -> int:
    """Commits and rollbacks PostgreSQL counted so far on the test database."""
    engine = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as c:
        value = c.scalar(text("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"))
    engine.dispose()
    return int(value or 0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--database", default="postgresql", choices=("sqlite", "postgresql"))
    args = ap.parse_args()
    server = Dovecot.start()
    carriers = FakeCarriers().serve()
    run = f"idle_{os.getpid()}"
    user = f"test-{run}@example.test"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = database_url(args.database, Path(tmp), run)
            config = Path(tmp) / "config.toml"
            config.write_text(config_text(server, user, url, carriers, 100.0, 1))
            env = {**os.environ, "BENCH_IMAP_PASSWORD": "secret", "BENCH_17TRACK_KEY": SEVENTEEN_KEY,
                   "BENCH_USPS_ID": USPS_ID, "BENCH_USPS_SECRET": USPS_SECRET}
            log = Path(tmp) / "worker.log"
            with log.open("wb") as out:
                worker = subprocess.Popen([sys.executable, "-m", "inbox_agent.cli", "run", "--config", str(config)],
                                          cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT)
            try:
                while STARTED not in log.read_bytes():
                    if worker.poll() is not None:
                        raise RuntimeError(f"the worker exited: {log.read_text()[-2000:]}")
                    time.sleep(0.2)
                time.sleep(5)  # past the first rounds
                cpu_before, _ = proc_figures(worker.pid)
                xacts_before = transactions() if args.database == "postgresql" else 0
                time.sleep(args.seconds)
                cpu_after, _ = proc_figures(worker.pid)
                xacts_after = transactions() if args.database == "postgresql" else 0
            finally:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)
            if args.database == "postgresql":
                engine = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
                with engine.begin() as c:
                    c.execute(text(f"DROP SCHEMA {run} CASCADE"))
                engine.dispose()
    finally:
        carriers.close()
        server.stop()
    per_minute = 60.0 / args.seconds
    print(f"{args.database}: idle worker, {1000 * (cpu_after - cpu_before) * per_minute:.0f} ms CPU per minute"
          + (f", {(xacts_after - xacts_before) * per_minute:.0f} transactions per minute on the database"
             " (all its users)" if args.database == "postgresql" else ""))


if __name__ == "__main__":
    main()
