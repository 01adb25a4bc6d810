"""Is a message machine-generated, or bulk? (RFC 3834, RFC 3464 and common practice.)

Machine-generated mail is recorded and never answered: answering it starts mail loops. Bulk mail
(newsletters, lists) is not "automated" in the intent vocabulary (a newsletter is `other`), but it
is never answered either. The reasons returned are the headers or sender that decided it.

Two tests: the labelling policy's markers (`machine_markers`: Auto-Submitted other than "no",
Return-Path <>, a delivery report, a From local part of its list), which decide the sender's role,
and those plus the other signs of an auto-reply (`automation_reasons`: X-Autoreply, Precedence:
auto_reply, "no.reply" and "no-reply-..." spellings), which keep the daemon from answering.
"""

from __future__ import annotations

import re

_MACHINE_LOCAL = re.compile(
    r"^(?:mailer-daemon|postmaster|no[-_.]?reply(?:[-_.+].*)?|do[-_.]?not[-_.]?reply|donotreply|"
    r"ne[-_.]?pas[-_.]?repondre|bounces?(?:[-+].*)?)$",
    re.IGNORECASE,
)


_POLICY_LOCAL = re.compile(
    r"^(?:mailer-daemon|postmaster|noreply|no-reply|noreply-.*|donotreply|do-not-reply|ne-pas-repondre)$",
    re.IGNORECASE,
)


def machine_markers(headers: dict[str, str], from_address: str, content_type: str) -> tuple[str, ...]:
    """The labelling policy's markers of machine-generated mail in the message (they make a sender
    who is no party `automated`). Header keys are lower case."""
    return _header_markers(headers, content_type) + _sender_marker(from_address, _POLICY_LOCAL)


def _header_markers(headers: dict[str, str], content_type: str) -> tuple[str, ...]:
    reasons: list[str] = []
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and auto != "no":
        reasons.append(f"Auto-Submitted: {auto}")
    if headers.get("return-path", "").strip() == "<>":
        reasons.append("Return-Path: <>")
    if content_type == "multipart/report":
        reasons.append("multipart/report (delivery status notification)")
    return tuple(reasons)


def _sender_marker(from_address: str, machine_local: re.Pattern[str]) -> tuple[str, ...]:
    local = from_address.rsplit("@", 1)[0]
    return (f"sender {local}@ is a machine address",) if local and machine_local.match(local) else ()


def automation_reasons(headers: dict[str, str], from_address: str, content_type: str) -> tuple[str, ...]:
    """Why the message is machine-generated (empty when a person wrote it): the policy's markers and
    the other signs of an auto-reply. Header keys are lower case."""
    reasons = list(_header_markers(headers, content_type))
    if headers.get("x-autoreply", "").strip().lower() in ("yes", "true", "1"):
        reasons.append("X-Autoreply: yes")
    if headers.get("x-autorespond", "").strip():
        reasons.append("X-Autorespond present")
    if headers.get("precedence", "").strip().lower() in ("auto_reply", "junk"):
        reasons.append(f"Precedence: {headers['precedence'].strip().lower()}")
    return (*reasons, *_sender_marker(from_address, _MACHINE_LOCAL))


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
