"""send: approved replies -> SMTP (or the Sent folder only, in the embedded setup) -> SENT.

Both runners here are the shared queue loop (stages/queue.py); this module only handles one item.

Promise: SENDING is committed before SMTP, SENT after the 250; nothing is ever resent blindly. A
reply is claimed like any queued row, one at a time, and the claim itself moves it from APPROVED
to SENDING (SKIP LOCKED on PostgreSQL, a compare-and-set on SQLite), so two workers never both
send it; the claim holds beyond the longest SMTP conversation. A SENDING whose sender died
(its claim ran out, or its worker was restarted) is settled by `SETTLE`: found in the Sent folder
means SENT, not found means UNCERTAIN for a person.

SMTP is talked to step by step, so we know whether the message could have left: anything that goes
wrong before DATA (connection refused, timeouts, TLS, a refused login, MAIL or RCPT) and a DATA
the server answers with an error mean "not sent": the reply goes back to APPROVED and the runner
sorts the error. 4xx replies, timeouts and connection errors are `TransientError`s, retried with a
doubling wait (the clock is the runtime's) for `[retry.send] give_up_hours` (24) before FAILED;
5xx is a `PermanentError`, FAILED at once. A connection lost during DATA is `SendOutcomeUnknown`:
UNCERTAIN, never retried. Every outcome is one log line naming the case and the recipients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable

import aiosmtplib
from sqlalchemy.orm import Session

from inbox_agent.config import SmtpConfig
from inbox_agent.domain import OutboxStatus, WorkStatus
from inbox_agent.errors import PermanentError, SendOutcomeUnknown, TransientError, short_error
from inbox_agent.mailbox.oauth2 import TokenSource
from inbox_agent.playbook import Facts
from inbox_agent.stages.claims import CLAIM_SECONDS
from inbox_agent.stages.queue import Queue, Row
from inbox_agent.stages.runtime import Runtime
from inbox_agent.store.payloads import EventPayload
from inbox_agent.store.tables import CaseMessage, Event, Intent

log = logging.getLogger("inbox_agent")
SMTP_COMMANDS = 8  # connect, EHLO, STARTTLS, EHLO, AUTH, MAIL, DATA, the end of DATA
MAX_RECIPIENTS = 20  # RCPT commands allowed for in a send's claim (To, Cc and Bcc of one reply)


async def run_once(rt: Runtime) -> int:
    """One round of sending, then of settling what a dead sender left in SENDING."""
    return await SEND.run_once_async(rt) + await asyncio.to_thread(SETTLE.run_once, rt)


async def handle_send(rt: Runtime, intent_id: int) -> None:
    """One reply its claim made SENDING: SMTP (or the Sent folder alone), then its outcome."""
    claimed = await asyncio.to_thread(_claimed, rt, intent_id)
    if claimed is None:
        return
    raw, recipients = claimed
    smtp = rt.config.smtp
    if smtp is None:
        await asyncio.to_thread(rt.mailbox.append, rt.folders.sent, raw)
        await asyncio.to_thread(_finish, rt, intent_id, OutboxStatus.SENT, None)
        return

    async def on_sent(refused: list[str]) -> None:
        await asyncio.to_thread(_finish, rt, intent_id, OutboxStatus.SENT,
                                f"refused by the server: {'; '.join(refused)}" if refused else None)

    try:
        await _smtp_send(smtp, rt.config.store.support_address, recipients, raw, on_sent, _tokens(rt, smtp))
    except (TransientError, PermanentError):
        raise  # nothing left: sorted by the runner (`_not_sent`), tried again with backoff or FAILED
    except Exception as e:  # noqa: BLE001 - lost during DATA, or not sorted by the SMTP edge: it may have left
        if not isinstance(e, SendOutcomeUnknown):
            log.warning("send: unexpected error on intent %s", intent_id, exc_info=e)
        await asyncio.to_thread(_finish, rt, intent_id, OutboxStatus.UNCERTAIN,
                                f"{e if isinstance(e, SendOutcomeUnknown) else short_error(e)}; "
                                "it may have left: a person must check")
        return
    try:
        await asyncio.to_thread(rt.mailbox.append, rt.folders.sent, raw)
    except Exception as e:  # noqa: BLE001 - the mail left; the copy is a convenience
        rt.log(f"send: copy of intent {intent_id} to {rt.folders.sent} failed: {e}")


def _claimed(rt: Runtime, intent_id: int) -> tuple[bytes, list[str]] | None:
    """The message and its recipients, if this worker's claim still holds the reply in SENDING."""
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        if intent is None or intent.sent_raw is None or intent.status != OutboxStatus.SENDING \
                or intent.claimed_by != rt.worker:
            return None
        return intent.sent_raw, list(intent.recipients)


def _sending_seconds(rt: Runtime) -> float:
    """How long a send's claim holds: beyond the longest SMTP conversation, so nobody settles it meanwhile."""
    smtp = rt.config.smtp
    return CLAIM_SECONDS + (smtp.timeout_seconds * (SMTP_COMMANDS + MAX_RECIPIENTS) if smtp is not None else 0)


def _not_sent(rt: Runtime, s: Session, intent: Intent, error: Exception) -> None:
    """With SMTP, a `TransientError` or `PermanentError` that reaches the runner was raised by
    `_smtp_send` before the end of DATA (it raises nothing else of these): nothing left, so the
    reply is APPROVED again, in the transaction that sorts the error. Anything else leaves it
    SENDING, for `SETTLE`."""
    if rt.config.smtp is not None and isinstance(error, TransientError | PermanentError) \
            and intent.status == OutboxStatus.SENDING:
        intent.status = OutboxStatus.APPROVED


def handle_settle(rt: Runtime, intent_id: int) -> None:
    """A SENDING whose sender died: SENT if its Message-ID is in the Sent folder, else UNCERTAIN."""
    with rt.db.transaction() as s:
        intent = s.get(Intent, intent_id)
        if intent is None or intent.status != OutboxStatus.SENDING:
            return
        message_id = intent.message_id
    found = message_id and rt.mailbox.find_header(rt.folders.sent, "Message-ID", message_id)
    _finish(rt, intent_id, OutboxStatus.SENT if found else OutboxStatus.UNCERTAIN,
            None if found else "its sender stopped while sending and it is not in Sent: a person must check")


def _describe_reply(row: Row) -> str:
    recipients = ", ".join(row.recipients) if isinstance(row, Intent) else ""
    return f"case {row.case_id} intent {row.id} to {recipients}"


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




SEND = Queue("send", Intent, (Intent.kind == "reply", Intent.status == OutboxStatus.APPROVED), handle_send,
             OutboxStatus.FAILED, on_failed=_not_sent, describe=_describe_reply, batch=1,
             claimed_status=OutboxStatus.SENDING, claim_seconds=_sending_seconds)
SETTLE = Queue("send", Intent, (Intent.kind == "reply", Intent.status == OutboxStatus.SENDING), handle_settle,
               OutboxStatus.UNCERTAIN, describe=_describe_reply)
