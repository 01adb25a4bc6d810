"""Bad input becomes an error value, never an exception; the CLI keeps going and exits 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from inbox_agent.config import Config
from inbox_agent.extract import NUMBERS_TEXT_CHARS
from inbox_agent.extract.orders import find_order_numbers
from inbox_agent.extract.tracking import find_tracking_numbers
from inbox_agent.parse import parse_email
from inbox_agent.parse.html import MAX_HTML_CHARS
from inbox_agent.reading import read_bytes

CLI = [sys.executable, "-m", "inbox_agent.cli"]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_parse_never_raises_on_bytes(raw: bytes) -> None:
    parsed, _ = read_bytes(raw, Config())
    assert parsed.error is None or isinstance(parsed.error, str)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_extractors_never_raise(text: str) -> None:
    numbers = [f.number for f in find_tracking_numbers(text)]
    assert all(isinstance(n, str) for n in find_order_numbers(text, numbers))


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("Content-Type: multipart/mixed; boundary=\"x\"\r\n--x\r\n=?utf-8?B?")),
               max_size=300))
def test_broken_mime_headers_never_raise(text: str) -> None:
    parsed = parse_email(("From: a@b.example\r\nSubject: x\r\n" + text).encode("utf-8", "replace"))
    assert isinstance(parsed.subject, str)


def test_nesting_past_the_parser_recursion_is_an_error_value() -> None:
    raw = b"From: a@b.example\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
    raw += b"".join(f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n".encode()
                    for i in range(sys.getrecursionlimit()))
    parsed, extraction = read_bytes(raw, Config())
    assert parsed.error == "unparseable MIME: multipart nesting too deep to parse"
    assert extraction is None


def test_empty_file_is_an_error_line_and_others_go_on(tmp_path: Path, corpus: Path) -> None:
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    good = corpus / "d002.eml"
    out = subprocess.run([*CLI, "parse", str(empty), str(good), str(tmp_path / "missing.eml")],
                         capture_output=True, text=True)
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert out.returncode == 1
    assert [line["file"] for line in lines] == [str(empty), str(good), str(tmp_path / "missing.eml")]
    assert "error" in lines[0] and "error" in lines[2]
    assert lines[1]["intent"] == "delivered_not_received"


def test_explain_gives_reasons(corpus: Path) -> None:
    out = subprocess.run([*CLI, "parse", "--explain", str(corpus / "d002.eml")], capture_output=True, text=True)
    record = json.loads(out.stdout)
    assert record["why"]["intent"] and record["why"]["tracking_numbers"]


def test_numbers_are_sought_in_the_texts_first_megabyte_only() -> None:
    """A hostile mail of megabytes costs a bounded time: its numbers past the first
    NUMBERS_TEXT_CHARS characters are not read (one before them is)."""
    filler = ("nothing to see here, " * (NUMBERS_TEXT_CHARS // 21 + 1000)).encode()
    head = b"From: a@b.example\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    _, early = read_bytes(head + b"order #48213, tracking LP00612849305172\r\n" + filler, Config())
    _, late = read_bytes(head + filler + b"\r\norder #48213, tracking LP00612849305172\r\n", Config())
    assert early is not None and late is not None
    assert early.order_numbers == ("48213",) and [t.number for t in early.tracking] == ["LP00612849305172"]
    assert late.order_numbers == () and late.tracking == ()


def test_an_html_part_is_read_up_to_its_cap() -> None:
    """A hostile HTML part of megabytes is read to MAX_HTML_CHARS, so its cost is bounded: a number
    written before the cap is found, one after it is not."""
    filler = "<div><b>nothing to see here</b></div>" * (MAX_HTML_CHARS // 37 + 1000)
    head = "From: a@b.example\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>"
    number = "<p>order #48213</p>"
    _, early = read_bytes(f"{head}{number}{filler}</body></html>".encode(), Config())
    _, late = read_bytes(f"{head}{filler}{number}</body></html>".encode(), Config())
    assert early is not None and late is not None
    assert early.order_numbers == ("48213",) and late.order_numbers == ()
