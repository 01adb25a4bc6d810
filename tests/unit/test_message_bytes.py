"""A built message's bytes are what the email package's own `as_bytes` writes, byte for byte
(`serialized` writes each body in one piece instead of line by line), and its parts and headers
are what the email package's `add_related`, `add_attachment` and folding make (`png_part`
encodes a picture in one pass, `BUILDING` writes a header that fits on its line as it is)."""

from __future__ import annotations

import os
import random
import string
from email import message_from_bytes
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.policy import SMTP, Compat32

import pytest

from inbox_agent.render.message import BUILDING, OUTGOING, _WholeBodyGenerator, build_message, png_part, serialized

BODIES = ("Hello,\nyour parcel.\n", "no line end", "crlf\r\nlines\r\n\r\n", "cr\ronly\r", "mixed\r\n\nend\n\n",
          "Zürich — 配達済み\n" * 30, "", "\n", "a" * 200 + "\n" + "b " * 100)


@pytest.mark.parametrize("body", BODIES)
def test_a_built_message_is_as_bytes_gives(body: str) -> None:
    picture = os.urandom(50_000)
    args = dict(from_address="support@store.example", from_name="Store", to=["sam@example.org"],
                subject="Your parcel [#C-1-ab12]", body=body or "x", message_id="<id-1@store.example>", intent_id=1,
                in_reply_to="<theirs@example.org>", references=("<a@example.org>",), html=f"<p>{body}</p>",
                picture=picture, picture_cid="tracking-1@store.example",
                attachments=(("page.png", os.urandom(3_000)),), proof="proof-token")
    raw = build_message(**args)  # type: ignore[arg-type]
    msg = message_from_bytes(raw, _class=EmailMessage, policy=BUILDING)
    assert serialized(msg) == msg.as_bytes()
    assert raw.count(b"\r\n") > 0 and b"\n" not in raw.replace(b"\r\n", b"")


@pytest.mark.parametrize("policy", [BUILDING, OUTGOING, SMTP])
@pytest.mark.parametrize("body", BODIES)
def test_serialized_is_as_bytes_with_preamble_and_epilogue(policy: object, body: str) -> None:
    msg = EmailMessage(policy=policy)  # type: ignore[arg-type]
    msg["Subject"] = "test"
    msg.set_content(body or "x")
    msg.add_alternative(f"<p>{body}</p>", subtype="html")
    msg.add_attachment(os.urandom(10_000), maintype="image", subtype="png", filename="p.png")
    msg.preamble = "preamble\nline two\r\n"
    msg.epilogue = "epilogue\rend"
    assert serialized(msg) == msg.as_bytes()


def test_a_boundary_is_the_email_packages_and_kept_out_of_the_text() -> None:
    random.seed(17)
    stock = BytesGenerator._make_boundary(b"some text")  # type: ignore[attr-defined]
    random.seed(17)
    assert _WholeBodyGenerator._make_boundary(b"some text") == stock
    random.seed(17)
    assert _WholeBodyGenerator._make_boundary(f"x\r\n--{stock}\r\n".encode()) == f"{stock}.0"
    random.seed(17)
    both = f"--{stock}--\r\n--{stock}.0".encode()
    assert _WholeBodyGenerator._make_boundary(both) == f"{stock}.1"


@pytest.mark.parametrize("size", [0, 1, 56, 57, 58, 114, 50_000])
def test_a_picture_and_attachments_are_the_parts_the_email_package_makes(size: int) -> None:
    picture, pages = os.urandom(size), (("page.png", os.urandom(size + 3)), ("two.png", os.urandom(7)))
    random.seed(size)
    built = build_message(from_address="support@store.example", from_name="Store", to=["sam@example.org"],
                          subject="Your parcel", body="Hello", message_id="<id-1@store.example>", intent_id=1,
                          html="<p>Hello</p>", picture=picture, picture_cid="pic@store.example", attachments=pages)
    random.seed(size)
    stock = EmailMessage(policy=BUILDING)
    headers = message_from_bytes(built, policy=BUILDING).items()
    for name, value in headers[:[name for name, _ in headers].index("MIME-Version")]:
        stock[name] = value
    stock.set_content("Hello")
    stock.add_alternative("<p>Hello</p>", subtype="html")
    html_part = stock.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(picture, maintype="image", subtype="png", cid="<pic@store.example>",
                          filename="tracking-history.png", disposition="inline")
    for filename, data in pages:
        stock.add_attachment(data, maintype="image", subtype="png", filename=filename)
    assert built == serialized(stock)
    assert png_part(picture, "inline", "p.png").get_content() == picture


def test_a_header_that_fits_is_written_as_compat32_folds_it() -> None:
    rnd = random.Random(5)
    values = ["text/plain; charset=\"utf-8\"", "1.0", "", " lead", "trail ", "a  b", "a\tb", "=?utf-8?q?x?=",
              "x" * 64, "x" * 65, "x " * 32, "inline; filename=\"tracking-history.png\""]
    values += ["".join(rnd.choice(string.printable[:95] + "  \t") for _ in range(rnd.randint(0, 90))) for _ in range(3000)]
    for value in values:
        for name in ("Content-Type", "X-Inbox-Agent-Intent", "From"):
            assert BUILDING.fold_binary(name, value) == Compat32.fold_binary(BUILDING, name, value), value
