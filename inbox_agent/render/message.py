"""Building outgoing messages, and preparing what an agent approved for sending.

Header values that come from customers (their subject, their name) are flattened to one line
before they reach a header, and the email package refuses CR/LF in header values anyway.
The Message-ID is fixed when the reply is decided, so a crash can never create two drafts.
"""

from __future__ import annotations

import email.policy
import email.utils
import re
from email.message import EmailMessage
from email.parser import BytesParser

from inbox_agent.mailbox.base import INTERNAL_HEADER

_CASE_TAG = re.compile(r"\[#C-(\d+)\]")


def one_line(text: str) -> str:
    return " ".join(text.replace("\r", " ").replace("\n", " ").split())


def case_tag(case_id: int) -> str:
    return f"[#C-{case_id}]"


def case_id_in_subject(subject: str) -> int | None:
    found = _CASE_TAG.search(subject)
    return int(found.group(1)) if found else None


def reply_subject(original: str, case_id: int) -> str:
    """`Re: <original> [#C-<id>]`, without stacking prefixes or tags."""
    subject = one_line(original)
    subject = _CASE_TAG.sub("", subject).strip()
    if not re.match(r"(?i)^re\s*:", subject):
        subject = f"Re: {subject}" if subject else "Re:"
    return f"{subject} {case_tag(case_id)}"


def new_message_id(domain: str) -> str:
    return email.utils.make_msgid(domain=domain)


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
) -> bytes:
    """text/plain, plus text/html (with the picture inline) when `html` is given."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = email.utils.formataddr((one_line(from_name), from_address))
    msg["To"] = ", ".join(one_line(a) for a in to)
    msg["Subject"] = one_line(subject)
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = " ".join([*[r for r in references if r != in_reply_to], in_reply_to])
    msg["Auto-Submitted"] = "auto-replied"
    msg[INTERNAL_HEADER] = str(intent_id)
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
        if picture is not None and picture_cid:
            html_part = msg.get_body(preferencelist=("html",))
            assert isinstance(html_part, EmailMessage)
            html_part.add_related(picture, maintype="image", subtype="png", cid=f"<{picture_cid}>",
                                  filename="tracking-history.png", disposition="inline")
    for filename, data in attachments:
        msg.add_attachment(data, maintype="image", subtype="png", filename=filename)
    return msg.as_bytes()


def prepare_approved(raw: bytes, message_id: str) -> tuple[bytes, list[str], str]:
    """The approved bytes minus our internal headers, with the fixed Message-ID kept.

    Returns (bytes to send, recipients, sender). Everything else, the agent's edits included, is
    sent as approved.
    """
    msg = BytesParser(policy=email.policy.SMTP).parsebytes(raw)
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
