"""The embedded SMTP listener (aiosmtpd): every message it accepts lands in the Maildir INBOX.

It makes the embedded setup a real mail path: `swaks` or any SMTP client can deliver a
complaint to it. Only loopback is listened on by default.
"""

from __future__ import annotations

from typing import Any

from aiosmtpd.controller import Controller

from inbox_agent.mailbox.maildir import MaildirBackend


class _DeliverToMaildir:
    def __init__(self, mailbox: MaildirBackend) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        self.mailbox.append(self.mailbox.inbox, data)
        self.mailbox.notify()
        return "250 Message accepted for delivery"


def start_listener(mailbox: MaildirBackend, listen: str) -> Controller:
    host, _, port = listen.rpartition(":")
    controller = Controller(_DeliverToMaildir(mailbox), hostname=host or "127.0.0.1", port=int(port))
    controller.start()
    return controller
