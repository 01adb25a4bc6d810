"""Trust at the edges: addresses parsed before decoding, DKIM/DMARC verdicts, header safety,
masked secrets, daily budgets. DKIM keys are generated for the run; DNS answers through dkimpy's
`dnsfunc` hook, with no network."""

from __future__ import annotations

import base64
import email
import email.policy
import email.utils
import os
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from inbox_agent.config import load_config
from inbox_agent.errors import ConfigError, UnsendableAddress
from inbox_agent.parse import parse_email
from inbox_agent.render.message import BUILDING, build_message, envelope_address, prepare_approved
from inbox_agent.security.budget import take, take_many
from inbox_agent.security.dns import CachedDns
from inbox_agent.security.secrets import masked_url
from inbox_agent.security.sender import check_sender
from inbox_agent.store.database import Database, utcnow
from inbox_agent.store.tables import Budget
from tests.support.dkim_keys import dkim_key

SUPPLIER = "supplier@brightleaf.example"
LONG_ID = "<" + "k" * 600 + "@people.example>"


def _mail(sender: str, extra: str = "", subject: str = "Refund", body: str = "We have refunded the order.") -> bytes:
    return (f"From: {sender}\r\nTo: support@store.example\r\nSubject: {subject}\r\n"
            f"Message-ID: <m1@people.example>\r\n{extra}\r\n{body}\r\n").encode()


def test_an_encoded_word_is_never_an_address() -> None:
    parsed = parse_email(_mail("=?utf-8?q?supplier=40brightleaf.example?= <attacker@evil.example>"))
    assert parsed.from_address == "attacker@evil.example"
    assert parsed.from_name == SUPPLIER
    bare = parse_email(_mail("=?utf-8?q?supplier=40brightleaf.example?="))
    assert bare.from_address == "" and bare.sender_problem == "From holds no valid address"


def test_an_injected_display_name_cannot_change_the_sender() -> None:
    name = base64.b64encode(b"Eve\r\nBcc: x@evil.example").decode()
    parsed = parse_email(_mail(f"=?utf-8?b?{name}?= <jamie@example.org>"))
    assert parsed.from_address == "jamie@example.org"
    assert "\n" not in parsed.from_name and "\r" not in parsed.from_name


def test_two_senders_leave_the_sender_unknown() -> None:
    parsed = parse_email(_mail("jamie@example.org, eve@evil.example"))
    assert parsed.from_address == "" and parsed.sender_problem == "From holds 2 addresses"


def test_an_address_written_before_the_real_one_is_no_sender() -> None:
    """'victim@gmail.com <attacker@evil.example>' is no valid From: the standard library keeps the
    first address and drops the rest, while the mail server checks DMARC for the address in angle
    brackets (evil.example passes). Taken as the victim's, it would join their case unrefuted."""
    for written in ("victim@gmail.com <attacker@evil.example>", "Victim <victim@gmail.com> <attacker@evil.example>"):
        parsed = parse_email(_mail(written))
        assert parsed.from_address == "" and parsed.sender_problem == "From holds no valid address", written
    commented = parse_email(_mail("jamie@example.org (Jamie at home)"))  # a comment is valid: the address holds
    assert commented.from_address == "jamie@example.org" and commented.sender_problem is None


def test_nul_is_stripped_and_long_ids_are_bounded() -> None:
    raw = _mail("jamie@example.org", subject="=?utf-8?q?=00?=", body="a\x00b").replace(
        b"<m1@people.example>", LONG_ID.encode())
    parsed = parse_email(raw)
    assert parsed.subject == "" and "\x00" not in parsed.body and parsed.message_id == LONG_ID
    too_long = "<" + "k" * 1200 + "@people.example>"
    assert parse_email(raw.replace(LONG_ID.encode(), too_long.encode())).message_id is None


def _resolver(*keys):  # type: ignore[no-untyped-def]
    records = {k.dns_name: k.txt for k in keys}
    return CachedDns(lambda name, timeout=5: records.get(name))


def test_aligned_dkim_proves_the_supplier() -> None:
    key = dkim_key("brightleaf.example")
    signed = key.sign(_mail(f"Brightleaf <{SUPPLIER}>"))
    assert check_sender(signed, SUPPLIER, "", True, _resolver(key)).proven
    tampered = signed.replace(b"We have refunded", b"We have not refunded")
    verdict = check_sender(tampered, SUPPLIER, "", True, _resolver(key))
    assert not verdict.proven and "body hash mismatch" in verdict.how


def test_a_signature_of_another_domain_proves_nothing() -> None:
    evil = dkim_key("evil.example")
    signed = evil.sign(_mail(f"Brightleaf <{SUPPLIER}>"))
    verdict = check_sender(signed, SUPPLIER, "", True, _resolver(evil))
    assert not verdict.proven and "d=evil.example not aligned" in verdict.how


def test_only_our_servers_authentication_results_count() -> None:
    passing = "Authentication-Results: mx.store.example; dmarc=pass header.from=brightleaf.example\r\n"
    raw = passing.encode() + _mail(SUPPLIER)
    assert check_sender(raw, SUPPLIER, "mx.store.example", True, _resolver()).proven
    forged = raw.replace(b"mx.store.example", b"mx.evil.example")
    verdict = check_sender(forged, SUPPLIER, "mx.store.example", True, _resolver())
    assert not verdict.proven and "no DKIM signature" in verdict.how
    failing = b"Authentication-Results: mx.store.example; dkim=none; dmarc=fail header.from=brightleaf.example\r\n"
    refuted = check_sender(failing + _mail(SUPPLIER), SUPPLIER, "mx.store.example", True, _resolver())
    assert not refuted.proven and refuted.refuted and "dmarc=fail" in refuted.how


