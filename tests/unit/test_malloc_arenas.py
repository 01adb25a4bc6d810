"""A worker's threads share two glibc malloc arenas (inbox_agent/arenas.py), not one each.

Each case runs in a fresh interpreter (arenas are per process and made when a thread first
allocates): threads allocate, then glibc's own `malloc_stats` says how many arenas exist.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

PROBE = """
import ctypes, ctypes.util, sys, threading
from inbox_agent.arenas import limit_malloc_arenas
if sys.argv[1] == "limit":
    assert limit_malloc_arenas()
go = threading.Barrier(6)
def work():
    go.wait()  # all alive at once, each allocating from its own arena when glibc gives one
    kept = [bytes(2000) for _ in range(2000)]
    go.wait()
threads = [threading.Thread(target=work) for _ in range(6)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL(ctypes.util.find_library("c")).malloc_stats()
"""


def arenas(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env,
                          check=True, timeout=60)
    return len(re.findall(r"^Arena \d+:", done.stderr, re.MULTILINE))


def test_threads_share_two_arenas() -> None:
    assert arenas("limit") == 2


def test_without_the_limit_each_thread_has_its_own() -> None:
    assert arenas("free") > 2  # what the limit is for: the probe can tell the difference
