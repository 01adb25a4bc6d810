"""A customer's short answer to the post-office kit, end to end on the real stack (Dovecot,
aiosmtpd, SQLite, fake carriers): read alone it is a guess, read as an answer to the kit we sent
it is "still nothing", so the supplier is asked and the customer told, with no one guessing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from inbox_agent.domain import Intent
from inbox_agent.reading import read_bytes
from inbox_agent.store.tables import InboundMessage
from tests.support.carriers import FakeCarriers, LocalServer, Parcel
from tests.support.scenario import SUPPLIER, Scenario, db_path, text_of

CUSTOMER = "Camille Client <camille@example.org>"
CAMILLE = "camille@example.org"
ORIGIN = "LV123456785CN"
IMPB = "9400111206206406260787"
COMPLAINT = (f"Bonjour, ma commande #1043 est indiquée comme livrée (suivi {ORIGIN}) mais je n'ai rien reçu. "
             "Rien dans ma boîte aux lettres.")
SHORT_ANSWER = "Toujours que dalle."  # "still nothing", in French slang


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
