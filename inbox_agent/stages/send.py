"""send: approved replies -> SMTP (or the Sent folder only, in the embedded setup) -> SENT.

Promise: SENDING is committed before SMTP, SENT after the 250. A SENDING left by a crash is
checked against the Sent folder on start: found means SENT, not found means UNCERTAIN for a
person. Nothing is ever resent blindly.
"""

from __future__ import annotations

import asyncio
import ssl

import aiosmtplib
from sqlalchemy import select

from inbox_agent.config import SmtpConfig
from inbox_agent.domain import OutboxStatus, WorkStatus
from inbox_agent.stages.claims import MAX_ATTEMPTS
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.tables import CaseMessage, Event, Intent


async def run_once(rt: Runtime) -> int:
    with rt.db.transaction() as s:
        ids = list(s.scalars(select(Intent.id).where(Intent.kind == "reply",
                                                     Intent.status == OutboxStatus.APPROVED).order_by(Intent.id)))
    sent = 0
    for intent_id in ids:
        if not await asyncio.to_thread(_mark_sending, rt, intent_id):
            continue
        sent += await _deliver(rt, intent_id)
    return sent


def _mark_sending(rt: Runtime, intent_id: int) -> bool:
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id, with_for_update=True)
        if intent is None or intent.status != OutboxStatus.APPROVED:
            return False
        intent.status, intent.updated_at = OutboxStatus.SENDING, rt.clock()
        intent.attempts += 1
        return True


async def _deliver(rt: Runtime, intent_id: int) -> int:
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        assert intent is not None and intent.sent_raw is not None
        raw, recipients = intent.sent_raw, list(intent.recipients)
    smtp = rt.config.smtp
    if smtp is None:
        await asyncio.to_thread(rt.mailbox.append, rt.folders.sent, raw)
        await asyncio.to_thread(_finish, rt, intent_id, OutboxStatus.SENT, None)
        return 1
    try:
        await _smtp_send(smtp, rt.config.store.support_address, recipients, raw)
    except aiosmtplib.SMTPResponseException as e:
        retry = 400 <= e.code < 500
        outcome = None if retry else OutboxStatus.FAILED
        await asyncio.to_thread(_finish, rt, intent_id, outcome, f"SMTP {e.code}: {e.message}")
        return 0
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPConnectTimeoutError, ConnectionRefusedError) as e:
        await asyncio.to_thread(_finish, rt, intent_id, None, f"SMTP not reachable: {e}")
        return 0
    except (aiosmtplib.SMTPException, OSError) as e:
        await asyncio.to_thread(_finish, rt, intent_id, OutboxStatus.UNCERTAIN, f"SMTP outcome unknown: {e}")
        return 0
    await asyncio.to_thread(_finish, rt, intent_id, OutboxStatus.SENT, None)
    try:
        await asyncio.to_thread(rt.mailbox.append, rt.folders.sent, raw)
    except Exception as e:  # noqa: BLE001 - the mail left; the copy is a convenience
        rt.log(f"send: copy of intent {intent_id} to {rt.folders.sent} failed: {e}")
    return 1


async def _smtp_send(smtp: SmtpConfig, sender: str, recipients: list[str], raw: bytes) -> None:
    context = ssl.create_default_context() if smtp.tls != "none" else None
    await aiosmtplib.send(
        raw, sender=sender, recipients=recipients, hostname=smtp.host, port=smtp.port,
        use_tls=smtp.tls == "implicit", start_tls=smtp.tls == "starttls",
        tls_context=context, username=smtp.username or None, password=smtp.password() or None, timeout=30,
    )


def _finish(rt: Runtime, intent_id: int, status: OutboxStatus | None, error: str | None) -> None:
    """Record the outcome; `status` None means "not sent, try again" (back to APPROVED)."""
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        assert intent is not None
        now = rt.clock()
        intent.last_error, intent.updated_at = error, now
        if status is None:
            intent.status = OutboxStatus.APPROVED if intent.attempts < MAX_ATTEMPTS else OutboxStatus.FAILED
            return
        intent.status = status
        if status == OutboxStatus.SENT and intent.message_id:
            party = str(intent.payload.get("party", "customer"))
            s.merge(CaseMessage(message_id=intent.message_id, case_id=intent.case_id, direction="out",
                                party=party, at=now))
            s.add(Event(kind="reply.sent", case_id=intent.case_id,
                        payload={"facts": {"template": intent.template, "party": party}}, status=WorkStatus.PENDING,
                        created_at=now))
        if error:
            rt.log(f"send: intent {intent_id} {status.value}: {error}")


def reconcile(rt: Runtime) -> int:
    """Settle SENDING rows left by a crash, by looking for their Message-ID in Sent."""
    with rt.db.transaction() as s:
        stale = list(s.scalars(select(Intent).where(Intent.status == OutboxStatus.SENDING)))
    for intent in stale:
        found = intent.message_id and rt.mailbox.find_header(rt.folders.sent, "Message-ID", intent.message_id)
        _finish(rt, intent.id, OutboxStatus.SENT if found else OutboxStatus.UNCERTAIN,
                None if found else "crashed while sending and not found in Sent: a person must check")
    return len(stale)
