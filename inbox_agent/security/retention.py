"""Raw mail is kept `[store] keep_raw_days` (default 90), then dropped from the database: the
parsed summary, the case and its decisions stay; the customer's full message does not."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from inbox_agent.store.tables import InboundMessage


def drop_old_raw(s: Session, now: datetime, keep_days: float) -> int:
    """Empty the raw bytes of inbound messages received more than `keep_days` ago; returns how many."""
    cutoff = now - timedelta(days=keep_days)
    result = s.execute(update(InboundMessage).where(InboundMessage.received_at < cutoff, InboundMessage.raw != b"")
                       .values(raw=b""))
    return int(getattr(result, "rowcount", 0) or 0)
