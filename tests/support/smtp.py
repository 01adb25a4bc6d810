"""An aiosmtpd server that records what it receives and can answer with a chosen error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes


@dataclass
class RecordingHandler:
    messages: list[Received] = field(default_factory=list)
    answer: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.answer:
            return self.answer
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"
