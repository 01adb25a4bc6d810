"""The adversarial findings, replayed on the real stack (Dovecot, aiosmtpd, SQLite, PostgreSQL):
spoofed suppliers, strangers in other people's cases, injected names, poison mail, amplification.

Attack mail is written byte by byte and delivered by dovecot-lda, as an attacker's MTA would.
"""

from __future__ import annotations

import base64
import email.message
import email.utils
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from imapclient import IMAPClient
from sqlalchemy import create_engine, func, select, text

from inbox_agent.config import RepliesConfig, SecurityConfig, StoreConfig
from inbox_agent.store.tables import Case, InboundMessage, Intent, Timer
from tests.support.carriers import FakeCarriers, LocalServer, Parcel
from tests.support.dkim_keys import dkim_key
from tests.support.dovecot import free_port
from tests.support.scenario import SUPPLIER, SUPPORT, Scenario, db_path, text_of
from tests.support.wait import until

CUSTOMER = "Jamie Customer <jamie@example.org>"
JAMIE = "jamie@example.org"
EVE = "eve@evil.example"
ORIGIN = "LV123456785CN"
IMPB = "9400111206206406260787"
COMPLAINT = (f"Hello, my order #1043 shows as delivered, tracking number {ORIGIN}, but I never received it. "
             "Nothing in my mailbox.")
STILL_NOTHING = "I contacted the post office as you said but still nothing. I have not received the parcel."
REFUND = "Dear customer, we have issued a full refund for this order through AliExpress."
SERVER = "mx.store.example"


@pytest.fixture
def settings() -> dict[str, object]:
    return {"security": SecurityConfig(trusted_authserv_id=SERVER)}


@pytest.fixture
async def scenario(dovecot, mailuser, smtp_server, carriers: LocalServer, tmp_path: Path,  # type: ignore[no-untyped-def]
                   secrets_env: None, settings: dict[str, object]) -> AsyncIterator[Scenario]:
    scene = Scenario(dovecot, mailuser, smtp_server, carriers, db_path(tmp_path), settings=dict(settings))
    await scene.start()
    yield scene
    await scene.stop()



