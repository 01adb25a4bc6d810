"""The playbook end to end, with time: real Dovecot, real aiosmtpd, fake carriers, a moved clock.

(a) kit sent, customer received it -> solved
(b) post office cannot track -> distributor asked -> answers with the number -> kit -> still
    nothing -> supplier emailed with the customer's words -> refund -> customer told -> refunded,
    also with the daemon restarted between every two steps (f)
(c) supplier silent -> two reminders -> escalation, before the dispute deadline
(d) an auto-responding customer never gets more than one message
(e) two cases of one customer stay apart
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from inbox_agent.config import TrackingConfig
from tests.support.carriers import FakeCarriers, LocalServer, Parcel
from tests.support.scenario import DISTRIBUTOR, SUPPLIER, Scenario, db_path, text_of
from tests.support.wait import until

CUSTOMER = "Jamie Customer <jamie@example.org>"
JAMIE = "jamie@example.org"
ORIGIN = "LV123456785CN"
IMPB = "9400111206206406260787"
COMPLAINT = (f"Hello, my order #1043 shows as delivered, tracking number {ORIGIN}, but I never received it. "
             "Nothing in my mailbox.")
STILL_NOTHING = "I contacted the post office as you said but still nothing. I have not received the parcel."


@pytest.fixture
def fakes() -> FakeCarriers:
    return FakeCarriers(usps_knows_s10=False)


# The tracking most stores have: one 17TRACK key and no destination-post account.
ONLY_17TRACK = pytest.mark.parametrize("scenario", ["17track+usps", "17track-only"], indirect=True)


@pytest.fixture
async def scenario(request: pytest.FixtureRequest, dovecot, mailuser, smtp_server,  # type: ignore[no-untyped-def]
                   carriers: LocalServer, tmp_path: Path, secrets_env: None) -> AsyncIterator[Scenario]:
    scene = Scenario(dovecot, mailuser, smtp_server, carriers, db_path(tmp_path))
    if getattr(request, "param", None) == "17track-only":
        scene.tracking = TrackingConfig(seventeen_track=scene.fast("/track/v2.2", api_key_env="T17_TOKEN"))
    await scene.start()
    yield scene
    await scene.stop()


@ONLY_17TRACK
async def test_a_kit_then_received_is_solved(scenario: Scenario, fakes: FakeCarriers) -> None:
    fakes.add(Parcel(ORIGIN, destination="US", last_mile=IMPB))
    fakes.usps_knows_s10 = True
    scenario.deliver(CUSTOMER, "Order #1043 delivered but not received", COMPLAINT)
    kit = await scenario.wait_sent(JAMIE, 1, "the post-office kit")
    assert f"tLabels={IMPB}" in text_of(kit)
    assert [p.get_content_type() for p in kit.walk()][-1] == "image/png"
    await scenario.wait_state(1, "awaiting_customer")
    scenario.deliver(CUSTOMER, "", "Good news, the parcel arrived today, I got it. Thank you!", answering=kit)
    thanks = await scenario.wait_sent(JAMIE, 2, "the thank-you")
    case = await scenario.wait_state(1, "solved")
    assert case.outcome == "solved" and "arrived" in text_of(thanks)
    assert thanks["In-Reply-To"] is not None and re.search(r"\[#C-1-[0-9a-f]{8}\]$", str(thanks["Subject"]))


@ONLY_17TRACK
@pytest.mark.parametrize("restart", [False, True], ids=["straight", "restart-between-steps"])
async def test_b_distributor_then_supplier_refund(scenario: Scenario, fakes: FakeCarriers, restart: bool) -> None:
    fakes.add(Parcel(ORIGIN, destination="US", last_mile=IMPB, hidden_last_mile=True))

    async def step() -> None:
        if restart:
            await scenario.restart()

    scenario.deliver(CUSTOMER, "Order #1043 delivered but not received", COMPLAINT)
    request = await scenario.wait_sent(DISTRIBUTOR, 1, "the request to the distributor")
    body = text_of(request)
    assert "please provide us the post office tracking number" in body.lower()
    assert ORIGIN in body and JAMIE in body and "[#C-1-" in str(request["Subject"])
    await step()
    scenario.deliver(f"Fastlane Ops <{DISTRIBUTOR}>", "", f"Hello, the post office tracking number is {IMPB} (USPS).",
                     answering=request)
    kit = await scenario.wait_sent(JAMIE, 1, "the kit with the distributor's number")
    assert f"tLabels={IMPB}" in text_of(kit)
    await scenario.wait_state(1, "awaiting_customer")
    await step()
    scenario.deliver(CUSTOMER, "", STILL_NOTHING, answering=kit)
    to_supplier = await scenario.wait_sent(SUPPLIER, 1, "the request to the supplier")
    told = await scenario.wait_sent(JAMIE, 2, "the customer told the supplier is contacted")
    supplier_text = text_of(to_supplier)
    assert "this order appears as delivered but my client has not received it yet" in supplier_text.lower()
    assert "> I contacted the post office as you said but still nothing." in supplier_text
    assert "> Hello, my order #1043 shows as delivered" in supplier_text
    assert "supplier" in text_of(told).lower()
    await step()
    scenario.deliver(f"Brightleaf <{SUPPLIER}>", "",
                     "Dear customer, we have issued a full refund for this order through AliExpress.",
                     answering=to_supplier)
    refund = await scenario.wait_sent(JAMIE, 3, "the refund confirmation")
    case = await scenario.wait_state(1, "refunded")
    assert "refund" in text_of(refund).lower() and case.outcome == "refunded"
    assert [len(scenario.sent(a)) for a in (JAMIE, DISTRIBUTOR, SUPPLIER)] == [3, 1, 1]

    # SENT is committed just after the SMTP server's 250, which the recorder may have seen first
    await until(lambda: all(status == "SENT" for _, status in scenario.intents()), what="every reply SENT")


async def test_c_silent_supplier_is_reminded_twice_then_escalated_before_the_deadline(
        scenario: Scenario, fakes: FakeCarriers) -> None:
    kit = await _kit_sent(scenario, fakes)
    await scenario.wait_state(1, "awaiting_customer")
    await scenario.advance(24)
    scenario.deliver(CUSTOMER, "", STILL_NOTHING, answering=kit)
    await scenario.wait_sent(SUPPLIER, 1, "the request to the supplier")
    await scenario.wait_state(1, "awaiting_supplier")
    for reminder in (1, 2):
        await scenario.advance(48)
        sent = await scenario.wait_sent(SUPPLIER, 1 + reminder, f"reminder {reminder}")
        assert f"reminder {reminder}" in text_of(sent) and "[#C-1-" in str(sent["Subject"])
    await scenario.advance(48)
    case = await scenario.wait_state(1, "needs_attention")
    deadline = "2026-07-25"
    assert scenario.clock.now.date().isoformat() < deadline
    note = await _note_about(scenario, "two reminders")  # the draft stage leaves it after the state changes
    assert "[Needs attention] C-1" in str(note["Subject"])
    assert "supplier has not answered" in case.facts.escalations[-1]
    assert len(scenario.sent(SUPPLIER)) == 3


@ONLY_17TRACK
async def test_d_auto_responder_customer_gets_one_message(scenario: Scenario, fakes: FakeCarriers) -> None:
    kit = await _kit_sent(scenario, fakes)
    for _ in range(3):
        scenario.deliver(CUSTOMER, "", "I am out of the office until Monday and will reply when I am back.",
                         answering=kit, headers={"Auto-Submitted": "auto-replied"})
    await scenario.advance(1)
    scenario.deliver("Mailer-Daemon <postmaster@people.example>", "Out of office", "Automatic reply: away",
                     headers={"Auto-Submitted": "auto-generated", "Precedence": "bulk"})
    await scenario.settled(inbound=5)
    assert len(scenario.sent(JAMIE)) == 1


async def test_e_two_cases_of_one_customer_stay_apart(scenario: Scenario, fakes: FakeCarriers) -> None:
    second = "RR123456785US"
    fakes.add(Parcel(ORIGIN, destination="US", last_mile=IMPB)).add(Parcel(second, destination="US"))
    fakes.usps_knows_s10 = True
    scenario.deliver(CUSTOMER, "Order #1043 delivered but not received", COMPLAINT)
    first_kit = await scenario.wait_sent(JAMIE, 1, "the first kit")
    scenario.deliver(CUSTOMER, "Order #2077 tracking says delivered but not here",
                     f"Hi, second order #2077 with tracking {second} says delivered but I never got it.")
    second_kit = await scenario.wait_sent(JAMIE, 2, "the second kit")
    assert "[#C-1-" in str(first_kit["Subject"]) and "[#C-2-" in str(second_kit["Subject"])
    assert second in text_of(second_kit) and IMPB in text_of(first_kit)
    await scenario.wait_state(2, "awaiting_customer")
    scenario.deliver(CUSTOMER, "", "Good news, the parcel arrived today, I got it. Thank you!", answering=first_kit)
    await scenario.wait_state(1, "solved")
    await scenario.settled(inbound=3)
    assert scenario.case(2).state == "awaiting_customer"
    assert scenario.case(1).order_numbers == ["1043"] and scenario.case(2).order_numbers == ["2077"]


async def test_bounce_of_our_mail_is_recorded_and_escalated(scenario: Scenario, fakes: FakeCarriers) -> None:
    kit = await _kit_sent(scenario, fakes)
    await scenario.wait_state(1, "awaiting_customer")
    dsn = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.people.example>\r\nTo: support@store.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce-1@mx.people.example>\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered: mailbox full.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.people.example\r\n\r\n"
        "Final-Recipient: rfc822; jamie@example.org\r\nAction: failed\r\nStatus: 5.2.2\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: support@store.example\r\nTo: jamie@example.org\r\nMessage-ID: {kit['Message-ID']}\r\n"
        "Subject: Your parcel\r\n--b--\r\n"
    )
    scenario.dovecot.deliver(scenario.user, dsn.encode())
    case = await scenario.wait_state(1, "needs_attention")
    assert case.facts.escalations == ["a message we sent bounced"]
    await scenario.settled(inbound=2)
    assert len(scenario.sent(JAMIE)) == 1


async def test_supplier_asks_for_proof_then_reships(scenario: Scenario, fakes: FakeCarriers) -> None:
    kit = await _kit_sent(scenario, fakes)
    await scenario.wait_state(1, "awaiting_customer")
    scenario.deliver(CUSTOMER, "", STILL_NOTHING, answering=kit)
    to_supplier = await scenario.wait_sent(SUPPLIER, 1, "the request to the supplier")
    scenario.deliver(f"Brightleaf <{SUPPLIER}>", "", "Hello, please send us a photo of the mailbox and a statement "
                     "from the post office so we can open a claim.", answering=to_supplier)
    note = await _note_about(scenario, "the supplier asks for proof")
    assert "> Hello, please send us a photo of the mailbox" in text_of(note)
    assert f"Last mile: usps {IMPB}" in text_of(note) and "> I contacted the post office" in text_of(note)
    assert scenario.case(1).state == "awaiting_supplier"
    scenario.deliver(f"Brightleaf <{SUPPLIER}>", "", "Dear friend, we will resend a new package for your client. "
                     "New tracking number LP00799912345678.", answering=to_supplier)
    reship = await scenario.wait_sent(JAMIE, 3, "the new tracking number")
    assert "LP00799912345678" in text_of(reship)
    assert "https://global.cainiao.com/newDetail.htm?mailNoList=LP00799912345678" in text_of(reship)
    await scenario.wait_state(1, "watching_reship")
    await scenario.advance(121)
    followup = await scenario.wait_sent(JAMIE, 4, "the follow-up on the new parcel")
    assert "https://global.cainiao.com/newDetail.htm?mailNoList=LP00799912345678" in text_of(followup)
    assert IMPB not in text_of(followup)


async def _note_about(scenario: Scenario, words: str):  # type: ignore[no-untyped-def]

    def find():  # type: ignore[no-untyped-def]
        return next((m for m in scenario.attention() if words in str(m["Subject"])), None)

    return await until(find, timeout=20, what=f"a note: {words}")


async def _kit_sent(scenario: Scenario, fakes: FakeCarriers):  # type: ignore[no-untyped-def]
    """The common start: a complaint about a parcel USPS can track, answered with the kit."""
    fakes.add(Parcel(ORIGIN, destination="US", last_mile=IMPB))
    fakes.usps_knows_s10 = True
    scenario.deliver(CUSTOMER, "Order #1043 delivered but not received", COMPLAINT)
    return await scenario.wait_sent(JAMIE, 1, "the kit")


async def test_silent_customer_gets_one_follow_up_then_the_case_closes_unresolved(
        scenario: Scenario, fakes: FakeCarriers) -> None:
    await _kit_sent(scenario, fakes)
    await scenario.wait_state(1, "awaiting_customer")
    await scenario.advance(119)
    await scenario.advance(2)
    followup = await scenario.wait_sent(JAMIE, 2, "the follow-up after five days")
    assert "Has it turned up?" in text_of(followup)
    await scenario.advance(24 * 14 + 1)
    case = await scenario.wait_state(1, "unresolved")
    assert case.outcome == "unresolved" and len(scenario.sent(JAMIE)) == 2


async def test_a_message_nobody_can_place_is_moved_to_needs_attention(scenario: Scenario) -> None:
    from imapclient import IMAPClient

    message_id = scenario.deliver("Partner Desk <partners@wholesale.example>", "Wholesale inquiry",
                                  "Hello, we would like to discuss becoming a wholesale partner of your store.")
    moved = await _note_about_id(scenario, message_id)
    assert "wholesale partner" in text_of(moved)
    client = IMAPClient("127.0.0.1", port=scenario.dovecot.port, ssl=False, timeout=10)
    client.login(scenario.user, "secret")
    client.select_folder("INBOX", readonly=True)
    assert client.search("ALL") == []
    client.logout()
    assert scenario.sent() == []


async def _note_about_id(scenario: Scenario, message_id: str):  # type: ignore[no-untyped-def]

    def find():  # type: ignore[no-untyped-def]
        return next((m for m in scenario.attention() if m["Message-ID"] == message_id), None)

    return await until(find, timeout=20, what=f"{message_id} in Needs attention")
