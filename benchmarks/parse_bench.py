"""Messages per second for parse + extract (intent classifier included) over the dev corpus, beside
mail-parser alone (the reference of the issue's bar: reading may cost at most 4x mail-parser's
parse; reading's MIME tree is mail-parser's guarded parse, so that cost is inside ours too).

The rates are the best of 5 runs of N rounds over the corpus, one core, in CPU time of this
process (so other work on a shared machine does not count against it). The runs of the two
alternate, so a swing of the machine's load weighs on both alike. The first pass over the corpus
is printed too: every text is new to the pattern sets' lazily built automata then, as with new
mail in a daemon that just started.

Usage: python benchmarks/parse_bench.py [CORPUS_DIR] [--rounds N]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import mailparser  # type: ignore[import-untyped]

from inbox_agent.config import Config
from inbox_agent.reading import read_bytes

RUNS = 5
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
    steps: dict[str, Callable[[bytes], object]] = {"mail-parser alone": mailparser.parse_from_bytes,
                                                    "parse + extract": lambda r: read_bytes(r, config)}
    rates = dict.fromkeys(steps, 0.0)
    for _ in range(RUNS):
        for label, step in steps.items():
            start = time.process_time()
            for _ in range(a.rounds):
                for raw in raws:
                    step(raw)
            rates[label] = max(rates[label], len(raws) * a.rounds / (time.process_time() - start))
    for label, rate in rates.items():
        print(f"{label:18s} {rate:8.0f} msg/s  ({len(raws)} messages x {a.rounds}, best of {RUNS})")
    print(f"parse + extract costs {rates['mail-parser alone'] / rates['parse + extract']:.1f}x mail-parser alone")


if __name__ == "__main__":
    main()
