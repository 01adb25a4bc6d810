"""send: approved replies -> SMTP (or the Sent folder only, in the embedded setup) -> SENT.

Promise: SENDING is committed before SMTP, SENT after the 250. A SENDING left by a crash is
checked against the Sent folder on start: found means SENT, not found means UNCERTAIN for a
person. Nothing is ever resent blindly.

SMTP is talked to step by step, so we know whether the message could have left: anything that goes
wrong before DATA (connection refused, timeouts, TLS, a refused login, MAIL or RCPT) and a DATA
the server answers with an error mean "not sent". 4xx replies, timeouts and connection errors are
retried with a doubling wait (the clock is the runtime's) for [smtp] retry_hours before FAILED; 5xx
is FAILED at once. Only a connection lost during DATA is UNCERTAIN. Every outcome is one log line
naming the case and the recipients.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import aiosmtplib
from sqlalchemy import or_, select

from inbox_agent.config import SmtpConfig
from inbox_agent.domain import OutboxStatus, WorkStatus
from inbox_agent.errors import PermanentError, SendOutcomeUnknown, TransientError
from inbox_agent.mailbox.oauth2 import TokenSource
from inbox_agent.playbook import Facts
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.database import aware
from inbox_agent.store.payloads import EventPayload
from inbox_agent.store.tables import CaseMessage, Event, Intent

FIRST_BACKOFF_SECONDS = 30.0


async def run_once(rt: Runtime) -> int:
    now = rt.clock()
    with rt.db.transaction() as s:
        ids = list(s.scalars(select(Intent.id).where(
            Intent.kind == "reply", Intent.status == OutboxStatus.APPROVED,
            or_(Intent.claimed_until.is_(None), Intent.claimed_until <= now)).order_by(Intent.id)))
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
    async def on_sent(refused: list[str]) -> None:
        await asyncio.to_thread(_finish, rt, intent_id, OutboxStatus.SENT,
                                f"refused by the server: {'; '.join(refused)}" if refused else None)

    try:
        await _smtp_send(smtp, rt.config.store.support_address, recipients, raw, on_sent, _tokens(rt, smtp))
    except TransientError as e:
        await asyncio.to_thread(_not_sent, rt, intent_id, str(e), smtp)
        return 0
    except PermanentError as e:
        await asyncio.to_thread(_finish, rt, intent_id, OutboxStatus.FAILED, str(e))
        return 0
    except SendOutcomeUnknown as e:
        await asyncio.to_thread(_finish, rt, intent_id, OutboxStatus.UNCERTAIN,
                                f"{e}; it may have left: a person must check")
        return 0
    try:
        await asyncio.to_thread(rt.mailbox.append, rt.folders.sent, raw)
    except Exception as e:  # noqa: BLE001 - the mail left; the copy is a convenience
        rt.log(f"send: copy of intent {intent_id} to {rt.folders.sent} failed: {e}")
    return 1


def _tokens(rt: Runtime, smtp: SmtpConfig) -> TokenSource | None:
    """One token source per daemon, so an access token serves until shortly before it expires."""
    if smtp.auth != "oauth2":
        return None
    source = rt.smtp_tokens
    if not isinstance(source, TokenSource):
        source = rt.smtp_tokens = TokenSource(smtp, "smtp")
    return source


async def _smtp_send(smtp: SmtpConfig, sender: str, recipients: list[str], raw: bytes,
                     on_sent: Callable[[list[str]], Awaitable[None]], tokens: TokenSource | None = None) -> None:
    """Send `raw`; right after the server's 250 (before QUIT) `on_sent` is called with the
    recipients the server refused for good (the others got it).

    Raises TransientError / PermanentError when nothing left, SendOutcomeUnknown when it may have.
    """
    context = ssl.create_default_context(cafile=smtp.ca_file) if smtp.tls != "none" else None
    client = aiosmtplib.SMTP(hostname=smtp.host, port=smtp.port, use_tls=smtp.tls == "implicit",
                             start_tls=smtp.tls == "starttls", tls_context=context,
                             username=smtp.username or None, timeout=smtp.timeout_seconds,
                             password=None if tokens else smtp.password() or None,
                             oauth_token_generator=tokens.token_async if tokens else None)
    try:
        try:
            await client.connect()
            utf8 = not all(a.isascii() for a in [sender, *recipients])
            if utf8:
                if client.is_ehlo_or_helo_needed:
                    await client.ehlo()
                if not client.supports_extension("smtputf8"):
                    raise PermanentError("a non-ASCII address, and the server does not offer SMTPUTF8")
            encoding, options = ("utf-8", ["SMTPUTF8"]) if utf8 else ("ascii", [])
            await client.mail(sender, options=options, encoding=encoding)
            accepted, refused = [], []
            for recipient in recipients:
                try:
                    await client.rcpt(recipient, encoding=encoding)
                    accepted.append(recipient)
                except aiosmtplib.SMTPRecipientRefused as e:
                    if 400 <= e.code < 500:
                        raise
                    refused.append(f"{recipient} ({e.code} {e.message})")
        except aiosmtplib.SMTPAuthenticationError as e:  # the message is not at fault: retried, clearly logged
            raise TransientError(f"SMTP {smtp.host}:{smtp.port} refused the login of {smtp.username}: "
                                 f"{e.code} {' '.join(e.message.split())}") from e
        except aiosmtplib.SMTPResponseException as e:
            raise _rejected(e) from e
        except ssl.SSLCertVerificationError as e:
            raise TransientError(f"SMTP {smtp.host}:{smtp.port}: certificate not trusted ({e.verify_message}); "
                                 "[smtp] ca_file names a private CA") from e
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as e:
            raise TransientError(f"SMTP {smtp.host}:{smtp.port} not reachable: {_describe(e)}") from e
        if not accepted:
            raise PermanentError(f"every recipient refused: {'; '.join(refused)}")
        try:
            await client.data(raw)
        except aiosmtplib.SMTPResponseException as e:
            raise _rejected(e) from e
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as e:
            raise SendOutcomeUnknown(f"SMTP connection lost during DATA: {_describe(e)}") from e
        await on_sent(refused)
    finally:
        with contextlib.suppress(Exception):
            await client.quit()
        client.close()


def _describe(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def _rejected(e: aiosmtplib.SMTPResponseException) -> TransientError | PermanentError:
    reason = f"SMTP {e.code} {' '.join(e.message.split())}"
    return TransientError(reason) if 400 <= e.code < 500 or e.code < 200 else PermanentError(reason)


def _not_sent(rt: Runtime, intent_id: int, error: str, smtp: SmtpConfig) -> None:
    """Nothing left: try again after a doubling wait, or FAILED once [smtp] retry_hours are over."""
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        assert intent is not None
        now = rt.clock()
        first = datetime.fromisoformat(intent.payload.smtp_first_failure or now.isoformat())
        if now - (aware(first) or now) >= timedelta(hours=smtp.retry_hours):
            giving_up = True
        else:
            giving_up = False
            wait = min(FIRST_BACKOFF_SECONDS * 2 ** max(intent.attempts - 1, 0), smtp.max_backoff_seconds)
            intent.payload = intent.payload.model_copy(update={"smtp_first_failure": first.isoformat()})
            intent.status, intent.claimed_until = OutboxStatus.APPROVED, now + timedelta(seconds=wait)
            intent.last_error, intent.updated_at = error, now
            rt.log(f"send: case {intent.case_id} intent {intent_id} to {', '.join(intent.recipients)} not sent: "
                   f"{error}; retrying in {wait:.0f} s")
    if giving_up:
        _finish(rt, intent_id, OutboxStatus.FAILED, f"{error}; still failing after {smtp.retry_hours:g} hours")


def _finish(rt: Runtime, intent_id: int, status: OutboxStatus, note: str | None) -> None:
    """Record the outcome and log it in one line."""
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        assert intent is not None
        now = rt.clock()
        intent.last_error, intent.updated_at, intent.claimed_until = note, now, None
        intent.status = status
        rt.log(f"send: case {intent.case_id} intent {intent_id} to {', '.join(intent.recipients)}: {status.value}"
               + (f" ({note})" if note else ""))
        if status == OutboxStatus.SENT and intent.message_id:
            party = intent.payload.party
            s.merge(CaseMessage(message_id=intent.message_id, case_id=intent.case_id, direction="out",
                                party=party, at=now))
            s.add(Event(kind="reply.sent", case_id=intent.case_id,
                        payload=EventPayload(facts=Facts(template=intent.template, party=party)), status=WorkStatus.PENDING,
                        created_at=now))


def reconcile(rt: Runtime) -> int:
    """Settle SENDING rows left by a crash, by looking for their Message-ID in Sent."""
    with rt.db.transaction() as s:
        stale = list(s.scalars(select(Intent).where(Intent.status == OutboxStatus.SENDING)))
    for intent in stale:
        found = intent.message_id and rt.mailbox.find_header(rt.folders.sent, "Message-ID", intent.message_id)
        _finish(rt, intent.id, OutboxStatus.SENT if found else OutboxStatus.UNCERTAIN,
                None if found else "crashed while sending and not found in Sent: a person must check")
    return len(stale)
