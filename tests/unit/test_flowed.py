"""A format=flowed part is read as its writer wrote it: soft line breaks joined (RFC 3676)."""

from __future__ import annotations

import pytest

from inbox_agent.config import Config
from inbox_agent.parse import parse_email
from inbox_agent.parse.flowed import unflowed
from inbox_agent.reading import read_bytes

LETTER = (
    "Dear Sir or Madam,\r\n\r\n"
    "I received an email from Australia Post on Tuesday stating that the item \r\n"
    "had been delivered and \"left in a safe place\". I have looked everywhere \r\n"
    "and my neighbour has checked too. There is no parcel.\r\n\r\n"
    "Yours faithfully, \r\n"
    "-- \r\n"
    "Wendy Clarke\r\n"
)


def _mail(body: str, params: str) -> bytes:
    return (
        "From: Wendy Clarke <wendy@mail.example>\r\nTo: support@shop.example\r\nSubject: Order 5881876\r\n"
        "Date: Tue, 10 Jun 2025 09:00:00 +0930\r\nMessage-ID: <flowed-1@mail.example>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8{params}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}"
    ).encode()


@pytest.mark.parametrize(("text", "delete_space", "expected"), [
    ("a wrapped \nline\nhard\n", False, "a wrapped line\nhard\n"),
    ("a word bro \nken", True, "a word broken"),  # DelSp=yes: the marking space was not the writer's
    ("> quoted and \n> wrapped\n>> deeper \n> not joined", False, "> quoted and wrapped\n>> deeper \n> not joined"),
    ("text \n-- \nsignature", False, "text \n-- \nsignature"),  # the signature separator never flows
    (" From a stuffed line", False, "From a stuffed line"),
    # trailing spaces never glue the history below to the newest text
    ("never came. \n\nOn Tue, Shop wrote: \n> delivered", False, "never came. \n\nOn Tue, Shop wrote: \n> delivered"),
    ("nothing here. \n-----Original Message----- \nFrom: Shop", False,
     "nothing here. \n-----Original Message----- \nFrom: Shop"),
    ("nothing here. \n________________________________ \nFrom: Shop", False,
     "nothing here. \n________________________________ \nFrom: Shop"),
])
def test_soft_breaks_join_at_one_quote_depth(text: str, delete_space: bool, expected: str) -> None:
    assert unflowed(text, delete_space) == expected


def test_a_flowed_letter_reads_as_written() -> None:
    parsed = parse_email(_mail(LETTER, "; format=flowed"))
    assert "stating that the item had been delivered" in parsed.new_text
    _, extraction = read_bytes(_mail(LETTER, "; format=flowed"), Config())
    assert extraction is not None and extraction.intent.value == "delivered_not_received"


def test_a_fixed_part_keeps_its_lines() -> None:
    """Without format=flowed a trailing space is no soft break: the lines stay as sent."""
    parsed = parse_email(_mail(LETTER, ""))
    assert "stating that the item\nhad been delivered" in parsed.new_text
