"""Raw RFC 5322 bytes to a ParsedEmail, never raising: bad input becomes `error`.

The texts kept are exactly where numbers count (corpus policy): the decoded Subject, every
text/plain and text/html part (HTML with its link targets), and the Subject and body of attached
`message/rfc822` parts. Not kept: other headers, attachment names and binary content, and the
machine fields of `message/delivery-status`.

The MIME tree is mail-parser's guarded parse (a nesting bomb becomes an error, not a crash).

Addresses are parsed from the raw header before anything is decoded: an encoded-word is only
ever a display name, never an address. A From that does not hold exactly one valid address
leaves `from_address` empty and says why in `sender_problem`. NUL characters are stripped from
every text, and Message-IDs longer than `MAX_MESSAGE_ID` are not kept.
"""

from __future__ import annotations

import email.message
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.errors import InvalidHeaderDefect
from email.header import decode_header, make_header
from email.headerregistry import AddressHeader, HeaderRegistry

import mailparser
import mailparser.exceptions

from inbox_agent.parse.automated import automation_reasons, bulk_reasons
from inbox_agent.parse.flowed import unflowed
from inbox_agent.parse.html import html_to_text
from inbox_agent.parse.quotes import newest_text

_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "ks_c_5601-1987": "cp949",
                    "iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252"}
_MSGID = re.compile(r"<[^<>\s]+>")
MAX_ADDRESS = 254  # RFC 5321 path limit
MAX_MESSAGE_ID = 998  # RFC 5322 line length: a longer "Message-ID" is nobody's identifier
_ADDR_SPEC = re.compile(r"^[^\s@<>()\[\],;:\\\"]+@[^\s@<>()\[\],;:\\\"=?]+\.[^\s@<>()\[\],;:\\\"=?]+$")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATOM}(?:\.{_ATOM})*"
_PLAIN_MAILBOX = re.compile(
    rf"[ \t]*(?:(?:\"([^\"\\\x00-\x1f\x7f-\U0010ffff]+)\"|({_ATOM}(?:[ \t]+{_ATOM})*))?[ \t]*"
    rf"<({_DOT_ATOM}@{_DOT_ATOM})>|({_DOT_ATOM}@{_DOT_ATOM}))[ \t]*"
)
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_HEADERS = HeaderRegistry()
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|tr|r|rif|i|sv|vs|antw|doorst|rv|enc|res|réf|ref|automatic reply|"
    r"automatische antwort|réponse automatique|respuesta automática|risposta automatica)\s*:\s*)+",
    re.IGNORECASE,
)
CASE_TAG = re.compile(r"\[#C-(\d+)(?:-([0-9a-z]+))?\]")  # our case tag in a subject: `[#C-<id>-<token>]`


@dataclass(frozen=True)
class ParsedEmail:
    """What the extractors and the playbook read of one message."""

    message_id: str | None
    subject: str
    from_address: str
    from_name: str
    in_reply_to: str | None
    references: tuple[str, ...]
    date: datetime | None
    body: str
    attached_text: str
    new_text: str
    automated: tuple[str, ...]
    bulk: tuple[str, ...]
    is_bounce: bool
    fingerprint: str
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    sender_problem: str | None = None

    @property
    def subject_topic(self) -> str:
        """The subject without reply/forward prefixes."""
        return subject_topic(self.subject)

    @property
    def all_text(self) -> str:
        """Everything in which numbers count: subject, body, attached messages."""
        return "\n".join((self.subject, self.body, self.attached_text))

    @property
    def thread_ids(self) -> tuple[str, ...]:
        ids = list(self.references)
        if self.in_reply_to and self.in_reply_to not in ids:
            ids.append(self.in_reply_to)
        return tuple(ids)


def subject_topic(subject: str) -> str:
    """`subject` without its reply/forward prefixes ("Re: AW: TR: x" -> "x")."""
    return _SUBJECT_PREFIX.sub("", subject).strip()


