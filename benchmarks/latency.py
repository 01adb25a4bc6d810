"""Delivery-to-draft latency over a private Dovecot: 50 complaints, one at a time.

Tracking is what most stores have: one 17TRACK key (a fake 17TRACK on a loopback port answering
its documented JSON, at 17TRACK's default 3 requests/s) and no destination-post account; every
complaint has its own number, so every one costs a register and a gettrackinfo call.
Prints p50 and p95 of the time from dovecot-lda delivery to the draft appearing in Review.
Usage: python benchmarks/latency.py [--count N]   (needs dovecot-imapd installed)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imapclient import IMAPClient  # noqa: E402

from inbox_agent.app import Daemon  # noqa: E402
from inbox_agent.config import (  # noqa: E402
    Config,
    DatabaseConfig,
    ImapConfig,
    StoreConfig,
    TrackingConfig,
    TrackingProvider,
)
from inbox_agent.samples import sample_complaint  # noqa: E402
from tests.support.carriers import SEVENTEEN_KEY, FakeCarriers, Parcel  # noqa: E402
from tests.support.dovecot import Dovecot  # noqa: E402


async def measure(count: int) -> list[float]:
    server = Dovecot.start()
    user = "test-bench@example.test"
    os.environ["BENCH_IMAP_PASSWORD"] = "secret"
    os.environ["BENCH_T17_TOKEN"] = SEVENTEEN_KEY
    fakes = FakeCarriers()
    numbers = [f"LP{i:014d}" for i in range(count)]
    for i, number in enumerate(numbers):
        fakes.add(Parcel(number, last_mile=f"94001112062064{i:08d}"))
    carriers = fakes.serve()
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(store=StoreConfig(support_address="support@store.example"),
                        database=DatabaseConfig(url=f"sqlite:///{tmp}/bench.db"),
                        imap=ImapConfig(host="127.0.0.1", port=server.port, tls="none", username=user,
                                        password_env="BENCH_IMAP_PASSWORD", poll_seconds=5),
                        tracking=TrackingConfig(seventeen_track=TrackingProvider(
                            api_key_env="BENCH_T17_TOKEN", base_url=f"{carriers.url}/track/v2.2")))
        daemon = Daemon(config)
        await daemon.start()
        agent = IMAPClient("127.0.0.1", port=server.port, ssl=False)
        agent.login(user, "secret")
        samples = []
        try:
            for i in range(count):
                raw = sample_complaint("support@store.example", sender=f"customer{i}@example.org", number=numbers[i])
                start = time.perf_counter()
                await asyncio.to_thread(server.deliver, user, raw)
                while True:
                    agent.select_folder("Review")
                    if len(agent.search("ALL")) > i:
                        break
                    await asyncio.sleep(0.01)
                samples.append(time.perf_counter() - start)
        finally:
            await daemon.stop()
            server.stop()
            carriers.close()
    calls = len(fakes.calls("/register")) + len(fakes.calls("/gettrackinfo"))
    print(f"17TRACK calls: {calls} for {count} complaints")
    return samples


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=50)
    samples = asyncio.run(measure(ap.parse_args().count))
    q = statistics.quantiles(samples, n=20)
    print(f"delivery -> draft in Review over {len(samples)} complaints: "
          f"p50 {statistics.median(samples):.3f} s, p95 {q[18]:.3f} s")


if __name__ == "__main__":
    main()
