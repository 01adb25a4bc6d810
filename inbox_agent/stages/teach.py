"""teach: a message an agent moved into `Teach/<intent>` -> processed again with that intent, and
kept as a training example of the store.

The agent's move is the correction: the message (one the daemon left in "Needs attention",
usually because the reader was unsure of it) is found through the note header we wrote on top of
it there (a random ID the sender cannot know: a copy the sender files into Teach/ himself, through
a server that delivers "support+Teach/received@" there, teaches nothing), its intent becomes the
taught one (a fact now, recorded in its summary), and a `message.received` event runs it through
the playbook. The example, with the case's context (our last reply to the sender, see
stages/reply_context.py), is appended to `[reading] examples`/taught.jsonl (the loader drops
repeats), so the next `inbox-agent learn` and the next start learn from it. The summary's
`taught` mark is set in the same transaction as the event, so a crash never processes a
correction twice; the folder's keyword (IMAP) or that mark (Maildir) says it was handled.
"""

from __future__ import annotations

import email.policy
from email.parser import BytesHeaderParser
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from inbox_agent.domain import Intent, Role, WorkStatus
from inbox_agent.extract.training import TrainingExample
from inbox_agent.mailbox.base import NOTE_HEADER, StoredMessage
from inbox_agent.parse import parse_email
from inbox_agent.stages.reply_context import reply_context
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.payloads import EventPayload
from inbox_agent.store.tables import Event, InboundMessage
from inbox_agent.store.tables import Intent as IntentRow

TAUGHT_FILE = "taught.jsonl"
TEACHABLE = tuple(i for i in Intent if i is not Intent.AUTO_REPLY)  # an auto-reply is known for sure


def teach_folders(rt: Runtime) -> dict[str, Intent]:
    """Folder name -> the intent it teaches (`[reading] teach_folders` with `{intent}` filled in)."""
    return {rt.config.reading.teach_folders.format(intent=i.value): i for i in TEACHABLE}


def run_once(rt: Runtime) -> int:
    handled = 0
    looked_at = rt.teach_looked_at
    for folder, intent in teach_folders(rt).items():
        done = []
        start = rt.teach_start.get(folder, 0)
        for uid in rt.mailbox.unseen_uids(folder, {u for f, u in looked_at if f == folder}, start):
            stored = rt.mailbox.fetch(folder, uid)
            if stored is None:
                continue
            if _teach(rt, folder, stored, intent):
                handled += 1
            done.append(stored.uid)
            looked_at.add((folder, stored.uid))
            if rt.mailbox.positions_grow:  # an idle folder then costs one STATUS a round
                rt.teach_start[folder] = max(rt.teach_start.get(folder, 0), stored.position + 1)
        rt.mailbox.mark_seen(folder, done)
    return handled


def _teach(rt: Runtime, folder: str, stored: StoredMessage, intent: Intent) -> bool:
    """True when the message was taught now (False: already taught, or not a message we know)."""
    parsed = parse_email(stored.raw)
    if parsed.error or not parsed.message_id:
        rt.log(f"teach: a message in {folder} cannot be read ({parsed.error or 'no Message-ID'}); left there")
        return False
    with rt.db.transaction() as s:
        inbound = _noted_message(s, stored.raw, parsed.message_id)
        if inbound is None:
            rt.log(f"teach: {parsed.message_id} in {folder} is not a message the daemon left in Needs attention; "
                   "left there")
            return False
        if inbound.summary.taught == intent.value:
            return False
        role = _role(inbound.summary.sender_role)
        context = reply_context(s, inbound.case_id, role.value) if inbound.case_id is not None else None
        example = TrainingExample(parsed.subject, parsed.new_text, intent, role, inbound.summary.language or "",
                                  f"taught:{parsed.message_id}", True, context)
        _keep(rt, example)
        inbound.summary = inbound.summary.model_copy(update={"intent": intent.value, "intent_confident": True,
                                                             "taught": intent.value})
        s.add(Event(kind="message.received", payload=EventPayload(inbound_id=inbound.id, taught=intent.value),
                    status=WorkStatus.PENDING, created_at=rt.clock()))
    rt.log(f"teach: {parsed.message_id} taught as {intent.value}")
    return True


def _noted_message(s: Session, raw: bytes, message_id: str) -> InboundMessage | None:
    """The received message this copy is our note of: its note header names a note we wrote, which
    moved that very message (not another with the same Message-ID) to "Needs attention". The sender
    cannot know the note's random ID, so a copy filed into Teach/ by anyone but an agent (a server
    that files "support+Teach/received@" there, a Sieve rule) teaches nothing."""
    headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    markers = [str(m).strip() for m in headers.get_all(NOTE_HEADER) or []]
    notes = s.scalars(select(IntentRow).where(IntentRow.kind == "note", IntentRow.message_id.in_(markers)))
    for note in notes:
        moved = note.payload.move_from
        if moved is None:
            continue
        inbound = s.scalars(select(InboundMessage).where(
            InboundMessage.folder == moved[0], InboundMessage.uid == moved[1],
            InboundMessage.message_id == message_id, InboundMessage.raw != b"").order_by(InboundMessage.id)).first()
        if inbound is not None:
            return inbound
    return None


def _role(value: object) -> Role:
    try:
        return Role(str(value))
    except ValueError:
        return Role.CUSTOMER


def _keep(rt: Runtime, example: TrainingExample) -> None:
    """Append the example to the store's taught examples (a repeat is dropped when loading)."""
    folder = Path(rt.config.reading.examples)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / TAUGHT_FILE).open("a", encoding="utf-8") as f:
        f.write(example.to_json() + "\n")
