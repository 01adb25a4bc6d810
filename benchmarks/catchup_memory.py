"""Catch-up memory: ingest a backlog of large messages over a private Dovecot and print the peak
resident memory. Messages are fetched one at a time, so the peak follows the largest message,
not the backlog.

Usage: python benchmarks/catchup_memory.py [--count N] [--mb M]   (needs dovecot-imapd installed)
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inbox_agent.app import build_mailbox  # noqa: E402
from inbox_agent.config import Config, DatabaseConfig, ImapConfig, StoreConfig  # noqa: E402
from inbox_agent.stages import ingest  # noqa: E402
from inbox_agent.stages.runtime import Runtime  # noqa: E402
from inbox_agent.store.database import Database  # noqa: E402
from tests.support.dovecot import Dovecot  # noqa: E402


def big_message(index: int, megabytes: int) -> bytes:
    line = b"The parcel never came, here is a long scan of my mailbox. " * 19 + b"\r\n"
    body = line * (megabytes * 1024 * 1024 // len(line))
    return (f"From: Customer {index} <c{index}@people.example>\r\nTo: support@store.example\r\n"
            f"Subject: Big message {index}\r\nMessage-ID: <big-{index}@people.example>\r\n"
            "Content-Type: text/plain\r\n\r\n").encode() + body


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--mb", type=int, default=18)
    args = parser.parse_args()
    server = Dovecot.start()
    user = "test-bench-catchup@example.test"
    os.environ["BENCH_IMAP_PASSWORD"] = "secret"
    try:
        for i in range(args.count):
            server.deliver(user, big_message(i, args.mb))
        with tempfile.TemporaryDirectory() as tmp:
            config = Config(store=StoreConfig(support_address="support@store.example"),
                            database=DatabaseConfig(url=f"sqlite:///{tmp}/bench.db"),
                            imap=ImapConfig(host="127.0.0.1", port=server.port, tls="none", username=user,
                                            password_env="BENCH_IMAP_PASSWORD",
                                            since=date(2000, 1, 1)))  # the mail was there before the start
            db = Database(config.database.url)
            db.create()
            mailbox = build_mailbox(config)
            before = peak_mb()
            read = ingest.run_once(Runtime(config=config, db=db, mailbox=mailbox))
            mailbox.close()
            db.dispose()
        print(f"catch-up of {read} messages of {args.mb} MB: peak resident memory {peak_mb():.0f} MB "
              f"({before:.0f} MB before ingest)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
