"""Orders from a CSV export (the embedded default's source, and stores whose app only exports).

One row per parcel: several rows with one order number are one order with several parcels. The
header names are `[orders.columns]`, so a Shopify, DSers or AutoDS export is read as it is. The
file is read again whenever its size or modification time changes. An order is fulfilled when
one of its rows carries a tracking number.
"""

from __future__ import annotations

import csv
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from inbox_agent.config import OrderColumns
from inbox_agent.errors import ConfigError
from inbox_agent.orders.model import Order, Parcel, order_number
from inbox_agent.orders.source import moment, parcel
from inbox_agent.tracking.http import Http

REQUIRED = ("order", "email")


@dataclass(frozen=True)
class _Index:
    """The file's orders by comparable number and by lower-cased email."""

    by_number: dict[str, list[Order]] = field(default_factory=dict)
    by_email: dict[str, list[Order]] = field(default_factory=dict)

    @classmethod
    def of(cls, orders: list[Order]) -> _Index:
        index = cls()
        for order in orders:
            index.by_number.setdefault(order_number(order.number), []).append(order)
            index.by_email.setdefault(order.email, []).append(order)
        return index


class CsvOrders:
    name = "csv"

    def __init__(self, path: str, columns: OrderColumns) -> None:
        self.path = Path(path)
        self.columns = columns
        self._stamp: tuple[int, int] | None = None
        self._index = _Index()
        self._lock = threading.Lock()
        self.load()

    async def by_number(self, http: Http, number: str) -> list[Order]:
        return list(self.load().by_number.get(order_number(number), []))

    async def by_email(self, http: Http, email: str) -> list[Order]:
        return sorted(self.load().by_email.get(email.strip().lower(), []),
                      key=lambda o: o.created_at or datetime.min.replace(tzinfo=UTC), reverse=True)

    async def probe(self, http: Http) -> str:
        return f"{self.path}: {len(self.load().by_number)} orders"

    def load(self) -> _Index:
        """The orders of the file as it is now (read again only when it changed)."""
        try:
            stat = self.path.stat()
        except OSError as e:
            raise ConfigError(str(self.path), "orders.csv", f"cannot be read ({e.strerror or e})") from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._index = _Index.of(self._read())
                self._stamp = stamp
            return self._index

    def _read(self) -> list[Order]:
        try:
            with self.path.open(encoding="utf-8-sig", newline="") as f:
                rows = list(csv.DictReader(f))
                header = set(rows[0]) if rows else set()
        except (OSError, UnicodeDecodeError, csv.Error) as e:
            raise ConfigError(str(self.path), "orders.csv", f"is not a readable CSV file ({e})") from None
        names = self.columns.model_dump()
        for key in REQUIRED:
            if rows and names[key] not in header:
                raise ConfigError(str(self.path), f"orders.columns.{key}", f"a column named {names[key]!r} in the header")
        grouped: dict[str, list[dict[str, str]]] = {}
        for row in rows:
            number = (row.get(names["order"]) or "").strip().lstrip("#")
            if number and (row.get(names["email"]) or "").strip():
                grouped.setdefault(order_number(number), []).append(row)
        return [self._order(group) for group in grouped.values()]

    def _order(self, rows: list[dict[str, str]]) -> Order:
        names = self.columns.model_dump()

        def cell(row: dict[str, str], key: str) -> str:
            return (row.get(names[key]) or "").strip()

        first = rows[0]
        parcels: list[Parcel] = []
        for row in rows:
            found = parcel(cell(row, "tracking_number"), cell(row, "carrier"))
            if found is not None and found not in parcels:
                parcels.append(found)
        country = cell(first, "country").upper()
        return Order(
            number=cell(first, "order").lstrip("#"), email=cell(first, "email").lower(), source=self.name,
            customer_name=cell(first, "name"), country=country if len(country) == 2 and country.isalpha() else "",
            created_at=moment(cell(first, "created_at")), fulfilled=bool(parcels), parcels=tuple(parcels),
            supplier=next((cell(r, "supplier").lower() for r in rows if "@" in cell(r, "supplier")), ""),
            supplier_order=next((cell(r, "supplier_order") for r in rows if cell(r, "supplier_order")), ""),
        )

