"""Order lookups in a CSV export: how fast a 10,000-order file is read, and lookups per second
once it is read (by number, and by customer email with the recent-orders rule)."""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from inbox_agent.config import OrdersConfig
from inbox_agent.orders.book import build_order_book

ORDERS = 10_000
LOOKUPS = 200


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.csv"
        rows = ["order,email,name,country,tracking_number,carrier,supplier,supplier_order,created_at"]
        rows += [f"{1000 + i},c{i % 4000}@example.org,Customer {i},US,LV123456785CN,,,,2026-07-01" for i in range(ORDERS)]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        start = time.perf_counter()
        book = build_order_book(OrdersConfig(csv=str(path)))
        read = time.perf_counter() - start
        assert book is not None
        now = datetime(2026, 7, 12, tzinfo=UTC)
        start = time.perf_counter()
        for i in range(LOOKUPS):
            book.find([str(1000 + i * 7)], f"c{(i * 7) % 4000}@example.org", now)
        by_number = LOOKUPS / (time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(LOOKUPS):
            book.find([], f"c{i}@example.org", now)
        by_email = LOOKUPS / (time.perf_counter() - start)
    print(f"csv orders: read {ORDERS} orders in {read * 1000:.0f} ms; "
          f"{by_number:.0f} lookups/s by number, {by_email:.0f} lookups/s by email")


if __name__ == "__main__":
    main()