def subject_words(subject: str) -> str:
    """The sender's words in `subject`: its topic without our case tags, whose random token
    says nothing of the message ("Re: Your parcel [#C-12-9f3a61c2]" -> "Your parcel")."""
    return " ".join(CASE_TAG.sub(" ", subject_topic(subject)).split())


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse `raw`; an unparseable message comes back with `error` set instead of raising."""
    fingerprint = hashlib.sha256(raw).hexdigest()
    try:
        return _parse(raw, fingerprint)
    except mailparser.exceptions.MailParserRecursionError:  # a crafted message nests thousands of multiparts
        return _broken(fingerprint, "unparseable MIME: multipart nesting too deep to parse")
    except Exception as e:  # noqa: BLE001 - the contract: bad input is a value, never an exception
        return _broken(fingerprint, f"unparseable MIME: {type(e).__name__}: {e}")


def _broken(fingerprint: str, reason: str) -> ParsedEmail:
    return ParsedEmail(None, "", "", "", None, (), None, "", "", "", (), (), False, fingerprint, reason)


def _parse(raw: bytes, fingerprint: str) -> ParsedEmail:
    if not raw.strip():
        return _broken(fingerprint, "empty message")
    msg: email.message.Message = mailparser.parse_from_bytes(raw).message
    raw_headers = {k.lower(): _unfolded(str(v)).replace("\x00", "") for k, v in msg.items()}
    headers = {k: _header_text(v) for k, v in raw_headers.items()}
    if not any(h in headers for h in ("from", "subject", "message-id", "content-type", "date")):
        return _broken(fingerprint, "not an email: no From, Subject, Message-ID or Content-Type header")
    subject = _one_line(headers.get("subject", ""))
    senders = parse_addresses(raw_headers.get("from", ""))
    valid = [(name, address) for name, address in senders if address]
    from_name, from_address = valid[0] if len(valid) == 1 and len(senders) == 1 else ("", "")
    sender_problem = None if from_address else _sender_problem(raw_headers.get("from", ""), senders)
    body, attached, plain_parts, html_parts = _texts(msg)
    newest_source = "\n".join(plain_parts) if plain_parts else "\n".join(html_parts)
    content_type = msg.get_content_type()
    automated = automation_reasons(headers, from_address, content_type)
    return ParsedEmail(
        message_id=_first_id(raw_headers.get("message-id", "")),
        subject=subject,
        from_address=from_address.lower(),
        from_name=_one_line(from_name),
        in_reply_to=_first_id(raw_headers.get("in-reply-to", "")),
        references=tuple(m for m in _MSGID.findall(raw_headers.get("references", "")) if _keepable_id(m)),
        date=_date(headers.get("date", "")),
        body=body,
        attached_text=attached,
        new_text=newest_text(newest_source),
        automated=automated,
        bulk=bulk_reasons(headers),
        is_bounce=content_type == "multipart/report" or _is_bounce_sender(from_address),
        fingerprint=fingerprint,
        headers=headers,
        sender_problem=sender_problem,
    )


def parse_addresses(raw_value: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of an undecoded address header; an address that is not a
    plain addr-spec comes back empty, as does every address of a header the parser could not read
    whole. Encoded-words are decoded in display names only."""
    plain = plain_mailbox(raw_value)
    if plain is not None:
        parsed = [plain]
    else:
        try:
            header = _HEADERS("from", raw_value)
            assert isinstance(header, AddressHeader)
            parsed = [(a.display_name, a.addr_spec) for a in header.addresses]
            if any(type(d) is InvalidHeaderDefect for d in header.defects):
                # a part it could not read was dropped ("victim@x.example <attacker@y.example>" keeps
                # the first address, the mail server checks the second): no address can be trusted
                parsed = [(name, "") for name, _ in parsed]
        except (ValueError, IndexError, TypeError):  # a decoded display name holding CR/LF, or worse
            parsed = [(_header_text(name), address) for name, address in email.utils.getaddresses([raw_value])]
    return [(_one_line(name), address.lower() if len(address) <= MAX_ADDRESS and _ADDR_SPEC.match(address) else "")
            for name, address in parsed]


