"""ingest: INBOX -> inbound_message + event(message.received).

Promise: the raw message is committed (unique on folder+UIDVALIDITY+UID and on its message key)
before the server is told we saw it. A crash re-fetches and the unique keys absorb it. Bad MIME
is stored with its reason and set aside; the next message goes on.

Start point: the first start on a folder records where "now" is (`begin`), and only mail arriving
after it is read; what was there before is left alone unless `since` asks for a backfill, whose
messages are marked so they are only ever drafted (`backfill_auto` lifts that). With IMAP the
cursor then moves past every UID handled, so a poll fetches only new UIDs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from inbox_agent.domain import WorkStatus
from inbox_agent.mailbox.base import StoredMessage
from inbox_agent.reading import read_bytes
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.tables import Event, InboundMessage, MailboxCursor, MailboxStart

MAX_RAW_BYTES = 25 * 1024 * 1024
_QUOTED_ID = re.compile(r"(?im)^[ \t>]*message-id:[ \t]*(<[^>\s]+>)")


@dataclass(frozen=True)
class Reading:
    """Where ingest reads from (`start`) and where "now" was at the first start (`first`)."""

    uidvalidity: int
    start: int
    first: int


def begin(rt: Runtime) -> Reading:
    """Record the start point of INBOX (first start, UIDVALIDITY change, a new `since`) and say
    where reading starts; the daemon calls it once before its stages run."""
    folder = rt.folders.inbox
    since = _since(rt)
    uidvalidity = rt.mailbox.uidvalidity(folder)
    with rt.db.transaction() as s:
        cursor, mark = s.get(MailboxCursor, folder), s.get(MailboxStart, folder)
        state = (cursor.uidvalidity, cursor.last_uid) if cursor else None
        recorded = (mark.position, mark.since, mark.started_at.date()) if mark else None
    if state is None or recorded is None:
        now = rt.mailbox.start_point(folder, None)
        point = rt.mailbox.start_point(folder, since) if since else now
        _record(rt, folder, uidvalidity, point.position, now.position, now.older, since)
        rt.log(f"ingest: first start on {folder}: {point.older} older messages left alone"
               + (f" (backfilling since {since}, drafts only)" if since else ""))
        return Reading(uidvalidity, point.position, now.position)
    if state[0] != uidvalidity:
        rt.log(f"ingest: UIDVALIDITY of {folder} changed; rescanning from {recorded[2]} (duplicates are dropped by key)")
        again = rt.mailbox.start_point(folder, recorded[2])
        _record(rt, folder, uidvalidity, again.position, again.position, again.older, None)
        return Reading(uidvalidity, again.position, again.position)
    start, first = state[1], recorded[0]
    if since and (recorded[1] is None or since.isoformat() < recorded[1]):
        back = rt.mailbox.start_point(folder, since)
        start = min(start, back.position)
        with rt.db.transaction() as s:
            cursor = s.get(MailboxCursor, folder)
            mark = s.get(MailboxStart, folder)
            assert cursor is not None and mark is not None
            cursor.last_uid, mark.since = start, since.isoformat()
        rt.log(f"ingest: backfilling {folder} since {since} (drafts only)")
    else:
        rt.log(f"ingest: {folder}: {_older(rt, folder)} older messages left alone")
    return Reading(uidvalidity, start, first)


def _since(rt: Runtime) -> date | None:
    box = rt.config.imap or rt.config.maildir
    return box.since if box is not None else None


def _older(rt: Runtime, folder: str) -> int:
    with rt.db.transaction() as s:
        mark = s.get(MailboxStart, folder)
        return mark.older if mark else 0


def _record(rt: Runtime, folder: str, uidvalidity: int, start: int, first: int, older: int,
            since: date | None) -> None:
    with rt.db.transaction() as s:
        s.merge(MailboxCursor(folder=folder, uidvalidity=uidvalidity, last_uid=start))
        s.merge(MailboxStart(folder=folder, position=first, older=older, since=since.isoformat() if since else None,
                             started_at=rt.clock()))


def run_once(rt: Runtime) -> int:
    reading = rt.extra.get("reading")
    if not isinstance(reading, Reading):
        reading = rt.extra["reading"] = begin(rt)
    folder = rt.folders.inbox
    uidvalidity = rt.mailbox.uidvalidity(folder)
    if uidvalidity != reading.uidvalidity:
        reading = rt.extra["reading"] = begin(rt)
    with rt.db.transaction() as s:
        known = set(s.scalars(select(InboundMessage.uid).where(
            InboundMessage.folder == folder, InboundMessage.uidvalidity == uidvalidity)))
    handled = []
    messages = rt.mailbox.unseen(folder, known, reading.start)
    for stored in messages:
        _store(rt, folder, uidvalidity, stored, backfill=stored.position < reading.first)
        handled.append(stored.uid)
    rt.mailbox.mark_seen(folder, handled)
    if messages and rt.mailbox.positions_grow:
        reading = rt.extra["reading"] = Reading(uidvalidity, max(m.position for m in messages) + 1, reading.first)
        with rt.db.transaction() as s:
            cursor = s.get(MailboxCursor, folder)
            if cursor is not None and cursor.uidvalidity == uidvalidity:
                cursor.last_uid = max(cursor.last_uid, reading.start)
    return len(handled)


def _store(rt: Runtime, folder: str, uidvalidity: int, stored: StoredMessage, backfill: bool = False) -> None:
    now = rt.clock()
    parsed, extraction = read_bytes(stored.raw, rt.config)
    error = parsed.error
    if len(stored.raw) > MAX_RAW_BYTES:
        error = f"message of {len(stored.raw)} bytes is over the {MAX_RAW_BYTES} byte cap"
    key = parsed.message_id or f"sha256:{parsed.fingerprint}"
    summary: dict[str, Any] = {
        "from": parsed.from_address, "from_name": parsed.from_name, "subject": parsed.subject,
        "message_id": parsed.message_id, "thread_ids": list(parsed.thread_ids),
        "automated": list(parsed.automated), "bulk": list(parsed.bulk), "new_text": parsed.new_text[:4000],
        "bounce": parsed.is_bounce, "quoted_ids": _quoted_ids(stored.raw, parsed.message_id) if parsed.is_bounce else [],
    }
    if backfill:
        summary["backfill"] = True
    if extraction is not None:
        summary.update(extraction.contract())
        summary["tracking"] = [{"number": t.number, "carrier": t.carrier} for t in extraction.tracking]
    row = InboundMessage(folder=folder, uidvalidity=uidvalidity, uid=stored.uid, message_key=key,
                         message_id=parsed.message_id, raw=stored.raw[:MAX_RAW_BYTES], summary=summary,
                         status=WorkStatus.SHUNTED if error else WorkStatus.DONE, error=error, received_at=now)
    try:
        with rt.db.transaction() as s:
            s.add(row)
            s.flush()
            if error is None:
                s.add(Event(kind="message.received", payload={"inbound_id": row.id},
                            status=WorkStatus.PENDING, created_at=now))
    except IntegrityError:
        _record_duplicate(rt, row, key)
        return
    if error:
        rt.log(f"ingest: message uid {stored.uid} set aside: {error}")


def _record_duplicate(rt: Runtime, row: InboundMessage, key: str) -> None:
    """Same message again (another UID, or a redelivery): remember the UID, start nothing."""
    rt.log(f"ingest: {key} already stored; duplicate dropped")
    dup = InboundMessage(folder=row.folder, uidvalidity=row.uidvalidity, uid=row.uid,
                         message_key=f"{key}#dup:{row.folder}:{row.uidvalidity}:{row.uid}",
                         message_id=row.message_id, raw=b"", summary={"duplicate_of": key},
                         status=WorkStatus.DONE, error="duplicate", received_at=row.received_at)
    try:
        with rt.db.transaction() as s:
            s.add(dup)
    except IntegrityError:
        pass


def _quoted_ids(raw: bytes, own: str | None) -> list[str]:
    """Message-IDs quoted inside a bounce (the returned message's headers), to find our case."""
    text = raw.decode("latin-1")
    return [m for m in dict.fromkeys(_QUOTED_ID.findall(text)) if m != own][:20]
