"""Building outgoing messages, and preparing what an agent approved for sending.

Header values that come from customers (their subject, their name) are flattened to one line
before they reach a header, and the email package refuses CR/LF in header values anyway.
Recipients are parsed addresses only (`envelope_address`), and Message-IDs go into headers as
they are, one a line (`OutgoingPolicy`), so a long identifier is never RFC 2047-encoded.
A message is built with `BuildingPolicy`, which keeps header values as the strings we made
instead of parsing each one into a header object and folding it again (most of the CPU of
building a draft); messages from elsewhere (an agent's edit) are read with `OutgoingPolicy`.
The Message-ID is fixed when the reply is decided, so a crash can never create two drafts; it
carries a random token, so only the people we wrote to can answer in our thread.
"""

from __future__ import annotations

import binascii
import email.utils
import random
import re
import secrets
import sys
import textwrap
from email.contentmanager import raw_data_manager
from email.generator import BytesGenerator
from email.header import Header
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import Compat32, EmailPolicy
from io import BytesIO

from inbox_agent.errors import UnsendableAddress
from inbox_agent.mailbox.base import INTERNAL_HEADER
from inbox_agent.parse.message import CASE_TAG

_BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))  # as the email generator writes its random number
_LINE_END = re.compile(r"\r\n|\r|\n")  # the email generator's own split of a body into lines
_ONE_LINE_VALUE = re.compile(r"[!-~]+(?: [!-~]+)*")  # printable ASCII words, one space between them
BASE64_LINE = 76  # characters of a base64 body line: RFC 2045's most, what the email package writes
MAX_REFERENCE = 900  # a longer identifier cannot share a header line with its name: left out
_IDENTIFIERS = ("message-id", "in-reply-to", "references")


class OutgoingPolicy(EmailPolicy):
    """The SMTP policy (78-character lines, so bodies are encoded as RFC 2045 wants), except:

    - a Subject is folded with its value starting on the first line: the email package moves a
      whole value that fits on a line of its own to the next line ("Subject:" alone, then the text),
      which some clients show with a leading space. ASCII subjects are folded between words,
      others as RFC 2047 encoded-words;
    - Message-ID, In-Reply-To and References carry their identifiers as they are, one a line, never
      encoded (an encoded identifier breaks threading); lines stay within RFC 5322's 998.
    """

    def fold(self, name: str, value: str) -> str:
        if name.lower() in _IDENTIFIERS:
            return f"{name}: {(self.linesep + ' ').join(str(value).split())}{self.linesep}"
        if name.lower() == "subject":
            return f"{name}: {fold_value(name, str(value), self.linesep)}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() in (*_IDENTIFIERS, "subject"):
            return self.fold(name, value).encode("ascii")
        return super().fold_binary(name, value)


def fold_value(name: str, value: str, linesep: str = "\r\n", width: int = 78) -> str:
    """`value` folded after `name: `, its first words on the first line."""
    text = one_line(value)
    if text.isascii():
        lines = textwrap.wrap(text, width=width, initial_indent=" " * (len(name) + 2), subsequent_indent=" ",
                              break_long_words=False, break_on_hyphens=False) or [""]
        lines[0] = lines[0][len(name) + 2:]
        return linesep.join(lines)
    return Header(text, "utf-8", maxlinelen=width, header_name=name).encode(linesep=linesep)


OUTGOING = OutgoingPolicy(linesep="\r\n")


class BuildingPolicy(Compat32):
    """The policy a message is built with: header values stay the strings `build_message` made
    (one line each, addresses parsed and encoded already) and are folded when written out, the
    Subject and the identifiers as `OutgoingPolicy` folds them; bodies are encoded by the email
    package's content manager, as with OUTGOING. A value holding CR or LF is refused."""

    content_manager = raw_data_manager

    def header_store_parse(self, name: str, value: str) -> tuple[str, str]:
        if "\r" in str(value) or "\n" in str(value):
            raise ValueError(f"the {name} header may not hold a line break")
        return super().header_store_parse(name, value)

    def fold(self, name: str, value: str) -> str:
        if name.lower() in (*_IDENTIFIERS, "subject"):
            return OUTGOING.fold(name, value)
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() in (*_IDENTIFIERS, "subject"):
            return OUTGOING.fold(name, value).encode("ascii")
        if (isinstance(value, str) and len(name) + 2 + len(value) <= (self.max_line_length or 78)
                and _ONE_LINE_VALUE.fullmatch(value)):
            return f"{name}: {value}{self.linesep}".encode("ascii")  # what folding gives a line that fits
        return super().fold_binary(name, value)


