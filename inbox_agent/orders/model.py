"""What an order source knows about one order, the same for every source.

`number` is the store's order number without its '#'; `email` is the address the order was
placed with (the only address its details ever go to). A parcel is a tracking number with the
carrier code of the parse vocabulary ("unknown" when no format names it).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class Parcel(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: str
    carrier: str = "unknown"
    company: str = ""
    url: str = ""


class LineItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    quantity: int = 1


class Order(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: str
    email: str
    source: str
    customer_name: str = ""
    country: str = ""
    created_at: datetime | None = None
    fulfilled: bool = False
    parcels: tuple[Parcel, ...] = ()
    items: tuple[LineItem, ...] = ()
    supplier: str = ""
    supplier_order: str = ""

    def belongs_to(self, address: str) -> bool:
        """Whether `address` is the one the order was placed with (case-insensitive)."""
        return bool(self.email) and self.email.strip().lower() == address.strip().lower()

    def summary(self) -> str:
        """The items in one line, for a list the customer chooses from."""
        return ", ".join(f"{i.quantity} x {i.title}" if i.quantity != 1 else i.title for i in self.items)


def order_number(written: str) -> str:
    """The comparable form of an order number: no '#', no spaces, upper case."""
    return written.strip().lstrip("#").strip().upper()
