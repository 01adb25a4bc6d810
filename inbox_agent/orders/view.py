"""An order as text lines, for `inbox-agent orders show`."""

from __future__ import annotations

from inbox_agent.orders.model import Order


def order_lines(order: Order) -> list[str]:
    lines = [
        f"order {order.number} ({order.source})",
        f"  customer: {order.customer_name or '?'} <{order.email}>",
        f"  country: {order.country or '?'}",
        f"  placed: {order.created_at.isoformat() if order.created_at else '?'}",
        f"  fulfilled: {'yes' if order.fulfilled else 'no'}",
    ]
    lines += [f"  parcel: {p.number} ({p.carrier}{', ' + p.company if p.company else ''})" for p in order.parcels]
    lines += [f"  item: {i.quantity} x {i.title}" for i in order.items]
    if order.supplier or order.supplier_order:
        lines.append(f"  supplier: {order.supplier or '?'}, supplier's order {order.supplier_order or '?'}")
    return lines
