"""Order-number precision, recall and F1 over the cases of other stores' inboxes
(tests/data/order_cases_stores.yaml): all of them, the tuning part and the held-out third, plus
the CPU time per case. `--misses` lists the tuning part's wrong answers (never the held-out ones);
`--batch b5` scores only the cases of one batch (their ids hold "-b5-"), `--without b5` all others.

Usage: python benchmarks/order_cases.py [--misses] [--batch NAME | --without NAME]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.held_out import part_lines  # noqa: E402
from tests.support.order_cases import load_cases, read_case, score  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--misses", action="store_true", help="list the tuning part's wrong answers")
    ap.add_argument("--batch", default="", help='only the cases of this batch ("b5")')
    ap.add_argument("--without", default="", help="all cases but those of this batch")
    a = ap.parse_args()
    cases = load_cases()
    if a.batch:
        cases = [c for c in cases if f"-{a.batch}-" in c.id]
    if a.without:
        cases = [c for c in cases if f"-{a.without}-" not in c.id]
    start = time.process_time()
    results = [(c, read_case(c)) for c in cases]
    cpu = (time.process_time() - start) / len(cases)
    print("\n".join(part_lines(results, score)))
    print(f"parse + tracking + orders: {cpu * 1000:.2f} ms CPU per case")
    if a.misses:
        for case, found in results:
            if not case.held_out and case.orders != set(found):
                print(f"  {case.id}: expected {sorted(case.orders)}, found {found}")


if __name__ == "__main__":
    main()