def test_dns_lookups_are_cached_and_bounded() -> None:
    asked: list[bytes] = []

    def resolve(name: bytes, timeout: float = 5) -> bytes | None:
        asked.append(name)
        raise TimeoutError("no answer")

    dns = CachedDns(resolve, max_entries=2)
    for name in (b"a.", b"a.", b"b.", b"c.", b"a."):
        assert dns(name) is None
    assert asked == [b"a.", b"b.", b"c.", b"a."]


def test_long_message_ids_are_never_encoded() -> None:
    raw = build_message(from_address="support@store.example", from_name="Store", to=["jamie@example.org"],
                        subject="Re: parcel", body="hi", message_id="<m@store.example>", intent_id=1,
                        in_reply_to=LONG_ID, references=("<a@people.example>", LONG_ID))
    assert b"=?" not in raw
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(msg["In-Reply-To"]) == LONG_ID and str(msg["References"]).split() == ["<a@people.example>", LONG_ID]
    ready, _, _ = prepare_approved(raw, "<m@store.example>")
    assert LONG_ID.encode() in ready and b"=?" not in ready


def test_built_headers_read_back_whole_and_refuse_a_line_break() -> None:
    raw = build_message(from_address="support@bücher.example", from_name="Bücher & Söhne, Zürich", to=["jamie@example.org"],
                        subject="Re: colis non reçu, numéro LA482915635FR [#C-7-a1b2c3d4]", body="Bonjour,\n\nVoilà.\n",
                        message_id="<m@store.example>", intent_id=1, html="<p>Voilà</p>")
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and all(len(line) <= 78 for line in head.split(b"\r\n"))
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert email.utils.parseaddr(str(msg["From"])) == ("Bücher & Söhne, Zürich", "support@xn--bcher-kva.example")
    assert str(msg["Subject"]) == "Re: colis non reçu, numéro LA482915635FR [#C-7-a1b2c3d4]"
    built = EmailMessage(policy=BUILDING)
    with pytest.raises(ValueError, match="line break"):
        built["X-Note"] = "fine\r\nBcc: x@evil.example"


def test_recipients_are_plain_addresses_or_a_clear_error() -> None:
    assert envelope_address("jamie@bücher.example") == "jamie@xn--bcher-kva.example"
    with pytest.raises(UnsendableAddress, match="non-ASCII local part"):
        envelope_address("jürgen@example.org")
    for bad in ("a@b.example, x@evil.example", "Eve <x@evil.example>", "a@b.example\r\nBcc: x@evil.example"):
        with pytest.raises(UnsendableAddress):
            envelope_address(bad)


def test_no_password_in_url_errors_or_banners() -> None:
    assert masked_url("postgresql://app:hunter2@db.example/inbox") == "postgresql://app:***@db.example/inbox"
    with pytest.raises(ConfigError) as caught:
        Database("postgresql://app:hunter2@db.example:notaport/inbox")
    assert "hunter2" not in str(caught.value) and "***" in str(caught.value)


def test_a_config_others_can_write_gets_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[store]\nname = 'Shop'\n")
    os.chmod(path, 0o666)
    load_config(path)
    assert "writable by its group and everyone" in capsys.readouterr().err
    os.chmod(path, 0o600)
    load_config(path)
    assert capsys.readouterr().err == ""


def test_a_budget_grants_up_to_its_limit(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'b.db'}")
    db.create()
    now = utcnow()
    with db.transaction() as s:
        assert take(s, "tracking:eve@evil.example", now, 8, 10) == 8
    with db.transaction() as s:
        assert take(s, "tracking:eve@evil.example", now, 8, 10) == 2
        assert take(s, "tracking:jamie@example.org", now, 3, 10) == 3
    db.dispose()


def test_budgets_taken_together_grant_what_taking_them_one_by_one_grants(database_url: str) -> None:
    requests = [("tracking:eve@evil.example", 8), ("tracking:jamie@example.org", 3), ("tracking:eve@evil.example", 8),
                ("tracking:new@example.org", 12), ("tracking:eve@evil.example", 1), ("tracking:jamie@example.org", 7)]
    now = utcnow()
    granted = {}
    for how in ("alone", "together"):
        db = Database(database_url)
        db.create()
        with db.transaction() as s:
            s.add(Budget(key="tracking:jamie@example.org", day=now.date().isoformat(), used=4))
            s.add(Budget(key="tracking:eve@evil.example", day=(now - timedelta(days=1)).date().isoformat(), used=10))
        with db.transaction() as s:
            granted[how] = ([take(s, key, now, units, 10) for key, units in requests] if how == "alone"
                            else take_many(s, [(key, now, units) for key, units in requests], 10))
        with db.transaction() as s:
            granted[how + " used"] = sorted((b.key, b.day, b.used) for b in s.scalars(select(Budget)))
            s.execute(delete(Budget))
        db.dispose()
    assert granted["alone"] == granted["together"] == [8, 3, 2, 10, 0, 3]
    assert granted["alone used"] == granted["together used"]
