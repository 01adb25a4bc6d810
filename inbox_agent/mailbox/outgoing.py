"""What leaves for the customer once an agent approved a draft: their edit, our identity, and only
headers on an allow-list.

Mail clients add headers of their own to a saved draft (Thunderbird's Fcc and X-Mozilla-*,
X-Identity-Key, Apple's X-Apple-*, Outlook's X-MS-*, neomutt's X-Mutt-*): anything not listed
here is dropped, so a client we never heard of cannot leak either. From, Message-ID and the thread
headers are ours; the agent may edit the subject, the body and the recipients. Bcc recipients get
the message and never see the header.
"""

from __future__ import annotations

import email.policy
import email.utils
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser

from inbox_agent.mailbox.proof import strip_reference

ALLOWED_HEADERS = frozenset({
    "from", "to", "cc", "reply-to", "subject", "date", "message-id", "in-reply-to", "references",
    "auto-submitted", "mime-version", "content-type", "content-transfer-encoding", "content-language",
})
OURS = ("From", "Message-ID", "In-Reply-To", "References")


@dataclass(frozen=True)
class Outgoing:
    raw: bytes
    visible: list[str]  # To and Cc
    hidden: list[str]  # Bcc

    @property
    def recipients(self) -> list[str]:
        return list(dict.fromkeys(self.visible + self.hidden))


def outgoing(approved: bytes, draft: bytes, message_id: str) -> Outgoing:
    """The approved message as it will be sent; `draft` is the message we wrote (its identity)."""
    msg = BytesParser(policy=email.policy.SMTP).parsebytes(approved)
    ours = BytesParser(policy=email.policy.SMTP).parsebytes(draft, headersonly=True)
    assert isinstance(msg, EmailMessage)
    visible = _addresses(msg, "To", "Cc")
    hidden = [a for a in _addresses(msg, "Bcc") if a not in visible]
    for name in {k.lower() for k in msg} - ALLOWED_HEADERS:
        del msg[name]
    for name in OURS:
        del msg[name]
        value = message_id if name == "Message-ID" else ours.get(name)
        if value:
            msg[name] = str(value)
    if "Auto-Submitted" not in msg:
        msg["Auto-Submitted"] = "auto-replied"
    strip_reference(msg)
    return Outgoing(msg.as_bytes(), visible, hidden)


def _addresses(msg: EmailMessage, *headers: str) -> list[str]:
    values = [str(v) for h in headers for v in msg.get_all(h, [])]
    found = [a.strip() for _, a in email.utils.getaddresses(values) if "@" in a]
    return list(dict.fromkeys(a for a in found if not any(c in a for c in "\r\n\t ")))
