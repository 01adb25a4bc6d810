"""Sender-role accuracy over the cases of other stores' inboxes (tests/data/role_cases.yaml): all of
them, the tuning part and the held-out third, plus the CPU time per case. `--misses` lists the
tuning part's wrong answers (never the held-out ones).

Usage: python benchmarks/role_cases.py [--misses]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inbox_agent.config import ReadingConfig  # noqa: E402
from inbox_agent.extract import load_readers  # noqa: E402
from tests.support.held_out import part_lines  # noqa: E402
from tests.support.role_cases import accuracy, load_cases, read_case  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--misses", action="store_true", help="list the tuning part's wrong answers")
    a = ap.parse_args()
    reading = ReadingConfig()
    load_readers(reading)  # trained or loaded before the clock starts
    cases = load_cases()
    start = time.process_time()
    results = [(c, read_case(c, reading)) for c in cases]
    cpu = (time.process_time() - start) / len(cases)
    print("\n".join(part_lines(results, accuracy)))
    print(f"parse + read: {cpu * 1000:.2f} ms CPU per case")
    if a.misses:
        for case, found in results:
            if not case.held_out and case.role != found:
                print(f"  {case.id}: expected {case.role}, found {found}  (From {case.sender}; {case.subject!r})")


if __name__ == "__main__":
    main()