def plain_mailbox(raw_value: str) -> tuple[str, str] | None:
    """(display name, address) of a header holding one mailbox in the plain ASCII forms nearly all
    mail uses ("Name <a@b.example>", "\"Last, First\" <a@b.example>", "a@b.example"), else None.

    The answer is the one the standard library's RFC 5322 parser gives (a test compares them), at
    a fiftieth of its cost; anything else (comments, encoded-words, escapes, several addresses,
    obsolete syntax) is left to that parser."""
    if "=?" in raw_value:
        return None
    m = _PLAIN_MAILBOX.fullmatch(raw_value)
    if m is None:
        return None
    quoted, phrase, angled, bare = m.groups()
    return (quoted if quoted is not None else " ".join((phrase or "").split())), angled or bare


def _unfolded(value: str) -> str:
    """A header value on one line (its folds removed); most values have none to remove."""
    return _FOLD.sub("", value) if "\n" in value else value


def _sender_problem(raw_value: str, senders: list[tuple[str, str]]) -> str:
    if not raw_value.strip():
        return "no From header"
    if len(senders) > 1:
        return f"From holds {len(senders)} addresses"
    return "From holds no valid address"


def _texts(msg: email.message.Message) -> tuple[str, str, list[str], list[str]]:
    """Walk the MIME tree: (body text, attached-message text, top plain parts, top html parts)."""
    body: list[str] = []
    attached: list[str] = []
    plain: list[str] = []
    html: list[str] = []

    def visit(part: email.message.Message, nested: bool) -> None:
        ctype = part.get_content_type()
        if ctype == "message/rfc822" or (ctype.startswith("message/") and ctype != "message/delivery-status"):
            for inner in part.get_payload() or []:
                if isinstance(inner, email.message.Message):
                    attached.append(_one_line(_header_text(inner.get("subject", ""))))
                    visit(inner, True)
            return
        if part.is_multipart():
            for sub in part.get_payload():
                if isinstance(sub, email.message.Message):
                    visit(sub, nested)
            return
        if not ctype.startswith("text/") or _is_attachment(part, ctype):
            return
        text = _decode(part).replace("\x00", "")
        if ctype == "text/plain" and _param(part, "format") == "flowed":
            text = unflowed(text, _param(part, "delsp") == "yes")
        if ctype == "text/html":
            text = html_to_text(text)
            (attached if nested else html).append(text)
        else:
            (attached if nested else plain).append(text)
        if not nested:
            body.append(text)

    visit(msg, False)
    return "\n".join(body), "\n".join(attached), plain, html


def _param(part: email.message.Message, name: str) -> str:
    """A Content-Type parameter of `part`, lower case ("" when absent)."""
    value = part.get_param(name)
    return value.lower() if isinstance(value, str) else ""


def _is_attachment(part: email.message.Message, ctype: str) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    return disposition == "attachment" and ctype not in ("text/plain", "text/html")


def _decode(part: email.message.Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload() or "")
    declared = (part.get_content_charset() or "").lower()
    for charset in (_CHARSET_ALIASES.get(declared, declared), "utf-8", "cp1252"):
        if not charset:
            continue
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


def _header_text(value: object) -> str:
    text = str(value).replace("\x00", "")
    if "=?" not in text:
        return text
    try:
        return str(make_header(decode_header(text))).replace("\x00", "")
    except (ValueError, LookupError, UnicodeDecodeError):
        return text


def _one_line(text: str) -> str:
    return " ".join(text.replace("\x00", "").split())


def _first_id(value: str) -> str | None:
    found = _MSGID.search(value)
    value = found.group(0) if found else value.strip()
    if not found and (not value or " " in value):
        return None
    value = value if found else f"<{value}>"
    return value if _keepable_id(value) else None


def _keepable_id(value: str) -> bool:
    """A Message-ID we can store and put back into a header as it is: printable ASCII, bounded."""
    return len(value) <= MAX_MESSAGE_ID and value.isascii() and value.isprintable()


def _date(value: str) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None


def _is_bounce_sender(address: str) -> bool:
    return address.split("@")[0].lower() in ("mailer-daemon", "postmaster")
