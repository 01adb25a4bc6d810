"""ingest: INBOX -> inbound_message + event(message.received).

Promise: the raw message is committed (unique on folder+UIDVALIDITY+UID and on its message key)
before the server is told we saw it. A crash re-fetches and the unique keys absorb it. Messages
are fetched one at a time and stored in groups (group commit): the messages read since the last
commit are inserted in one transaction, then marked seen in one command. A group ends at
GROUP_MESSAGES messages, GROUP_BYTES of raw mail (so catching up holds at most that plus one
message in memory, not the backlog) or once reading it took GROUP_CPU_SECONDS of this thread's
CPU time (the bound of the queues' group commit, stages/queue.py: a busy machine does not shrink
the groups), and before a message that cannot be read. When a group's transaction fails (a unique key: a message stored
already; the database), nothing of it was committed or marked, and each of its messages is
stored alone, by the paths below, before any is marked seen. Bad MIME
is stored with its reason and set aside; a message whose storing fails is stored again bare and
moved to "Needs attention" with the error (if even that fails it is copied there directly), and
the next message goes on. A reused Message-ID is a duplicate only when the content is the same.

Start point: the first start on a folder records where "now" is (`begin`), and only mail arriving
after it is read; what was there before is left alone unless `since` asks for a backfill, whose
messages are marked so they are only ever drafted (`backfill_auto` lifts that). With IMAP the
cursor then moves past every UID handled, so a poll fetches only new UIDs.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from inbox_agent.domain import Role, WorkStatus
from inbox_agent.errors import short_error
from inbox_agent.mailbox.base import StoredMessage
from inbox_agent.parse import ParsedEmail
from inbox_agent.progress import catch_up
from inbox_agent.reading import read_bytes
from inbox_agent.security.budget import take_many
from inbox_agent.security.retention import drop_old_raw
from inbox_agent.security.sender import check_sender
from inbox_agent.stages.actions import leave_for_people
from inbox_agent.stages.queue import GROUP_CPU_SECONDS
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.payloads import EventPayload, Summary
from inbox_agent.store.tables import Event, InboundMessage, MailboxCursor, MailboxStart

MAX_RAW_BYTES = 25 * 1024 * 1024
_QUOTED_ID = re.compile(r"(?im)^[ \t>]*message-id:[ \t]*(<[^>\s]{1,998}>)")
_RETENTION_EVERY = timedelta(hours=1)
_UIDS_PER_QUERY = 500
GROUP_MESSAGES = 20  # messages stored in one transaction and marked seen in one command, at most
GROUP_BYTES = 2 * 1024 * 1024  # raw mail a group holds in memory before it is stored


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
        try:
            _record(rt, folder, uidvalidity, point.position, now.position, now.older, since,
                    first_start=state is None and recorded is None)
        except IntegrityError:  # another worker starting at the same moment recorded it first: theirs holds
            return begin(rt)
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
            since: date | None, first_start: bool = False) -> None:
    """Where reading starts; on a first start the rows are inserted, so that of two workers
    starting together the second fails (IntegrityError) instead of overwriting the first's."""
    cursor = MailboxCursor(folder=folder, uidvalidity=uidvalidity, last_uid=start)
    mark = MailboxStart(folder=folder, position=first, older=older, since=since.isoformat() if since else None,
                        started_at=rt.clock())
    with rt.db.transaction() as s:
        if first_start:
            s.add_all([cursor, mark])
        else:
            s.merge(cursor)
            s.merge(mark)


def run_once(rt: Runtime) -> int:
    reading = rt.reading
    if reading is None:
        reading = rt.reading = begin(rt)
    folder = rt.folders.inbox
    uidvalidity = rt.mailbox.uidvalidity(folder)
    if uidvalidity != reading.uidvalidity:
        reading = rt.reading = begin(rt)
    handled = 0
    top: int | None = None
    uids = _new_uids(rt, folder, uidvalidity, reading.start)
    group = _Group(rt, folder, uidvalidity)
    with catch_up(f"ingest: {folder}", len(uids), rt.log) as advance:
        for uid in uids:
            stored = rt.mailbox.fetch(folder, uid)
            if stored is not None:
                group.add(stored, backfill=stored.position < reading.first)
                handled += 1
                top = max(top or 0, stored.position)
            if group.full():
                group.store()
            advance()
        group.store()
    if top is not None and rt.mailbox.positions_grow:
        reading = rt.reading = Reading(uidvalidity, top + 1, reading.first)
        with rt.db.transaction() as s:
            cursor = s.get(MailboxCursor, folder)
            if cursor is not None and cursor.uidvalidity == uidvalidity:
                cursor.last_uid = max(cursor.last_uid, reading.start)
    _drop_old_raw(rt)
    return handled


