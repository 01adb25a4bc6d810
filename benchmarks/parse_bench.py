"""Messages per second for parse + extract (intent classifier included) over the dev corpus, beside
mail-parser alone (the floor).

The rates are the best of 3 runs of N rounds over the corpus, one core, in CPU time of this
process (so other work on a shared machine does not count against it). The first pass over the
corpus is printed too: every text is new to the pattern sets' lazily built automata then, as
with new mail in a daemon that just started.

Usage: python benchmarks/parse_bench.py [CORPUS_DIR] [--rounds N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import mailparser  # type: ignore[import-untyped]

from inbox_agent.config import Config
from inbox_agent.reading import read_bytes

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "dev"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default=str(DEFAULT))
    ap.add_argument("--rounds", type=int, default=10)
    a = ap.parse_args()
    raws = [p.read_bytes() for p in sorted(Path(a.corpus).glob("*.eml"))]
    config = Config()
    read_bytes(b"From: a@example.com\r\nSubject: warm-up\r\n\r\nHello, nothing here.\r\n", config)
    start = time.process_time()
    for raw in raws:
        read_bytes(raw, config)
    first = len(raws) / (time.process_time() - start)
    print(f"{'first pass (new)':18s} {first:8.0f} msg/s  ({len(raws)} messages once, rules and models loaded)")
    rates = {}
    for label, step in (("mail-parser alone", lambda r: mailparser.parse_from_bytes(r)),
                        ("parse + extract", lambda r: read_bytes(r, config))):
        best = 0.0
        for _ in range(3):
            start = time.process_time()
            for _ in range(a.rounds):
                for raw in raws:
                    step(raw)
            best = max(best, len(raws) * a.rounds / (time.process_time() - start))
        rates[label] = best
        print(f"{label:18s} {best:8.0f} msg/s  ({len(raws)} messages x {a.rounds}, best of 3)")
    print(f"parse + extract costs {rates['mail-parser alone'] / rates['parse + extract']:.1f}x mail-parser alone")


if __name__ == "__main__":
    main()
