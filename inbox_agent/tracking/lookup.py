"""`inbox-agent track`: normalise what the user typed, identify the carrier, ask the tracker."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta

from inbox_agent.config import Config
from inbox_agent.extract.formats import load_format_book
from inbox_agent.store.database import Database
from inbox_agent.tracking.cache import Cache, DatabaseCache
from inbox_agent.tracking.status import TrackingStatus
from inbox_agent.tracking.tracker import build_tracker


def track_numbers(config: Config, written: Iterable[str], cache_in_database: bool = False
                  ) -> tuple[list[TrackingStatus], list[str]]:
    """Merged statuses in the order given, and notes for the user (sample data, providers off)."""
    book = load_format_book()
    pairs = []
    for raw in written:
        number = re.sub(r"[\s\-]", "", raw).upper()
        identified = book.identify(number)
        pairs.append((identified.number if identified else number, identified.carrier if identified else "unknown"))
    cache: Cache | None = None
    db: Database | None = None
    if cache_in_database:
        db = Database(config.database.url)
        db.create()
        cache = DatabaseCache(db, timedelta(minutes=config.tracking.ttl_minutes))
    tracker = build_tracker(config.tracking, cache, default_country=config.store.default_country, budgets=db)
    notes = [f"tracking provider off: {s}" for s in tracker.skipped]
    if tracker.sample:
        notes.append("no tracking service configured: answering from BUILT-IN SAMPLE DATA")
    try:
        results = tracker.track(pairs)
    finally:
        tracker.close()
    return [results[n] for n, _ in pairs], notes
