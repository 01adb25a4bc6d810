"""What each stage costs per complaint, in one process: CPU ms, SQL statements and transactions.

N complaints wait in a real Dovecot INBOX (each its own customer and S10 number, tracked by a
fake 17TRACK and USPS on loopback: the post-office kit path of benchmarks/backlog.py). One
worker's runtime is built as the daemon builds it, then the stages run one after the other
(ingest, process, track, process, draft) until nothing is pending, each stage's `run_once` timed
with `time.process_time` and its statements counted on the engine. Start-up (imports, readers,
schema) is timed apart. Unlike backlog.py this leaves out the event loop, idle polls and the
hand-offs between workers: it shows the work of each stage itself, steadier on a busy machine.

Usage: python benchmarks/stage_cost.py [--count N] [--database sqlite|postgresql]
       (PostgreSQL at INBOX_AGENT_TEST_POSTGRES, a fresh schema per run)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

START = time.process_time()
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, text  # noqa: E402

from benchmarks.backlog import POSTGRES_URL, config_text, fill_inbox, s10  # noqa: E402
from inbox_agent.app import Daemon  # noqa: E402
from inbox_agent.config import load_config  # noqa: E402
from inbox_agent.extract import load_readers  # noqa: E402
from inbox_agent.stages import draft, ingest, process, track  # noqa: E402
from inbox_agent.stages.runtime import Runtime  # noqa: E402
from tests.support.carriers import SEVENTEEN_KEY, USPS_ID, USPS_SECRET, FakeCarriers, Parcel  # noqa: E402
from tests.support.dovecot import Dovecot  # noqa: E402

STAGES: tuple[tuple[str, Callable[[Runtime], int]], ...] = (
    ("ingest", ingest.run_once), ("process", process.run_once), ("track", track.run_once),
    ("draft", draft.run_once))


class Meter:
    """CPU seconds, statements and commits per stage name."""

    def __init__(self) -> None:
        self.cpu: Counter[str] = Counter()
        self.statements: Counter[str] = Counter()
        self.commits: Counter[str] = Counter()
        self.texts: Counter[tuple[str, str]] = Counter()
        self.stage = "start"

    def listen(self, engine: object) -> None:
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", lambda *a: self.commits.update([self.stage]))

    def _statement(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        self.statements[self.stage] += 1
        self.texts[(self.stage, " ".join(statement.split())[:150])] += 1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--database", default="postgresql", choices=("sqlite", "postgresql"))
    ap.add_argument("--statements", action="store_true", help="also print each stage's statements, most frequent first")
    args = ap.parse_args()
    os.environ.update({"BENCH_IMAP_PASSWORD": "secret", "BENCH_17TRACK_KEY": SEVENTEEN_KEY,
                       "BENCH_USPS_ID": USPS_ID, "BENCH_USPS_SECRET": USPS_SECRET})
    imports = time.process_time() - START
    server = Dovecot.start()
    fakes = FakeCarriers()
    carriers = fakes.serve()
    run = f"stagecost_{os.getpid()}"
    user = f"test-{run}@example.test"
    numbers = [s10(7_000_000 + i) for i in range(args.count)]
    for number in numbers:
        fakes.add(Parcel(number, destination="US"))
    fill_inbox(server, user, numbers)
    admin = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if args.database == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            else:
                with admin.begin() as c:
                    c.execute(text(f"CREATE SCHEMA {run}"))
                url = f"{POSTGRES_URL}?options=-csearch_path%3D{run}"
            config_file = Path(tmp) / "config.toml"
            config_file.write_text(config_text(server, user, url, carriers, 100.0, args.count))
            meter = Meter()
            began = time.process_time()
            config = load_config(config_file)
            load_readers(config.reading)
            daemon = Daemon(config, worker="bench-1")
            meter.listen(daemon.db.engine)
            daemon._setup()
            setup = time.process_time() - began
            rt = daemon.rt
            while True:
                done = 0
                for name, step in STAGES:
                    meter.stage = name
                    at = time.process_time()
                    done += step(rt)
                    meter.cpu[name] += time.process_time() - at
                if not done:
                    break
            daemon.rt.tracker.close()
            daemon.mailbox.close()
            daemon.leadership.release()
            daemon.db.dispose()
    finally:
        if args.database == "postgresql":
            with admin.begin() as c:
                c.execute(text(f"DROP SCHEMA IF EXISTS {run} CASCADE"))
        admin.dispose()
        carriers.close()
        server.stop()
    n = args.count
    print(f"{args.database}, {n} complaints; start-up: imports {imports:.2f} s, readers and schema {setup:.2f} s CPU")
    print(f"{'stage':10} {'CPU ms/complaint':>17} {'statements':>11} {'commits':>8}")
    for name, _ in STAGES:
        print(f"{name:10} {1000 * meter.cpu[name] / n:17.1f} {meter.statements[name] / n:11.1f} "
              f"{meter.commits[name] / n:8.1f}")
    total = sum(meter.cpu.values())
    print(f"{'all':10} {1000 * total / n:17.1f} {sum(meter.statements[s] for s, _ in STAGES) / n:11.1f} "
          f"{sum(meter.commits[s] for s, _ in STAGES) / n:8.1f}")
    if args.statements:
        for (stage, statement), times in sorted(meter.texts.items(), key=lambda item: (item[0][0], -item[1])):
            print(f"{stage:10} {times / n:6.2f} {statement}")


if __name__ == "__main__":
    main()
