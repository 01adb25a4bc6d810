"""A sample complaint, for the demo and for trying the embedded setup by hand."""

from __future__ import annotations

import email.policy
import email.utils
from email.message import EmailMessage


def sample_complaint(to: str, sender: str = "jamie.customer@example.org", number: str = "LP00612849305172") -> bytes:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = email.utils.formataddr(("Jamie Customer", sender))
    msg["To"] = to
    msg["Subject"] = "Order #1043 - tracking says delivered but I never received it"
    msg["Date"] = email.utils.formatdate()
    msg["Message-ID"] = email.utils.make_msgid(domain="example.org")
    msg.set_content(
        "Hello,\n\nMy order #1043 shows as delivered yesterday, tracking number "
        f"{number}, but I never received it. Nothing in my mailbox or on the porch.\n\n"
        "Could you help?\n\nJamie\n"
    )
    return msg.as_bytes()