def _new_uids(rt: Runtime, folder: str, uidvalidity: int, start: int) -> list[str]:
    """The folder's uids past `start` that are not stored yet. Where positions grow (IMAP) the
    cursor already skips what was read, so only the few uids the mailbox names are looked up,
    never every uid of the folder (a cost that would grow with the mailbox)."""
    stored = (InboundMessage.folder == folder, InboundMessage.uidvalidity == uidvalidity)
    known: set[str] = set()
    if not rt.mailbox.positions_grow:
        with rt.db.transaction() as s:
            known.update(s.scalars(select(InboundMessage.uid).where(*stored)))
        return rt.mailbox.unseen_uids(folder, known, start)
    uids = rt.mailbox.unseen_uids(folder, known, start)
    with rt.db.transaction() as s:
        for at in range(0, len(uids), _UIDS_PER_QUERY):
            batch = uids[at:at + _UIDS_PER_QUERY]
            known.update(s.scalars(select(InboundMessage.uid).where(*stored, InboundMessage.uid.in_(batch))))
    return [uid for uid in uids if uid not in known]


@dataclass(frozen=True)
class _Read:
    """A message read and its row built, not stored yet: `summary` as read (before any budget
    trims the row's), `error` the reason it is set aside (its row then queues no event)."""

    stored: StoredMessage
    backfill: bool
    parsed: ParsedEmail
    summary: Summary
    row: InboundMessage
    error: str | None


class _Group:
    """The messages read since the last commit (module docstring: group commit)."""

    def __init__(self, rt: Runtime, folder: str, uidvalidity: int) -> None:
        self.rt, self.folder, self.uidvalidity = rt, folder, uidvalidity
        self.reads: list[_Read] = []
        self.size = 0
        self.began = 0.0

    def add(self, stored: StoredMessage, backfill: bool) -> None:
        """Read `stored` into the group; one that cannot be read is stored alone (set aside) after
        the group so far, so the messages keep their order."""
        try:
            read = _read(self.rt, self.folder, self.uidvalidity, stored, backfill)
        except Exception:  # noqa: BLE001 - its own path below sets it aside with the error
            self.store()
            _ingest(self.rt, self.folder, self.uidvalidity, stored, backfill)
            self.rt.mailbox.mark_seen(self.folder, [stored.uid])
            return
        if not self.reads:
            self.began = time.thread_time()
        self.reads.append(read)
        self.size += len(stored.raw)

    def full(self) -> bool:
        return bool(self.reads) and (len(self.reads) >= GROUP_MESSAGES or self.size >= GROUP_BYTES
                                     or time.thread_time() - self.began >= GROUP_CPU_SECONDS)

    def store(self) -> None:
        """Commit the group's messages together, then mark them seen; when the transaction fails,
        each is stored alone first (its duplicate and set-aside paths)."""
        reads, self.reads, self.size = self.reads, [], 0
        if not reads:
            return
        try:
            with self.rt.db.transaction() as s:
                _add(self.rt, s, [(read.row, read.error is None) for read in reads])
        except Exception:  # noqa: BLE001 - nothing of the group committed: each message alone, as it would be
            for read in reads:
                _ingest(self.rt, self.folder, self.uidvalidity, read.stored, read.backfill)
        else:
            for read in reads:
                if read.error:
                    self.rt.log(f"ingest: message uid {read.stored.uid} set aside: {read.error}")
        self.rt.mailbox.mark_seen(self.folder, [read.stored.uid for read in reads])


