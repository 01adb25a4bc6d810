"""draft: intent(reply) -> a draft in the Review folder (or straight to send when automatic);
intent(note) -> a message for people in the "Needs attention" folder.

Promise: a crash between APPEND and the commit never makes two copies. Each intent is claimed
(stages/queue.py) before its APPEND, and the claim counts the try; a retried intent (an earlier
try may have appended it) is first searched for by its fixed Message-ID (our note header for
notes). A first try skips that search, whose cost grows with the folder. A draft the server
refuses is set aside alone with the server's answer; the others go on.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from sqlalchemy import Table, select, update

from inbox_agent.domain import OutboxStatus
from inbox_agent.mailbox.base import NOTE_HEADER
from inbox_agent.mailbox.proof import add_proof, carries_proof, draft_key, token
from inbox_agent.render.message import prepare_approved
from inbox_agent.stages.queue import Queue
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.tables import InboundMessage, Intent


def run_once(rt: Runtime) -> int:
    return REPLIES.run_once(rt) + NOTES.run_once(rt)


def handle_reply(rt: Runtime, intent_id: int) -> None:
    """One reply: to Review as a draft (carrying its proof), or straight to send when automatic."""
    intent = _pending(rt, intent_id)
    if intent is None:
        return
    assert intent.raw is not None and intent.message_id is not None
    if intent.mode == "auto" and not _over_auto_limit(rt, intent) and not _backfilled(rt, intent):
        ready, _, _ = prepare_approved(intent.raw, intent.message_id)
        _update(rt, intent, OutboxStatus.APPROVED, sent_raw=ready)
        return
    retried = intent.attempts > 1
    uid = (_already_there(rt, intent.message_id) if retried else None) or rt.mailbox.append(
        rt.folders.review, _with_proof(rt, intent), draft=True)
    _update(rt, intent, OutboxStatus.DRAFTED, review_uid=uid)


def _over_auto_limit(rt: Runtime, intent: Intent) -> bool:
    """A loop guard: past [replies] max_auto_per_sender_per_day automatic messages to the same
    address, or [security] max_auto_per_case_per_day on the same case, in 24 hours, the next one
    waits in Review for a person instead."""
    since = rt.clock() - timedelta(days=1)
    with rt.db.transaction() as s:
        recent = s.scalars(select(Intent.recipients).where(
            Intent.kind == "reply", Intent.mode == "auto", Intent.id != intent.id, Intent.updated_at >= since,
            Intent.status.in_([OutboxStatus.APPROVED, OutboxStatus.SENDING, OutboxStatus.SENT])))
        count = sum(1 for recipients in recent if set(recipients) & set(intent.recipients))
        per_case = len(list(s.scalars(select(Intent.id).where(
            Intent.kind == "reply", Intent.mode == "auto", Intent.id != intent.id, Intent.updated_at >= since,
            Intent.case_id == intent.case_id,
            Intent.status.in_([OutboxStatus.APPROVED, OutboxStatus.SENDING, OutboxStatus.SENT])))))
    over = count >= rt.config.replies.max_auto_per_sender_per_day
    if over:
        rt.log(f"draft: {count} automatic messages to {', '.join(intent.recipients)} today; intent {intent.id} "
               "waits in Review")
    elif per_case >= rt.config.security.max_auto_per_case_per_day:
        rt.log(f"draft: {per_case} automatic messages on case {intent.case_id} today; intent {intent.id} "
               "waits in Review")
        over = True
    return over


def _with_proof(rt: Runtime, intent: Intent) -> bytes:
    """The draft as it goes to Review: carrying the proof that we wrote it (mailbox/proof.py).
    A reply composed as a draft carries it already; an automatic one diverted to Review gets it now."""
    assert intent.raw is not None
    if carries_proof(intent.raw):
        return intent.raw
    return add_proof(intent.raw, token(draft_key(rt.db), intent.case_id, intent.id, list(intent.recipients)))


def _backfilled(rt: Runtime, intent: Intent) -> bool:
    """Mail older than the daemon's first start (read only because `since` asked for it) is answered
    by drafts for a person, unless `backfill_auto` says otherwise."""
    box = rt.config.imap or rt.config.maildir
    if intent.case_id is None or (box is not None and box.backfill_auto):
        return False
    with rt.db.transaction() as s:
        summaries = s.scalars(select(InboundMessage.summary).where(InboundMessage.case_id == intent.case_id))
        backfilled = any(summary.backfill for summary in summaries)
    if backfilled:
        rt.log(f"draft: case {intent.case_id} began before the first start (backfill); intent {intent.id} waits "
               "in Review")
    return backfilled


def _already_there(rt: Runtime, message_id: str) -> str | None:
    """The draft's uid if a copy exists: in Review, or already moved on by an agent (Approved,
    Rejected) before the crash let us record it."""
    folders = rt.folders
    for folder in (folders.review, folders.approved, folders.rejected):
        found = rt.mailbox.find_header(folder, "Message-ID", message_id)
        if found:
            return found[0]
    return None


def _pending(rt: Runtime, intent_id: int) -> Intent | None:
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        return intent if intent is not None and intent.status == OutboxStatus.PENDING else None


def handle_note(rt: Runtime, intent_id: int) -> None:
    """One note for people: copied to "Needs attention", then (when it is a message moved there)
    removed from where it was."""
    note = _pending(rt, intent_id)
    if note is None:
        return
    assert note.raw is not None and note.message_id is not None
    folder = rt.folders.attention
    if note.attempts <= 1 or not rt.mailbox.find_header(folder, NOTE_HEADER, note.message_id):
        rt.mailbox.append(folder, note.raw)
    source = note.payload.move_from
    if source is not None:
        rt.mailbox.delete(source[0], [source[1]])
    _update(rt, note, OutboxStatus.DONE)


def _update(rt: Runtime, intent: Intent, status: OutboxStatus, sent_raw: bytes | None = None,
            review_uid: str | None = None) -> None:
    """The intent's new status, in one UPDATE that applies only while it is still pending (the
    row is not read again: its payload is the one read by `_pending` under this worker's claim).
    A statement on the table itself: the ORM's bulk UPDATE of the mapped class costs several
    times its CPU, and no row of this session needs synchronising."""
    values: dict[str, object] = {
        "status": status, "updated_at": rt.clock(),
        # out of the draft queue: send may take it at once, and counts its own tries
        "claimed_until": None, "claimed_by": None, "attempts": 0}
    if sent_raw is not None:
        values["sent_raw"] = sent_raw
    if review_uid:
        values["payload"] = intent.payload.model_copy(update={"review_uid": review_uid})
    with rt.db.transaction() as s:
        table = cast("Table", Intent.__table__)
        s.execute(update(table).where(table.c.id == intent.id, table.c.status == OutboxStatus.PENDING).values(values))


REPLIES = Queue("draft", Intent, (Intent.kind == "reply", Intent.status == OutboxStatus.PENDING), handle_reply,
                OutboxStatus.FAILED)
NOTES = Queue("draft", Intent, (Intent.kind == "note", Intent.status == OutboxStatus.PENDING), handle_note,
              OutboxStatus.FAILED)
