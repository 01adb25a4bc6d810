"""ingest: INBOX -> inbound_message + event(message.received).

Promise: the raw message is committed (unique on folder+UIDVALIDITY+UID and on its message key)
before the server is told we saw it. A crash re-fetches and the unique keys absorb it. Bad MIME
is stored with its reason and set aside; the next message goes on.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from inbox_agent.domain import WorkStatus
from inbox_agent.mailbox.base import StoredMessage
from inbox_agent.reading import read_bytes
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.tables import Event, InboundMessage, MailboxCursor

MAX_RAW_BYTES = 25 * 1024 * 1024
_QUOTED_ID = re.compile(r"(?im)^[ \t>]*message-id:[ \t]*(<[^>\s]+>)")


def run_once(rt: Runtime) -> int:
    folder = rt.folders.inbox
    uidvalidity = rt.mailbox.uidvalidity(folder)
    with rt.db.transaction() as s:
        cursor = s.get(MailboxCursor, folder)
        if cursor is None:
            s.add(MailboxCursor(folder=folder, uidvalidity=uidvalidity, last_uid=0))
        elif cursor.uidvalidity != uidvalidity:
            rt.log(f"ingest: UIDVALIDITY of {folder} changed; rescanning (duplicates are dropped by key)")
            cursor.uidvalidity, cursor.last_uid = uidvalidity, 0
        known = set(s.scalars(select(InboundMessage.uid).where(
            InboundMessage.folder == folder, InboundMessage.uidvalidity == uidvalidity)))
    handled = []
    for stored in rt.mailbox.unseen(folder, known):
        _store(rt, folder, uidvalidity, stored)
        handled.append(stored.uid)
    rt.mailbox.mark_seen(folder, handled)
    return len(handled)


def _store(rt: Runtime, folder: str, uidvalidity: int, stored: StoredMessage) -> None:
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
    if extraction is not None:
        summary.update(extraction.contract())
        summary["tracking"] = [{"number": t.number, "carrier": t.carrier} for t in extraction.tracking]
        summary["intent_guesses"] = [[i.value, round(p, 3)] for i, p in extraction.guesses]
        summary["intent_why"] = [w for w in extraction.why.get("intent", []) if w.startswith("model:")]
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