BUILDING = BuildingPolicy(linesep="\r\n", max_line_length=78)


def one_line(text: str) -> str:
    return " ".join(text.replace("\r", " ").replace("\n", " ").split())


def case_tag(case_id: int, token: str = "") -> str:
    """`[#C-<id>-<token>]`: the token is the case's random suffix, so tags cannot be guessed."""
    return f"[#C-{case_id}-{token}]" if token else f"[#C-{case_id}]"


def new_tag_token() -> str:
    return secrets.token_hex(4)


def case_tag_in_subject(subject: str) -> tuple[int, str] | None:
    """(case id, token) of the first tag in `subject`; a tag without a token is no tag."""
    found = CASE_TAG.search(subject)
    return (int(found.group(1)), found.group(2)) if found and found.group(2) else None


def reply_subject(original: str, tag: str) -> str:
    """`Re: <original> <tag>`, without stacking prefixes or tags."""
    subject = one_line(original)
    subject = CASE_TAG.sub("", subject).strip()
    if not re.match(r"(?i)^re\s*:", subject):
        subject = f"Re: {subject}" if subject else "Re:"
    return f"{subject} {tag}"


def new_message_id(domain: str) -> str:
    """`<random token@domain>`: unguessable, so answering in our thread proves having received it."""
    return f"<{secrets.token_urlsafe(18)}@{domain}>"


def envelope_address(address: str) -> str:
    """`address` as it can go into an envelope and a header: one parsed address, its domain in
    IDNA form. A non-ASCII local part raises UnsendableAddress (it needs SMTPUTF8)."""
    pairs = email.utils.getaddresses([address])
    if len(pairs) != 1 or pairs[0][1] != address.strip() or address.count("@") != 1:
        raise UnsendableAddress(f"{address!r} is not one plain address")
    local, domain = address.strip().rsplit("@", 1)
    if not local.isascii():
        raise UnsendableAddress(f"the address {address!r} has a non-ASCII local part, which needs SMTPUTF8: "
                                "write to it by hand")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnsendableAddress(f"the domain of {address!r} is not a valid internationalised name") from None
    if not local or any(c in local + ascii_domain for c in " \t\r\n<>,;\"()[]\\"):
        raise UnsendableAddress(f"{address!r} is not one plain address")
    return f"{local}@{ascii_domain}"


def build_message(
    *,
    from_address: str,
    from_name: str,
    to: list[str],
    subject: str,
    body: str,
    message_id: str,
    intent_id: int,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
    html: str | None = None,
    picture: bytes | None = None,
    picture_cid: str | None = None,
    attachments: tuple[tuple[str, bytes], ...] = (),
    proof: str | None = None,
) -> bytes:
    """text/plain, plus text/html (with the picture inline) when `html` is given. Our internal
    header carries the intent id, or the draft's `proof` when given (mailbox/proof.py)."""
    msg = EmailMessage(policy=BUILDING)
    msg["From"] = email.utils.formataddr((one_line(from_name), envelope_address(from_address)))
    msg["To"] = ", ".join(envelope_address(a) for a in to)
    msg["Subject"] = one_line(subject)
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = message_id
    if in_reply_to and _header_safe_id(in_reply_to):
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = " ".join([*[r for r in references if r != in_reply_to and _header_safe_id(r)], in_reply_to])
    msg["Auto-Submitted"] = "auto-replied"
    msg[INTERNAL_HEADER] = proof or str(intent_id)
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
        if picture is not None and picture_cid:
            html_part = msg.get_body(preferencelist=("html",))
            assert isinstance(html_part, EmailMessage)
            if html_part.get_content_type() != "multipart/related":
                html_part.make_related()
            html_part.attach(png_part(picture, "inline", "tracking-history.png", cid=f"<{picture_cid}>"))
    for filename, data in attachments:
        if msg.get_content_type() != "multipart/mixed":
            msg.make_mixed()
        msg.attach(png_part(data, "attachment", filename))
    return serialized(msg)