def _ingest(rt: Runtime, folder: str, uidvalidity: int, stored: StoredMessage, backfill: bool) -> None:
    """Store one message; a failure is tried once more as a bare row set aside for people."""
    try:
        _store(rt, folder, uidvalidity, stored, backfill=backfill)
        return
    except Exception as e:  # noqa: BLE001 - one poison message never stops ingest
        error = short_error(e)
    rt.log(f"ingest: message uid {stored.uid} could not be stored ({error}); setting it aside")
    try:
        _quarantine(rt, folder, uidvalidity, stored, error)
    except Exception as e:  # noqa: BLE001 - second failure: the mailbox keeps it for people
        rt.log(f"ingest: message uid {stored.uid} failed twice ({short_error(e)}); copied to "
               f"{rt.folders.attention}")
        rt.mailbox.append(rt.folders.attention, stored.raw)


def _store(rt: Runtime, folder: str, uidvalidity: int, stored: StoredMessage, backfill: bool = False) -> None:
    """Store one message in a transaction of its own: a duplicate is recorded as one, a reused
    Message-ID with other content stored as its own message."""
    read = _read(rt, folder, uidvalidity, stored, backfill)
    row, error, parsed, summary = read.row, read.error, read.parsed, read.summary
    if _insert(rt, row, error is None):
        if error:
            rt.log(f"ingest: message uid {stored.uid} set aside: {error}")
        return
    key = row.message_key
    if parsed.message_id is None or _same_content(rt, key, parsed):
        _record_duplicate(rt, row, key)
        return
    rt.log(f"ingest: {key} is reused by a message with other content; stored as its own message")
    own = InboundMessage(folder=folder, uidvalidity=uidvalidity, uid=stored.uid, message_key=f"sha256:{parsed.fingerprint}",
                         message_id=None, raw=row.raw,
                         summary=summary.model_copy(update={"message_id": None, "message_id_reused": True}),
                         status=row.status, error=error, received_at=row.received_at)
    if not _insert(rt, own, error is None):
        _record_duplicate(rt, own, own.message_key)


def _read(rt: Runtime, folder: str, uidvalidity: int, stored: StoredMessage, backfill: bool) -> _Read:
    """Parse and read `stored`, and build its row (no database work)."""
    now = rt.clock()
    parsed, extraction = read_bytes(stored.raw, rt.config)
    error = parsed.error
    if len(stored.raw) > MAX_RAW_BYTES:
        error = f"message of {len(stored.raw)} bytes is over the {MAX_RAW_BYTES} byte cap"
    read: dict[str, object] = {  # as the parse contract and the sender check name them
        "from": parsed.from_address, "from_name": parsed.from_name, "subject": parsed.subject,
        "message_id": parsed.message_id, "thread_ids": list(parsed.thread_ids),
        "automated": list(parsed.automated), "bulk": list(parsed.bulk), "new_text": parsed.new_text[:4000],
        "bounce": parsed.is_bounce, "quoted_ids": _quoted_ids(stored.raw, parsed.message_id) if parsed.is_bounce else [],
        "fingerprint": parsed.fingerprint, "sender_problem": parsed.sender_problem,
    }
    if backfill:
        read["backfill"] = True
    if extraction is not None:
        read.update(extraction.contract())
        cap = rt.config.security.max_tracking_per_message
        read["tracking"] = [{"number": t.number, "carrier": t.carrier} for t in extraction.tracking[:cap]]
        if len(extraction.tracking) > cap:
            read["tracking_dropped"] = len(extraction.tracking) - cap
        read["intent_guesses"] = [[i.value, round(p, 3)] for i, p in extraction.guesses]
        read["intent_why"] = [w for w in extraction.why.get("intent", []) if w.startswith("model:")]
        security = rt.config.security
        partner = extraction.role in (Role.SUPPLIER, Role.DISTRIBUTOR)
        if partner or security.trusted_authserv_id:  # anyone else: only our server's verdict (no DNS)
            verdict = check_sender(stored.raw, parsed.from_address, security.trusted_authserv_id,
                                   security.verify_dkim and partner, rt.dns)
            read["sender_check"] = {"proven": verdict.proven, "how": verdict.how, "refuted": verdict.refuted}
    summary = Summary.model_validate(_without_nul(read))
    key = parsed.message_id or f"sha256:{parsed.fingerprint}"
    row = InboundMessage(folder=folder, uidvalidity=uidvalidity, uid=stored.uid, message_key=key,
                         message_id=parsed.message_id, raw=stored.raw[:MAX_RAW_BYTES], summary=summary,
                         status=WorkStatus.SHUNTED if error else WorkStatus.DONE, error=error, received_at=now)
    return _Read(stored, backfill, parsed, summary, row, error)


