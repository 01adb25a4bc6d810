"""CPU time of reading texts a hostile sender writes to make the rules backtrack: long runs of
spaces after an order word or a table label, many order labels on one line, digits spaced out,
thousands of different store letters each labelled once ("order AAB-1001 order AAC-1002 ..."), a
header line of thousands of order fields, brackets after orders, codes with a year's series,
orders for someone with a bracket, unclosed ticket tags, thousands of '#' numbers in a row,
thousands of distinct parcels each in a forwarder's row, a "for" line or a bracket, and a
format=flowed part whose every line ends in a soft break (joined into one line).

Each text is read once by the order-number reader (given the text's tracking numbers) and the
tracking-number reader (after a warm-up, so compiling the rules does not count), in CPU time of
this process, at two sizes: a time that grows much faster than the text (4x the time for 2x the
text) is a pattern to fix.

Usage: python benchmarks/hostile_text.py [--size N]   (--size 1000000: a megabyte of each)
"""

from __future__ import annotations

import argparse
import itertools
import string
import time
from collections.abc import Callable

from inbox_agent.extract.orders import find_order_numbers
from inbox_agent.extract.tracking import find_tracking_numbers
from inbox_agent.parse.flowed import unflowed

TEXTS: dict[str, Callable[[int], str]] = {
    "spaces after 'order'": lambda n: "order 1234\norder" + " " * n + "x",
    "spaces after a table label": lambda n: "order 1234\n| order" + " " * n + "x |\n",
    "order labels on one line": lambda n: "order 1234\n" + "| order " * (n // 8),
    "digits spaced out": lambda n: "1 " * (n // 2),
    "varied digits spaced out": lambda n: " ".join(str((i * 7919) % 10) for i in range(n // 2)),
    "many store letters labelled": lambda n: " ".join(f"order {a}{b}{c}-{1000 + i % 9000}" for i, (a, b, c) in zip(
        range(n // 15), itertools.product(string.ascii_uppercase, repeat=3), strict=False)),
    "a comma export's rows": lambda n: "order_id,zip\n" + "1234,75011\n" * (n // 11),
    "comma fields before 'order'": lambda n: "a," * (n // 2) + "order,b\n1234,5\n",
    "order fields, then a digit": lambda n: "store_order," * (n // 12) + "1\n",
    "brackets after orders": lambda n: "order 1234 z (x\ny) " * (n // 19),
    "year series codes": lambda n: "order TK20-7741 " * (n // 16),
    "'for' numbers by a tracking": lambda n: "LV123456785CN " + "for 1234 " * (n // 9),
    "an order for someone, bracket": lambda n: "order for my mum (number 30540 " * (n // 31),
    "ticket tags in brackets": lambda n: "[Zapkit #60231 [Zapkit " * (n // 23),
    "'#' numbers in a row": lambda n: "#1234 " * (n // 6),
    "rows of distinct parcels": lambda n: "".join(f"{1000 + i % 9000} -> LP{i:014d}\n" for i in range(n // 24)),
    "'for' lines, distinct parcels": lambda n: "".join(f"number for {1000 + i % 9000} is LP{i:014d}\n"
                                                       for i in range(n // 35)),
    "brackets of distinct parcels": lambda n: "".join(f"our KT{1000 + i % 9000} (LP{i:014d}) " for i in range(n // 29)),
}


def flowed(n: int) -> str:
    """A format=flowed part of about `n` characters whose every line ends in a soft break."""
    return "order 1234 delivered \r\n" * (n // 23)


def cpu_ms(read: Callable[[], object]) -> float:
    start = time.process_time()
    read()
    return (time.process_time() - start) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=4000, help="characters of the larger text (the smaller is half)")
    size = ap.parse_args().size
    find_order_numbers("order 1234", [])
    find_tracking_numbers("LV123456785CN")
    for name, make in TEXTS.items():
        figures = []
        for n in (size // 2, size):
            text = make(n)
            tracking = [f.number for f in find_tracking_numbers(text)]
            figures.append(f"{n:>6} chars: orders {cpu_ms(lambda t=text, k=tracking: find_order_numbers(t, k)):8.1f} ms, "
                           f"tracking {cpu_ms(lambda t=text: find_tracking_numbers(t)):8.1f} ms")
        print(f"{name:28s} " + " | ".join(figures))
    joined = []
    for n in (size // 2, size):
        text = flowed(n)
        joined.append(f"{n:>6} chars: joined {cpu_ms(lambda t=text: unflowed(t)):8.1f} ms")
    print(f"{'a flowed part, all soft':28s} " + " | ".join(joined))


if __name__ == "__main__":
    main()
