"""Is a message machine-generated, or bulk? (RFC 3834, RFC 3464 and common practice.)

Machine-generated mail is recorded and never answered: answering it starts mail loops. Bulk mail
(newsletters, lists) is not "automated" in the intent vocabulary (a newsletter is `other`), but it
is never answered either. The reasons returned are the headers or sender that decided it.
"""

from __future__ import annotations

import re

_MACHINE_LOCAL = re.compile(
    r"^(?:mailer-daemon|postmaster|no[-_.]?reply(?:[-_.+].*)?|do[-_.]?not[-_.]?reply|donotreply|"
    r"ne[-_.]?pas[-_.]?repondre|bounces?(?:[-+].*)?)$",
    re.IGNORECASE,
)


def automation_reasons(headers: dict[str, str], from_address: str, content_type: str) -> tuple[str, ...]:
    """Why the message is machine-generated (empty when a person wrote it). Header keys are lower case."""
    reasons: list[str] = []
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and auto != "no":
        reasons.append(f"Auto-Submitted: {auto}")
    if headers.get("return-path", "").strip() == "<>":
        reasons.append("Return-Path: <>")
    if content_type == "multipart/report":
        reasons.append("multipart/report (delivery status notification)")
    if headers.get("x-autoreply", "").strip().lower() in ("yes", "true", "1"):
        reasons.append("X-Autoreply: yes")
    if headers.get("x-autorespond", "").strip():
        reasons.append("X-Autorespond present")
    if headers.get("precedence", "").strip().lower() in ("auto_reply", "junk"):
        reasons.append(f"Precedence: {headers['precedence'].strip().lower()}")
    local = from_address.rsplit("@", 1)[0]
    if local and _MACHINE_LOCAL.match(local):
        reasons.append(f"sender {local}@ is a machine address")
    return tuple(reasons)


def bulk_reasons(headers: dict[str, str]) -> tuple[str, ...]:
    """Why the message is bulk or list mail, which is never answered either."""
    reasons: list[str] = []
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in ("bulk", "list"):
        reasons.append(f"Precedence: {precedence}")
    for header in ("list-id", "list-unsubscribe"):
        if header in headers:
            reasons.append(f"{header} present")
    return tuple(reasons)
