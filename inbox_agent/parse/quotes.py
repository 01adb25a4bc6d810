"""The sender's newest text: what is above the quoted history, forwards and signature.

mail-parser-reply finds the common reply headers of many languages; the markers in
`rules/quote_markers.yaml` add what it misses (Foxmail, inline forwards, "Sent from my phone").
The earliest cut wins. A web shop's contact-form notification gives its message field instead
(`_form_message`). Intent and language are read from this text only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from mailparser_reply import EmailReplyParser

from inbox_agent.rules import load_rules_file

_REPLY_LANGUAGES = ["en", "de", "fr", "it", "es", "nl", "pt", "sv", "pl"]
# What a reply header or signature the library could cut looks like: a line ending in ":" that
# holds a date, a time or an address, or a "--" line. Without one the library has nothing to do,
# and skipping it halves the cost of reading a message. The lines ending in ":" are few, so they
# are found first and only they are searched for a digit or an "@" (`_history_hint`).
_LINE_END_COLON = re.compile(r"(?m):[^\S\n]*$")
_DIGIT_OR_AT = re.compile(r"[\d@]")
_DASH_LINE = re.compile(r"(?m)^[^\S\n]*-{2,}")


@lru_cache(maxsize=1)
def _markers() -> re.Pattern[str]:
    data = load_rules_file("quote_markers.yaml")
    return re.compile("|".join(f"(?:{m})" for m in data["markers"]), re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class _Form:
    """What makes a text a contact form's notification, and where its message field ends."""

    field: re.Pattern[str]
    message: re.Pattern[str]
    end: re.Pattern[str]


@lru_cache(maxsize=1)
def _form() -> _Form:
    data = load_rules_file("quote_markers.yaml")
    flags = re.IGNORECASE | re.MULTILINE
    return _Form(re.compile(data["form_field"], flags), re.compile(data["form_message"], flags),
                 re.compile(data["form_end"], flags))


FORM_FIELDS = 2  # the fields before a message field that make a text a form's
FORM_INTRO_LINES = 2  # the lines that may stand above a form's fields, when they name the form


def _form_message(head: str) -> str | None:
    """The message field of a contact form's notification ("Name: ...", "Email: ...", "Message:
    ..."; its value on the label's line and below, to a line naming the form or the end), or None
    when `head` (the text above any quoted history) is no form. A form starts the text: above its
    first field stands nothing, or a line or two naming the form ("You received a new message from
    your online store's contact form."); so a customer's words above a pasted notice stay theirs."""
    form = _form()
    first = form.field.search(head)
    if first is None:
        return None
    intro = [line for line in head[:first.start()].splitlines() if line.strip()]
    if len(intro) > FORM_INTRO_LINES or (intro and not any(form.end.search(line) for line in intro)):
        return None
    message = form.message.search(head, first.start())
    if message is None or len(form.field.findall(head, first.start(), message.start())) < FORM_FIELDS:
        return None
    footer = form.end.search(head, message.end())
    words = head[message.end():footer.start() if footer is not None else len(head)].strip()
    return words or None


@lru_cache(maxsize=1)
def _reply_parser() -> EmailReplyParser:
    return EmailReplyParser(languages=list(_REPLY_LANGUAGES))


def _history_hint(text: str) -> bool:
    """Whether a line of `text` ends in ":" with a digit or an "@" before it, or starts with "--"
    (the hint above; the same answer as `(?m)^[^\\n]*(?:\\d|@)[^\\n]*:[^\\S\\n]*$|^[^\\S\\n]*-{2,}`)."""
    for colon in _LINE_END_COLON.finditer(text):
        if _DIGIT_OR_AT.search(text, text.rfind("\n", 0, colon.start()) + 1, colon.start()):
            return True
    return _DASH_LINE.search(text) is not None


def newest_text(text: str) -> str:
    """Return the part of `text` the sender wrote now (never empty when `text` has words)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cut = len(text)
    marker = _markers().search(text)
    if marker:
        cut = marker.start()
    quote = re.search(r"^[ \t]*>", text, re.MULTILINE)
    if quote:
        cut = min(cut, quote.start())
    head = text[:cut]
    form = _form_message(head)
    if form is not None:
        return form
    reply = head
    if _history_hint(head):
        try:
            reply = _reply_parser().parse_reply(head) or head
        except Exception:  # noqa: BLE001 - a library failure must not lose the text
            reply = head
    if len(reply.strip()) < 2:
        reply = head if head.strip() else text
    return reply.strip()