def png_part(data: bytes, disposition: str, filename: str, cid: str | None = None) -> EmailMessage:
    """An image/png part, as `add_related` or `add_attachment` make it, its base64 encoded in one
    pass: the email package encodes and decodes each 76-character line apart (~800 for a picture)."""
    part = EmailMessage(policy=BUILDING)
    part["Content-Type"] = "image/png"
    part["Content-Transfer-Encoding"] = "base64"
    part["Content-Disposition"] = disposition
    part.set_param("filename", filename, header="Content-Disposition")
    if cid is not None:
        part["Content-ID"] = cid
    part["MIME-Version"] = "1.0"
    encoded = binascii.b2a_base64(data, newline=False).decode("ascii")
    part.set_payload("".join(encoded[at:at + BASE64_LINE] + "\n" for at in range(0, len(encoded), BASE64_LINE)))
    return part


class _WholeBodyGenerator(BytesGenerator):
    """The email package's generator, writing a body in one piece: the stock one writes each line
    and its line end apart, two writes (and two encodings) per line, ~1,600 for a kit's picture."""

    @classmethod
    def _make_boundary(cls, text: bytes | None = None) -> str:
        """The email package's boundary (15 '=', a random number, '=='), kept out of the parts'
        text by looking for it there: the stock generator compiles a regular expression for each
        new boundary (one per multipart, never reused) to look for it as a line."""
        boundary = "=" * 15 + f"{random.randrange(sys.maxsize):0{_BOUNDARY_DIGITS}d}" + "=="
        chosen, counter = boundary, 0
        while text is not None and f"--{chosen}".encode() in text:  # anywhere, not only as a line: never less safe
            chosen, counter = f"{boundary}.{counter}", counter + 1
        return chosen

    def _write_lines(self, lines: str) -> None:
        # the same bytes: every line end made the policy's, nothing added after the last line
        policy = self.policy  # while flattening: the policy whose line end the generator writes
        assert policy is not None
        if lines:
            self.write(policy.linesep.join(_LINE_END.split(lines)))


def serialized(msg: EmailMessage) -> bytes:
    """`msg.as_bytes()`, byte for byte, with a generator that writes each body whole."""
    out = BytesIO()
    _WholeBodyGenerator(out, mangle_from_=False, policy=msg.policy).flatten(msg)
    return out.getvalue()


def _header_safe_id(value: str) -> bool:
    return len(value) <= MAX_REFERENCE and value.isascii() and value.isprintable() and " " not in value


def prepare_approved(raw: bytes, message_id: str) -> tuple[bytes, list[str], str]:
    """The approved bytes minus our internal headers, with the fixed Message-ID kept.

    Returns (bytes to send, recipients, sender). Everything else, the agent's edits included, is
    sent as approved.
    """
    msg = BytesParser(policy=OUTGOING).parsebytes(raw)
    for header in [h for h in msg if h.lower().startswith("x-inbox-agent")]:
        del msg[header]
    if msg.get("Message-ID", "").strip() != message_id:
        del msg["Message-ID"]
        msg["Message-ID"] = message_id
    if "Auto-Submitted" not in msg:
        msg["Auto-Submitted"] = "auto-replied"
    recipients = [a for _, a in email.utils.getaddresses(msg.get_all("To", []) + msg.get_all("Cc", [])) if a]
    sender = email.utils.parseaddr(str(msg.get("From", "")))[1]
    return msg.as_bytes(), recipients, sender
