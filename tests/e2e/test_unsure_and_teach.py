"""An intent the reader is unsure of, end to end on the real stack (Dovecot, aiosmtpd, SQLite):
the message waits in "Needs attention" with the reader's two best guesses and nothing is sent;
an agent moves it into Teach/<intent>, the daemon handles it as that intent and keeps it as a
training example of the store, which the next `learn` reads."""

from __future__ import annotations

import email.policy
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from imapclient import IMAPClient

from inbox_agent.config import ReadingConfig
from inbox_agent.domain import Intent
from inbox_agent.extract.intent import taught_examples
from inbox_agent.mailbox.base import SEEN_KEYWORD
from tests.support.carriers import FakeCarriers, LocalServer, Parcel
from tests.support.scenario import Scenario, db_path
from tests.support.wait import until

CUSTOMER = "Robin Customer <robin@example.org>"
ROBIN = "robin@example.org"
ORIGIN = "LV123456785CN"
IMPB = "9400111206206406260787"
VAGUE = f"Hi, about my order #1043, tracking {ORIGIN}. Could somebody look at it? Robin"


@pytest.fixture
async def scenario(dovecot, mailuser, smtp_server, carriers: LocalServer, tmp_path: Path,  # type: ignore[no-untyped-def]
                   secrets_env: None) -> AsyncIterator[Scenario]:
    scene = Scenario(dovecot, mailuser, smtp_server, carriers, db_path(tmp_path))
    # a threshold no reading of a vague message reaches: this message is a guess, whatever the model
    scene.reading = ReadingConfig(min_confidence=0.999, examples=str(tmp_path / "taught"))
    await scene.start()
    yield scene
    await scene.stop()


async def test_an_unsure_message_waits_for_people_until_an_agent_teaches_its_intent(
        scenario: Scenario, fakes: FakeCarriers) -> None:
    fakes.add(Parcel(ORIGIN, destination="US", last_mile=IMPB))
    message_id = scenario.deliver(CUSTOMER, "my order", VAGUE)

    def noted():  # type: ignore[no-untyped-def]
        return next((m for m in scenario.attention() if m["Message-ID"] == message_id), None)

    note = await until(noted, timeout=20, what="the unsure message in Needs attention")
    reason = str(note["X-Inbox-Agent-Reason"])
    guesses = re.search(r"best guesses (\w+) (0\.\d\d|1\.00), (\w+) (0\.\d\d)", reason)
    assert guesses is not None, reason
    assert {guesses.group(1), guesses.group(3)} <= {i.value for i in Intent} and "why:" in reason
    assert scenario.intents("reply") == [] and scenario.intents("track") == []
    assert scenario.sent() == []
    assert taught_examples(scenario.reading) == []

    client = IMAPClient("127.0.0.1", port=scenario.dovecot.port, ssl=False, timeout=10)
    client.login(scenario.user, "secret")
    client.select_folder("Needs attention")
    client.move(client.search(["HEADER", "Message-ID", message_id]), "Teach/delivered_not_received")
    client.logout()

    kit = await scenario.wait_sent(ROBIN, 1, "the post-office kit after the agent taught the intent")
    assert IMPB in str(kit.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    case = await scenario.wait_state(1, "awaiting_customer")
    assert case.customer == ROBIN and "1043" in case.order_numbers
    taught = taught_examples(scenario.reading)
    assert [(e.intent, e.role.value) for e in taught] == [(Intent.DELIVERED_NOT_RECEIVED, "customer")]
    assert "Could somebody look at it" in taught[0].text and taught[0].taught




def _flags(scenario: Scenario, folder: str) -> list[tuple[bytes, ...]]:
    """The flags of every message in `folder`."""
    client = IMAPClient("127.0.0.1", port=scenario.dovecot.port, ssl=False, timeout=10)
    try:
        client.login(scenario.user, "secret")
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        return [tuple(flags) for flags in client.get_flags(uids).values()] if uids else []
    finally:
        client.logout()


async def test_a_copy_the_sender_files_into_teach_himself_teaches_nothing(scenario: Scenario) -> None:
    """The sender's own message, delivered again straight into Teach/<intent> (a server that files
    "support+Teach/received@" there, or a Sieve rule), with or without a made-up note header: only
    an agent's move of our note from "Needs attention" teaches, so nothing is kept or sent."""
    message_id = scenario.deliver(CUSTOMER, "my order", VAGUE)
    note = await until(lambda: next((m for m in scenario.attention() if m["Message-ID"] == message_id), None),
                       timeout=20, what="the unsure message in Needs attention")
    del note["X-Inbox-Agent-Note"], note["X-Inbox-Agent-Reason"]  # all the sender cannot know
    sent = note.as_bytes(policy=email.policy.SMTP)
    scenario.dovecot.deliver(scenario.user, sent, folder="Teach/received")
    guessed = b"X-Inbox-Agent-Note: <" + message_id.strip("<>").encode() + b">\r\n" + sent
    scenario.dovecot.deliver(scenario.user, guessed, folder="Teach/delivered_not_received")

    def looked_at() -> bool:
        flags = _flags(scenario, "Teach/received") + _flags(scenario, "Teach/delivered_not_received")
        return len(flags) == 2 and all(SEEN_KEYWORD.encode() in f for f in flags)

    await until(looked_at, timeout=20, what="the teach stage to look at both copies")
    assert taught_examples(scenario.reading) == []
    assert scenario.intents("reply") == [] and scenario.intents("track") == [] and scenario.sent() == []
