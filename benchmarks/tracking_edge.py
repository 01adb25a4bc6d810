"""The tracking edge alone: CPU per lookup and the wait of an isolated lookup, against a fake 17TRACK.

The fake answers 17TRACK's documented JSON on a loopback port (real HTTP). Prints, for N numbers
looked up one at a time (each its own register + gettrackinfo pair): the CPU milliseconds per
lookup of this process (rate limit lifted, so only our own cost counts); then, at 17TRACK's default
3 requests/s, the wall time of one isolated lookup (after the first) and of a round of 40 numbers
in one batch.
Usage: python benchmarks/tracking_edge.py [--count N]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inbox_agent.config import TrackingConfig, TrackingProvider  # noqa: E402
from inbox_agent.tracking.cache import MemoryCache  # noqa: E402
from inbox_agent.tracking.tracker import Tracker, build_tracker  # noqa: E402
from tests.support.carriers import SEVENTEEN_KEY, FakeCarriers, Parcel  # noqa: E402


def _tracker(url: str, rate: float | None) -> Tracker:
    config = TrackingConfig(seventeen_track=TrackingProvider(api_key_env="T17", base_url=f"{url}/track/v2.2",
                                                             rate_per_second=rate))
    return build_tracker(config, MemoryCache(timedelta(minutes=60)), env={"T17": SEVENTEEN_KEY})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=300)
    count = ap.parse_args().count
    fakes = FakeCarriers()
    numbers = [f"LP{i:014d}" for i in range(count + 41)]
    for i, number in enumerate(numbers):
        fakes.add(Parcel(number, last_mile=f"94001112062064{i:08d}"))
    server = fakes.serve()
    try:
        fast = _tracker(server.url, 10_000.0)
        fast.track([(numbers[0], "cainiao")])  # warm up: imports, format book, first connection
        cpu, wall = time.process_time(), time.perf_counter()
        for number in numbers[1:count]:
            fast.track([(number, "cainiao")])
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        fast.close()
        print(f"{count - 1} lookups one at a time: {cpu / (count - 1) * 1000:.2f} ms CPU and "
              f"{wall / (count - 1) * 1000:.2f} ms wall per lookup (2 HTTP calls each)")
        steady = _tracker(server.url, None)
        steady.track([(numbers[count - 1], "cainiao")])  # the connection is made once per provider
        time.sleep(1.0)  # an isolated mail: the bucket has refilled
        start = time.perf_counter()
        steady.track([(numbers[count], "cainiao")])
        isolated = time.perf_counter() - start
        start = time.perf_counter()
        steady.track([(n, "cainiao") for n in numbers[count + 1:count + 41]])
        batch = time.perf_counter() - start
        steady.close()
        print(f"at 17TRACK's default 3 requests/s: one isolated lookup {isolated:.3f} s, "
              f"a round of 40 numbers {batch:.3f} s")
    finally:
        server.close()


if __name__ == "__main__":
    main()