def mail(sender: str, subject: str, body: str, *, headers: str = "", message_id: str | None = None,
         answering: email.message.EmailMessage | None = None) -> bytes:
    """An attacker's raw message: headers exactly as written."""
    lines = [f"From: {sender}", f"To: {SUPPORT}", f"Subject: {subject}",
             f"Date: {email.utils.formatdate()}", f"Message-ID: {message_id or email.utils.make_msgid('x.example')}"]
    if answering is not None:
        lines += [f"In-Reply-To: {answering['Message-ID']}", f"References: {answering['Message-ID']}"]
    head = "\r\n".join(lines) + "\r\n" + headers
    return (head + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode()


def deliver(scenario: Scenario, raw: bytes) -> None:
    scenario.dovecot.deliver(scenario.user, raw)


async def left_for_people(scenario: Scenario, message_id: str):  # type: ignore[no-untyped-def]
    def find():  # type: ignore[no-untyped-def]
        return next((m for m in scenario.attention() if m["Message-ID"] == message_id), None)

    return await until(find, timeout=20, what=f"{message_id} in Needs attention")


def tag_of(msg: email.message.EmailMessage) -> str:
    found = re.search(r"\[#C-\d+-[0-9a-f]+\]", str(msg["Subject"]))
    assert found is not None
    return found.group(0)


async def kit_sent(scenario: Scenario, fakes: FakeCarriers):  # type: ignore[no-untyped-def]
    fakes.add(Parcel(ORIGIN, destination="US", last_mile=IMPB))
    scenario.deliver(CUSTOMER, "Order #1043 delivered but not received", COMPLAINT)
    kit = await scenario.wait_sent(JAMIE, 1, "the kit")
    await scenario.wait_state(1, "awaiting_customer")
    return kit


async def supplier_contacted(scenario: Scenario, fakes: FakeCarriers):  # type: ignore[no-untyped-def]
    kit = await kit_sent(scenario, fakes)
    scenario.deliver(CUSTOMER, "", STILL_NOTHING, answering=kit)
    to_supplier = await scenario.wait_sent(SUPPLIER, 1, "the request to the supplier")
    await scenario.wait_sent(JAMIE, 2, "the customer told")
    await scenario.wait_state(1, "awaiting_supplier")
    return to_supplier


@pytest.mark.parametrize("spoof", ["plain", "dmarc-fail-in-our-thread", "encoded-word-from"])
async def test_a_spoofed_supplier_changes_no_case(scenario: Scenario, fakes: FakeCarriers, spoof: str) -> None:
    to_supplier = await supplier_contacted(scenario, fakes)
    message_id = email.utils.make_msgid("evil.example")
    subject = f"Refund {tag_of(to_supplier)}"
    if spoof == "plain":
        raw = mail(f"Brightleaf <{SUPPLIER}>", subject, REFUND, message_id=message_id)
    elif spoof == "dmarc-fail-in-our-thread":
        raw = mail(f"Brightleaf <{SUPPLIER}>", subject, REFUND, message_id=message_id, answering=to_supplier,
                   headers=f"Authentication-Results: {SERVER}; spf=fail; dkim=none; "
                           "dmarc=fail header.from=brightleaf.example\r\n")
    else:
        raw = mail("=?utf-8?q?supplier=40brightleaf.example?= <attacker@evil.example>", subject, REFUND,
                   message_id=message_id, headers=f"Authentication-Results: {SERVER}; dkim=pass "
                                                  "header.d=evil.example; dmarc=pass header.from=evil.example\r\n")
    deliver(scenario, raw)
    note = await left_for_people(scenario, message_id)
    await scenario.settled(inbound=3)
    case = scenario.case(1)
    assert case.state == "awaiting_supplier" and case.outcome is None
    assert len(scenario.sent(JAMIE)) == 2 and scenario.sent("attacker@evil.example") == []
    if spoof != "encoded-word-from":
        assert "is not proven to come from them" in str(note["X-Inbox-Agent-Reason"])


async def test_a_dkim_verified_supplier_reply_in_our_thread_refunds(scenario: Scenario, fakes: FakeCarriers) -> None:
    key = dkim_key("brightleaf.example")
    scenario.dns[key.dns_name] = key.txt
    to_supplier = await supplier_contacted(scenario, fakes)
    outside = email.utils.make_msgid("brightleaf.example")
    deliver(scenario, key.sign(mail(f"Brightleaf <{SUPPLIER}>", f"Refund {tag_of(to_supplier)}", REFUND,
                                    message_id=outside)))
    await left_for_people(scenario, outside)
    assert scenario.case(1).state == "awaiting_supplier"
    deliver(scenario, key.sign(mail(f"Brightleaf <{SUPPLIER}>", f"Re: {to_supplier['Subject']}", REFUND,
                                    answering=to_supplier)))
    case = await scenario.wait_state(1, "refunded")
    refund = await scenario.wait_sent(JAMIE, 3, "the refund confirmation")
    assert case.outcome == "refunded" and "refund" in text_of(refund).lower()
    assert case.facts.supplier_address == SUPPLIER


@pytest.mark.parametrize("settings", [{"replies": RepliesConfig(mode="auto", templates={
    "customer_refund_confirmed": "draft"})}])
async def test_a_rejected_refund_confirmation_reopens_the_case(scenario: Scenario, fakes: FakeCarriers) -> None:
    to_supplier = await supplier_contacted(scenario, fakes)
    scenario.deliver(f"Brightleaf <{SUPPLIER}>", "", REFUND, answering=to_supplier)
    await scenario.wait_state(1, "refunded")
    client = IMAPClient("127.0.0.1", port=scenario.dovecot.port, ssl=False, timeout=10)
    client.login(scenario.user, "secret")
    try:
        client.select_folder("Review")
        uids = await until(lambda: client.search("ALL") or (client.noop() and None), timeout=20, what="the draft")
        client.move(uids, "Rejected")
    finally:
        client.logout()
    case = await scenario.wait_state(1, "awaiting_supplier")
    assert case.outcome is None and case.closed_at is None
    with scenario.daemon.db.transaction() as s:  # type: ignore[union-attr]
        timers = set(s.scalars(select(Timer.name).where(Timer.case_id == 1)))
    assert timers == {"supplier_reminder", "dispute_warning"}
    assert len(scenario.sent(JAMIE)) == 2


async def test_a_customer_forged_with_dmarc_failing_changes_nothing(scenario: Scenario, fakes: FakeCarriers) -> None:
    """Someone writing as the customer (From: the customer's address, the order number they know)
    to close the case: our server says DMARC fails for that From domain, so the message touches no
    case and goes to people with the reason."""
    await kit_sent(scenario, fakes)
    message_id = email.utils.make_msgid("evil.example")
    raw = mail(CUSTOMER, "Order #1043", "Hi, the parcel for order #1043 arrived today, all good. Thanks, Jamie",
               message_id=message_id, headers=f"Authentication-Results: {SERVER}; spf=fail; dkim=none; "
                                              "dmarc=fail header.from=example.org\r\n")
    deliver(scenario, raw)
    note = await left_for_people(scenario, message_id)
    await scenario.settled(inbound=2)
    case = scenario.case(1)
    assert case.state == "awaiting_customer" and case.outcome is None
    assert len(scenario.sent(JAMIE)) == 1
    assert "DMARC fails" in str(note["X-Inbox-Agent-Reason"])


async def test_a_stranger_with_the_case_tag_learns_and_changes_nothing(scenario: Scenario, fakes: FakeCarriers) -> None:
    kit = await kit_sent(scenario, fakes)
    message_id = email.utils.make_msgid("evil.example")
    deliver(scenario, mail(f"Eve <{EVE}>", f"Re: {kit['Subject']}",
                           "Good news, the parcel arrived today, I got it. Thank you!", message_id=message_id))
    await scenario.settled(inbound=2)
    assert scenario.case(1).state == "awaiting_customer"
    for sent in scenario.sent(EVE):
        assert ORIGIN not in text_of(sent) and IMPB not in text_of(sent) and JAMIE not in text_of(sent)
        assert tag_of(kit) not in str(sent["Subject"])


async def test_a_stranger_with_copied_references_learns_and_changes_nothing(scenario: Scenario,
                                                                         fakes: FakeCarriers) -> None:
    kit = await kit_sent(scenario, fakes)
    deliver(scenario, mail(f"Eve <{EVE}>", "Re: customs fee due, pay at http://pay.evil.example",
                           f"{STILL_NOTHING} Send the refund to eve.", answering=kit))
    await scenario.settled(inbound=2)
    case = scenario.case(1)
    assert case.state == "awaiting_customer" and scenario.sent(SUPPLIER) == []
    assert "refund to eve" not in case.facts.customer_words
    for sent in scenario.sent(EVE):
        assert ORIGIN not in text_of(sent) and IMPB not in text_of(sent) and JAMIE not in text_of(sent)
    scenario.deliver(CUSTOMER, "", STILL_NOTHING, answering=kit)
    to_supplier = await scenario.wait_sent(SUPPLIER, 1, "the request to the supplier")
    assert "refund to eve" not in text_of(to_supplier)
    await scenario.wait_sent(JAMIE, 2, "the customer told")
    assert not [m for m in scenario.sent() if "evil.example" in str(m["Subject"])]


@pytest.mark.parametrize("number", [ORIGIN, IMPB], ids=["origin", "last-mile"])
async def test_a_stranger_quoting_someones_tracking_number_gets_nothing(scenario: Scenario, fakes: FakeCarriers,
                                                                        number: str) -> None:
    await kit_sent(scenario, fakes)
    message_id = email.utils.make_msgid("evil.example")
    deliver(scenario, mail(f"Eve <{EVE}>", "Parcel delivered but not received",
                           f"My parcel {number} shows as delivered but I never received it.", message_id=message_id))
    note = await left_for_people(scenario, message_id)
    await scenario.settled(inbound=2)
    assert "another customer's case" in str(note["X-Inbox-Agent-Reason"])
    assert scenario.sent(EVE) == []
    with scenario.daemon.db.transaction() as s:  # type: ignore[union-attr]
        assert s.scalar(select(func.count()).select_from(Case)) == 1


async def test_an_injected_display_name_cannot_change_the_recipient(scenario: Scenario, fakes: FakeCarriers) -> None:
    fakes.add(Parcel(ORIGIN, destination="US", last_mile=IMPB))
    name = base64.b64encode(b"Jamie\r\nBcc: x@evil.example").decode()
    deliver(scenario, mail(f"=?utf-8?b?{name}?= <{JAMIE}>", "Order #1043 delivered but not received", COMPLAINT))
    await scenario.wait_sent(JAMIE, 1, "the kit")
    await scenario.wait_state(1, "awaiting_customer")
    assert [m.recipients for m in scenario.smtp[1].messages] == [[JAMIE]]
    assert scenario.case(1).customer == JAMIE


async def test_mail_from_ourselves_and_a_responders_repeats_open_no_case(scenario: Scenario) -> None:
    deliver(scenario, mail(f"Store <{SUPPORT}>", "Where is my order?", "Where is my order? I have not received it."))
    for _ in range(3):
        deliver(scenario, mail("Robot <robot@people.example>", "Where is my order?",
                               "Where is my order? I have not received my parcel yet."))
    await scenario.wait_sent("robot@people.example", 1, "the one answer to the responder")
    await scenario.settled(inbound=4)
    with scenario.daemon.db.transaction() as s:  # type: ignore[union-attr]
        customers = list(s.scalars(select(Case.customer)))
        drafted = s.scalar(select(func.count()).select_from(Intent).where(Intent.kind == "reply"))
    assert drafted == 1
    assert customers == ["robot@people.example"]
    assert len(scenario.sent("robot@people.example")) == 1 and scenario.sent(SUPPORT) == []


def s10(serial: int) -> str:
    digits = f"{serial:08d}"
    check = 11 - sum(int(d) * w for d, w in zip(digits, (8, 6, 4, 2, 3, 5, 9, 7), strict=True)) % 11
    return f"LV{digits}{ {10: 0, 11: 5}.get(check, check)}CN"


async def test_a_thousand_numbers_make_at_most_the_capped_lookups(scenario: Scenario, fakes: FakeCarriers) -> None:
    numbers = [s10(20000000 + i) for i in range(1000)]
    body = "My order #1043 shows as delivered but I never received it. Tracking numbers: " + ", ".join(numbers)
    deliver(scenario, mail(CUSTOMER, "Order #1043 delivered but not received", body))
    await scenario.settled(inbound=1)
    await until(lambda: fakes.requests or None, timeout=20, what="the lookups")
    await scenario.settled(inbound=1)
    asked = {n for r in fakes.requests for n in re.findall(r"LV\d{9}CN", str(r.url) + r.content.decode())}
    assert 0 < len(asked) <= 10 and asked <= set(numbers[:10])
    assert len(scenario.case(1).tracking_numbers) == 10


@pytest.mark.parametrize("settings", [{"security": SecurityConfig(max_paid_lookups_per_day=1)}])
async def test_paid_lookups_stop_at_the_daily_cap_with_a_note(scenario: Scenario, fakes: FakeCarriers) -> None:
    second = "RR123456785US"
    scenario.deliver(CUSTOMER, "Order #1043 delivered but not received",
                     f"My order #1043 shows as delivered but I never received it. Tracking {ORIGIN} and {second}.")

    def noted() -> str | None:
        with scenario.daemon.db.transaction() as s:  # type: ignore[union-attr]
            return s.scalar(select(Intent.last_error).where(Intent.kind == "track"))

    note = await until(noted, timeout=20, what="the cap note on the lookup")
    assert "daily cap of 1 tracking lookups" in note and fakes.requests == []


@pytest.mark.parametrize("settings", [{"store": StoreConfig(name="Brightleaf Home", support_address=SUPPORT,
                                                            keep_raw_days=90)}])
async def test_raw_mail_is_dropped_after_keep_raw_days(scenario: Scenario, fakes: FakeCarriers) -> None:
    await kit_sent(scenario, fakes)
    scenario.clock.now += timedelta(days=91)
    deliver(scenario, mail("Other <other@people.example>", "Hello", "Just saying hello."))
    await scenario.settled(inbound=2)

    def dropped() -> bool | None:
        with scenario.daemon.db.transaction() as s:  # type: ignore[union-attr]
            raws = list(s.scalars(select(InboundMessage.raw).order_by(InboundMessage.id)))
        return (raws[0] == b"" and raws[1] != b"") or None

    assert await until(dropped, timeout=20, what="the old raw mail dropped")


async def test_poison_mail_does_not_stop_ingest_on_postgresql(dovecot, mailuser, smtp_server,  # type: ignore[no-untyped-def]
                                                              carriers: LocalServer, fakes: FakeCarriers,
                                                              secrets_env: None, postgres_url: str) -> None:
    scenario = Scenario(dovecot, mailuser, smtp_server, carriers, postgres_url)
    await scenario.start()
    try:
        long_id = "<" + "p" * 600 + "@people.example>"
        reused = email.utils.make_msgid("people.example")
        deliver(scenario, mail("Ann <ann@people.example>", "Where is my order?",
                               "Where is my order #2001? I have not received it.", message_id=long_id))
        deliver(scenario, mail("Bob <bob@people.example>", "=?utf-8?q?=00?=",
                               "Where is my order #2002? I have not received it."))
        deliver(scenario, mail("Cat <cat@people.example>", "Hello", "Where is my order #2003?", message_id=reused))
        deliver(scenario, mail("Dan <dan@people.example>", "Other", "Where is my order #2004?", message_id=reused))
        await scenario.settled(inbound=4)
        with scenario.daemon.db.transaction() as s:  # type: ignore[union-attr]
            rows = list(s.scalars(select(InboundMessage).order_by(InboundMessage.id)))
            customers = sorted(s.scalars(select(Case.customer)))
        assert [r.error for r in rows] == [None] * 4 and rows[0].message_id == long_id
        assert rows[3].message_id is None and rows[3].summary.message_id_reused is True
        assert customers == ["ann@people.example", "bob@people.example", "cat@people.example", "dan@people.example"]
        for to in ("ann@people.example", "bob@people.example"):
            answer = await scenario.wait_sent(to, 1, f"the answer to {to}")
            assert "=?" not in str(answer["In-Reply-To"] or "")
        assert (await scenario.wait_sent("ann@people.example", 1, "ann"))["In-Reply-To"] == long_id
    finally:
        await scenario.stop()


def test_the_start_banner_shows_no_password(tmp_path: Path, postgres_url: str) -> None:
    secret_url = postgres_url.replace("postgresql://postgres@", "postgresql://postgres:hunter2@")
    config = tmp_path / "config.toml"
    config.write_text(f"[database]\nurl = \"{secret_url}\"\n[maildir]\npath = \"{tmp_path / 'mail'}\"\n"
                      f"smtp_listen = \"127.0.0.1:{free_port()}\"\n")
    config.chmod(0o600)
    process = subprocess.Popen([sys.executable, "-m", "inbox_agent.cli", "run", "--config", str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(3)]
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=30)
    output = "".join(lines) + rest
    assert "database postgresql+psycopg://postgres:***@" in output or "database postgresql://postgres:***@" in output
    assert "hunter2" not in output


@pytest.mark.parametrize("settings", [{"security": SecurityConfig(max_auto_per_case_per_day=2)}])
async def test_automatic_messages_are_capped_per_case(scenario: Scenario, fakes: FakeCarriers) -> None:
    kit = await kit_sent(scenario, fakes)
    scenario.deliver(CUSTOMER, "", STILL_NOTHING, answering=kit)
    await scenario.wait_sent(SUPPLIER, 1, "the request to the supplier (the case's second message today)")

    def waiting() -> list[str] | None:
        with scenario.daemon.db.transaction() as s:  # type: ignore[union-attr]
            drafted = list(s.scalars(select(Intent.template).where(Intent.status == "DRAFTED")))
        return drafted or None

    assert await until(waiting, timeout=20, what="the third message waiting in Review") == [
        "customer_supplier_contacted"]
    assert len(scenario.sent(JAMIE)) == 1


POISON_TRIGGER = """
CREATE FUNCTION refuse_poison() RETURNS trigger AS $$
BEGIN
  IF NEW.summary::text LIKE '%poison-once%' THEN RAISE EXCEPTION 'refused by the test trigger'; END IF;
  IF position(convert_to('poison-always', 'UTF8') in NEW.raw) > 0 THEN RAISE EXCEPTION 'refused again'; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER refuse_poison BEFORE INSERT ON inbound_message FOR EACH ROW EXECUTE FUNCTION refuse_poison();
"""


async def test_a_message_the_database_refuses_is_set_aside_and_ingest_goes_on(  # type: ignore[no-untyped-def]
        dovecot, mailuser, smtp_server, carriers: LocalServer, secrets_env: None, postgres_url: str) -> None:
    """The database itself refuses rows (a trigger on the real PostgreSQL): once for the parsed
    message, or for every row holding its bytes."""
    scenario = Scenario(dovecot, mailuser, smtp_server, carriers, postgres_url)
    await scenario.start()
    try:
        engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as c:
            c.execute(text(POISON_TRIGGER))
        engine.dispose()
        once, always = email.utils.make_msgid("people.example"), email.utils.make_msgid("people.example")
        deliver(scenario, mail("Ann <ann@people.example>", "poison-once", "My secret words, order #2001.",
                               message_id=once))
        deliver(scenario, mail("Bob <bob@people.example>", "Hello", "poison-always", message_id=always))
        deliver(scenario, mail("Cat <cat@people.example>", "Where is my order?", "Where is my order #2003?"))
        first = await left_for_people(scenario, once)
        assert "refused by the test trigger" in str(first["X-Inbox-Agent-Reason"])
        assert "secret words" not in str(first["X-Inbox-Agent-Reason"])
        assert (await left_for_people(scenario, always))["Message-ID"] == always
        await scenario.wait_sent("cat@people.example", 1, "the answer to the message after the poison")
        with scenario.daemon.db.transaction() as s:  # type: ignore[union-attr]
            errors = list(s.scalars(select(InboundMessage.error).order_by(InboundMessage.id)))
        assert len(errors) == 2 and "refused by the test trigger" in str(errors[0]) and errors[1] is None
    finally:
        await scenario.stop()


@pytest.mark.parametrize("settings", [{"security": SecurityConfig(max_tracking_per_sender_per_day=3)}])
async def test_one_sender_gets_at_most_its_daily_numbers(scenario: Scenario, fakes: FakeCarriers) -> None:
    numbers = [s10(30000000 + i) for i in range(5)]
    deliver(scenario, mail(CUSTOMER, "Order #1043 delivered but not received",
                           "My order #1043 shows as delivered but I never received it. Tracking: " + " ".join(numbers)))
    await scenario.settled(inbound=1)
    with scenario.daemon.db.transaction() as s:  # type: ignore[union-attr]
        inbound = s.scalars(select(InboundMessage)).one()
        summary, read = inbound.summary, (inbound.status, inbound.error, inbound.case_id)
    assert read[2] is not None, ("no case opened", read, summary.sender_role, summary.intent,
                                 summary.intent_confidence, summary.left_for_people)
    assert [t.number for t in scenario.case(read[2]).tracking_numbers] == numbers[:3]
    assert summary.tracking_dropped == 2
