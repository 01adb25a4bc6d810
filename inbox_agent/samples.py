"""A sample complaint, for the demo and for trying the embedded setup by hand."""

from __future__ import annotations

import email.policy
import email.utils
from email.message import EmailMessage


def sample_complaint(to: str, sender: str = "jamie.customer@example.org", number: str = "LP00612849305172",
                     order_only: bool = False) -> bytes:
    """The sample complaint; `order_only` leaves the tracking number out (the order source finds it:
    the embedded default's sample orders file has order 1043)."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = email.utils.formataddr(("Jamie Customer", sender))
    msg["To"] = to
    msg["Subject"] = "Order #1043 - tracking says delivered but I never received it"
    msg["Date"] = email.utils.formatdate()
    msg["Message-ID"] = email.utils.make_msgid(domain="example.org")
    given = "" if order_only else f", tracking number {number},"
    msg.set_content(
        f"Hello,\n\nMy order #1043 shows as delivered yesterday{given} but I never received it. "
        "Nothing in my mailbox or on the porch.\n\n"
        "Could you help?\n\nJamie\n"
    )
    return msg.as_bytes()
