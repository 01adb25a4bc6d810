"""draft: intent(reply) -> a draft in the Review folder (or straight to send when automatic).

Promise: before APPEND, Review is searched for the fixed Message-ID, so a crash between APPEND
and the commit never makes two drafts.
"""

from __future__ import annotations

from sqlalchemy import select

from inbox_agent.domain import OutboxStatus
from inbox_agent.render.message import prepare_approved
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.tables import Intent


def run_once(rt: Runtime) -> int:
    with rt.db.transaction() as s:
        pending = list(s.scalars(select(Intent).where(Intent.kind == "reply",
                                                      Intent.status == OutboxStatus.PENDING).order_by(Intent.id)))
    review = rt.folders.review
    for intent in pending:
        assert intent.raw is not None and intent.message_id is not None
        if intent.mode == "auto":
            ready, _, _ = prepare_approved(intent.raw, intent.message_id)
            _update(rt, intent.id, OutboxStatus.APPROVED, sent_raw=ready)
            continue
        found = rt.mailbox.find_header(review, "Message-ID", intent.message_id)
        uid = found[0] if found else rt.mailbox.append(review, intent.raw, draft=True)
        _update(rt, intent.id, OutboxStatus.DRAFTED, review_uid=uid)
    return len(pending)


def _update(rt: Runtime, intent_id: int, status: OutboxStatus, **values: object) -> None:
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        if intent is None or intent.status != OutboxStatus.PENDING:
            return
        intent.status = status
        intent.updated_at = rt.clock()
        if "sent_raw" in values:
            intent.sent_raw = values["sent_raw"]  # type: ignore[assignment]
        if values.get("review_uid"):
            intent.payload = {**intent.payload, "review_uid": values["review_uid"]}
