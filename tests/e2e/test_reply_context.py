"""A customer's short answer to the post-office kit, end to end on the real stack (Dovecot,
aiosmtpd, SQLite, fake carriers): read alone it is a guess, read as an answer to the kit we sent
it is "still nothing", so the supplier is asked and the customer told, with no one guessing; and
an answer an agent teaches is kept with the context it answered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from imapclient import IMAPClient
from sqlalchemy import select

from inbox_agent.config import ReadingConfig
from inbox_agent.domain import Intent
from inbox_agent.extract.context import ReplyContext
from inbox_agent.extract.intent import taught_examples
from inbox_agent.reading import read_bytes
from inbox_agent.store.tables import InboundMessage
from tests.support.carriers import FakeCarriers, LocalServer, Parcel
from tests.support.scenario import SUPPLIER, Scenario, db_path, text_of
from tests.support.wait import until

CUSTOMER = "Camille Client <camille@example.org>"
CAMILLE = "camille@example.org"
ORIGIN = "LV123456785CN"
IMPB = "9400111206206406260787"
COMPLAINT = (f"Bonjour, ma commande #1043 est indiquée comme livrée (suivi {ORIGIN}) mais je n'ai rien reçu. "
             "Rien dans ma boîte aux lettres.")
SHORT_ANSWER = "Toujours pas."  # "still not", read alone it could be anything


@pytest.fixture
def fakes() -> FakeCarriers:
    return FakeCarriers(usps_knows_s10=True)


@pytest.fixture
async def scenario(dovecot, mailuser, smtp_server, carriers: LocalServer, tmp_path: Path,  # type: ignore[no-untyped-def]
                   secrets_env: None) -> AsyncIterator[Scenario]:
    scene = Scenario(dovecot, mailuser, smtp_server, carriers, db_path(tmp_path))
    await scene.start()
    yield scene
    await scene.stop()


async def test_a_short_answer_to_the_kit_is_read_in_the_case_context(scenario: Scenario, fakes: FakeCarriers) -> None:
    fakes.add(Parcel(ORIGIN, destination="US", last_mile=IMPB))
    scenario.deliver(CUSTOMER, "Commande #1043 livrée mais pas reçue", COMPLAINT)
    kit = await scenario.wait_sent(CAMILLE, 1, "the post-office kit")
    await scenario.wait_state(1, "awaiting_customer")
    answer_id = scenario.deliver(CUSTOMER, "", SHORT_ANSWER, answering=kit)

    to_supplier = await scenario.wait_sent(SUPPLIER, 1, "the request to the supplier")
    await scenario.wait_sent(CAMILLE, 2, "the customer told the supplier is contacted")
    await scenario.wait_state(1, "awaiting_supplier")
    assert f"> {SHORT_ANSWER}" in text_of(to_supplier)
    assert scenario.attention() == []  # nothing was left to people as a guess

    assert scenario.daemon is not None
    with scenario.daemon.db.transaction() as s:
        answer = s.scalars(select(InboundMessage).where(InboundMessage.message_id == answer_id)).one()
        summary, raw = answer.summary, answer.raw
    assert summary.intent in (Intent.DELIVERED_NOT_RECEIVED, Intent.WHERE_IS_MY_ORDER) and summary.intent_confident
    assert "model: read as an answer to our last message (kit_sent)" in summary.intent_why
    _, alone = read_bytes(raw, scenario.config)  # the same message read without its case (`inbox-agent parse`)
    assert alone is not None
    assert not alone.intent_confident or alone.intent is Intent.OTHER


async def test_an_answer_an_agent_teaches_is_kept_with_its_context(scenario: Scenario, fakes: FakeCarriers,
                                                                    tmp_path: Path) -> None:
    fakes.add(Parcel(ORIGIN, destination="US", last_mile=IMPB))
    scenario.deliver(CUSTOMER, "Commande #1043 livrée mais pas reçue", COMPLAINT)
    kit = await scenario.wait_sent(CAMILLE, 1, "the post-office kit")
    await scenario.wait_state(1, "awaiting_customer")
    # a threshold no reading reaches: the answer is left to people, whatever the model says
    scenario.reading = ReadingConfig(min_confidence=0.999, examples=str(tmp_path / "taught"))
    await scenario.restart()
    answer_id = scenario.deliver(CUSTOMER, "", SHORT_ANSWER, answering=kit)
    note = await until(lambda: next((m for m in scenario.attention() if m["Message-ID"] == answer_id), None),
                       timeout=20, what="the unsure answer in Needs attention")
    assert "read as an answer to our last message (kit_sent)" in str(note["X-Inbox-Agent-Reason"])

    client = IMAPClient("127.0.0.1", port=scenario.dovecot.port, ssl=False, timeout=10)
    client.login(scenario.user, "secret")
    client.select_folder("Needs attention")
    client.move(client.search(["HEADER", "Message-ID", answer_id]), "Teach/delivered_not_received")
    client.logout()

    await scenario.wait_sent(SUPPLIER, 1, "the request to the supplier after the agent taught the intent")
    taught = await until(lambda: taught_examples(scenario.reading), timeout=20, what="the taught example")
    assert [(e.text.strip(), e.intent, e.state) for e in taught] == [
        (SHORT_ANSWER, Intent.DELIVERED_NOT_RECEIVED, ReplyContext.KIT_SENT)]
