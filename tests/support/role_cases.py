"""The sender-role cases of other stores' inboxes (tests/data/role_cases.yaml): loaded, sent as a
real MIME message (a delivery report when the case's Content-Type says so), read as the daemon
reads it with the store's parties, and scored as accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import yaml

from inbox_agent.config import STORE_LANGUAGES, PartiesConfig, ReadingConfig
from inbox_agent.extract import extract
from inbox_agent.parse import parse_email

CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "role_cases.yaml"
HELD_OUT_EVERY = 3  # every third case is held out (see the data file)
STORE_ADDRESS = "support@store.example"
REPORT = "multipart/report"


@dataclass(frozen=True)
class RoleCase:
    id: str
    sender: str  # the From header as written
    subject: str
    text: str
    headers: dict[str, str]
    role: str
    parties: PartiesConfig
    held_out: bool


@dataclass(frozen=True)
class Accuracy:
    cases: int
    right: int

    def line(self) -> str:
        return f"accuracy {self.share:.3f}  ({self.right}/{self.cases} cases right)"

    @property
    def share(self) -> float:
        return self.right / self.cases if self.cases else 1.0


def load_cases() -> list[RoleCase]:
    data = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    parties = {name: PartiesConfig(**p) for name, p in data["parties"].items()}
    return [RoleCase(c["id"], c["from"], c["subject"], c["text"], dict(c.get("headers") or {}), c["role"],
                     parties[c["store"]], (i + 1) % HELD_OUT_EVERY == 0) for i, c in enumerate(data["cases"])]


def message_of(case: RoleCase) -> Message:
    """The case as the message its sender would send."""
    headers = dict(case.headers)
    content_type = headers.pop("Content-Type", "")
    message: Message
    if content_type.startswith(REPORT):
        message = MIMEMultipart("report", report_type="delivery-status")
        message.attach(MIMEText(case.text, "plain", "utf-8"))
        status = MIMEBase("message", "delivery-status")
        per_message, per_recipient = Message(), Message()
        per_message["Reporting-MTA"] = "dns; mx.example"
        per_recipient["Final-Recipient"] = f"rfc822; {STORE_ADDRESS}"
        per_recipient["Action"] = "failed"
        per_recipient["Status"] = "5.1.1"
        status.set_payload([per_message, per_recipient])
        message.attach(status)
    else:
        message = EmailMessage()
        message.set_content(case.text)
    message["From"] = case.sender
    message["To"] = STORE_ADDRESS
    message["Subject"] = case.subject
    message["Message-ID"] = f"<{case.id}@cases.example>"
    message["Date"] = "Tue, 01 Apr 2025 10:00:00 +0000"
    for name, value in headers.items():
        message[name] = value
    return message


def read_case(case: RoleCase, reading: ReadingConfig | None = None) -> str:
    """The role the reader gives the case's sender."""
    parsed = parse_email(message_of(case).as_bytes())
    return extract(parsed, case.parties, STORE_LANGUAGES, reading or ReadingConfig()).role.value


def accuracy(results: Sequence[tuple[RoleCase, str]]) -> Accuracy:
    return Accuracy(len(results), sum(c.role == found for c, found in results))