def _insert(rt: Runtime, row: InboundMessage, with_event: bool) -> bool:
    """Commit the row (and its event); False when a unique key says it is already stored."""
    try:
        with rt.db.transaction() as s:
            _add(rt, s, [(row, with_event)])
    except IntegrityError:
        return False
    return True


def _add(rt: Runtime, s: Session, rows: list[tuple[InboundMessage, bool]]) -> None:
    """The rows, each within its sender's daily budget of tracking numbers (their budgets read in
    one SELECT), inserted together (their ids then go into the events), and the message.received
    event of each row whose flag says so."""
    counted = [row for row, _ in rows if row.summary.tracking]
    if counted:
        limit = rt.config.security.max_tracking_per_sender_per_day
        granted = take_many(s, [(f"tracking:{row.summary.sender}", row.received_at, len(row.summary.tracking))
                                for row in counted], limit)
        for row, units in zip(counted, granted, strict=True):
            _trim(row, units)
    s.add_all([row for row, _ in rows])
    s.flush()
    s.add_all([Event(kind="message.received", payload=EventPayload(inbound_id=row.id), status=WorkStatus.PENDING,
                     created_at=row.received_at) for row, with_event in rows if with_event])


def _trim(row: InboundMessage, granted: int) -> None:
    """The row's tracking numbers cut to the `granted` first (the others counted as dropped)."""
    tracking = row.summary.tracking
    if granted < len(tracking):
        row.summary = row.summary.model_copy(update={
            "tracking": tracking[:granted], "tracking_dropped": row.summary.tracking_dropped + len(tracking) - granted})


def _same_content(rt: Runtime, key: str, parsed: ParsedEmail) -> bool:
    with rt.db.transaction() as s:
        existing = s.scalar(select(InboundMessage).where(InboundMessage.message_key == key))
        if existing is None:
            return True  # the (folder, UIDVALIDITY, UID) key matched: the same message fetched again
        known = existing.summary.fingerprint or hashlib.sha256(existing.raw).hexdigest()
        return bool(known == parsed.fingerprint)


def _quarantine(rt: Runtime, folder: str, uidvalidity: int, stored: StoredMessage, error: str) -> None:
    """The message without anything parsed from it, set aside with its error, and moved to people."""
    fingerprint = hashlib.sha256(stored.raw).hexdigest()
    now = rt.clock()
    with rt.db.transaction() as s:
        row = InboundMessage(folder=folder, uidvalidity=uidvalidity, uid=stored.uid,
                             message_key=f"sha256:{fingerprint}:{folder}:{uidvalidity}:{stored.uid}",
                             message_id=None, raw=stored.raw[:MAX_RAW_BYTES], summary=Summary(fingerprint=fingerprint),
                             status=WorkStatus.SHUNTED, error=error, received_at=now)
        s.add(row)
        s.flush()
        leave_for_people(rt, s, row, None, now, reason=f"could not be stored: {error}")


def _record_duplicate(rt: Runtime, row: InboundMessage, key: str) -> None:
    """Same message again (another UID, or a redelivery): remember the UID, start nothing."""
    rt.log(f"ingest: {key[:200]} already stored; duplicate dropped")
    dup = InboundMessage(folder=row.folder, uidvalidity=row.uidvalidity, uid=row.uid,
                         message_key=f"sha256:{hashlib.sha256(key.encode()).hexdigest()}#dup:{row.folder}:"
                                     f"{row.uidvalidity}:{row.uid}",
                         message_id=row.message_id, raw=b"", summary=Summary(duplicate_of=key),
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


def _without_nul(value: object) -> object:
    """NUL is not text (PostgreSQL refuses it): strip it from every string of the summary."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def _drop_old_raw(rt: Runtime) -> None:
    """Retention ([store] keep_raw_days), at most once an hour."""
    now = rt.clock()
    if rt.raw_retention_due is not None and now < rt.raw_retention_due:
        return
    rt.raw_retention_due = now + _RETENTION_EVERY
    with rt.db.transaction() as s:
        dropped = drop_old_raw(s, now, rt.config.store.keep_raw_days)
    if dropped:
        rt.log(f"ingest: raw mail of {dropped} messages older than {rt.config.store.keep_raw_days:g} days dropped")
