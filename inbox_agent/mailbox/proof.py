"""Draft proof: a secret token we put in every draft, so a draft is recognised by what only we can
write, never by a header anyone can forge.

The token is `IA-<intent id>-<HMAC-SHA256 over case, intent and recipients>` with a random key kept
in the database. It rides in our header and in a reference line at the end of the text (and HTML)
body, where it survives clients that drop unknown headers and change the Message-ID (Gmail web,
Thunderbird "Edit As New"); the reference line is taken out again before sending.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from inbox_agent.errors import PermanentError
from inbox_agent.mailbox.base import INTERNAL_HEADER
from inbox_agent.render.message import OUTGOING
from inbox_agent.store.database import Database
from inbox_agent.store.tables import SecretKey

KEY_NAME = "draft_proof"
TOKEN = re.compile(r"\bIA-(\d{1,12})-([0-9a-f]{24})\b")
_REFERENCE_LINE = re.compile(r"[ \t]*(?:<p[^>]*>\s*)?Ref\.?[ \t]*IA-\d{1,12}-[0-9a-f]{24}(?:\s*</p>)?[ \t]*\r?\n?")


def draft_key(db: Database) -> bytes:
    """The database's draft-proof key, made on first use (two workers racing agree on one)."""
    with db.transaction() as s:
        row = s.get(SecretKey, KEY_NAME)
        if row is not None:
            return row.value
    try:
        with db.transaction() as s:
            s.add(SecretKey(name=KEY_NAME, value=secrets.token_bytes(32)))
    except IntegrityError:
        pass
    with db.transaction() as s:
        row = s.get(SecretKey, KEY_NAME)
        assert row is not None
        return row.value


def token(key: bytes, case_id: int | None, intent_id: int, recipients: list[str]) -> str:
    signed = f"{case_id or 0}|{intent_id}|{','.join(sorted(r.lower() for r in recipients))}".encode()
    return f"IA-{intent_id}-{hmac.new(key, signed, hashlib.sha256).hexdigest()[:24]}"


def verify(key: bytes, found: str, case_id: int | None, intent_id: int, recipients: list[str]) -> bool:
    return hmac.compare_digest(found, token(key, case_id, intent_id, recipients))


def stored_key(s: Session) -> bytes | None:
    """The draft-proof key if the database has one yet (read inside the caller's transaction)."""
    row = s.get(SecretKey, KEY_NAME)
    return row.value if row is not None else None


def add_proof(raw: bytes, proof: str) -> bytes:
    """The draft with `proof` in our header and as a reference line after its text and HTML."""
    msg = BytesParser(policy=OUTGOING).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    if not msg.keys():
        raise PermanentError("the draft is not a message (no header): nothing to put in Review")
    del msg[INTERNAL_HEADER]
    msg[INTERNAL_HEADER] = proof
    for part in msg.walk():
        if part.get_content_maintype() != "text" or part.get_content_disposition() == "attachment":
            continue
        subtype = part.get_content_subtype()
        content = str(part.get_content())
        if subtype == "plain":
            _replace(part, text_with_reference(content, proof), subtype)
        elif subtype == "html":
            _replace(part, html_with_reference(content, proof), subtype)
    return msg.as_bytes()


def text_with_reference(text: str, proof: str) -> str:
    """A text body with the proof's reference line after it."""
    return text.rstrip("\n") + f"\n\nRef. {proof}\n"


def html_with_reference(html: str, proof: str) -> str:
    """An HTML body with the proof's reference line at the end of its body."""
    line = f'<p style="color:#999;font-size:11px">Ref. {proof}</p>'
    closing = html.lower().rfind("</body>")
    return html[:closing] + line + html[closing:] if closing >= 0 else html + line


def carries_proof(raw: bytes) -> bool:
    """Whether the message was built with its proof already (compose does so for drafts), so it
    goes to Review as it is: only its header block is read."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    value = BytesHeaderParser(policy=compat32).parsebytes(head).get(INTERNAL_HEADER)
    return isinstance(value, str) and TOKEN.fullmatch(value.strip()) is not None


def tokens_in(msg: EmailMessage) -> list[tuple[int, str]]:
    """Every (intent id, token) found in our header and in the text and HTML parts."""
    texts = [str(msg.get(INTERNAL_HEADER, ""))]
    for part in msg.walk():
        if part.get_content_maintype() == "text" and part.get_content_disposition() != "attachment":
            try:
                texts.append(str(part.get_content()))
            except (LookupError, ValueError):
                continue
    found = {(int(m.group(1)), m.group(0)) for text in texts for m in TOKEN.finditer(text)}
    return sorted(found)


def strip_reference(msg: EmailMessage) -> None:
    """Take our reference line out of the text and HTML parts (in place)."""
    for part in msg.walk():
        if part.get_content_maintype() != "text" or part.get_content_disposition() == "attachment":
            continue
        try:
            content = str(part.get_content())
        except (LookupError, ValueError):
            continue
        cleaned = _REFERENCE_LINE.sub("", content)
        if cleaned != content:
            _replace(part, cleaned.rstrip() + "\n", part.get_content_subtype())


def _replace(part: EmailMessage, content: str, subtype: str) -> None:
    part.set_content(content, subtype=subtype)
