"""A built message's bytes are what the email package's own `as_bytes` writes, byte for byte
(`serialized` writes each body in one piece instead of line by line)."""

from __future__ import annotations

import os
import random
from email import message_from_bytes
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from inbox_agent.render.message import BUILDING, OUTGOING, _WholeBodyGenerator, build_message, serialized

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
