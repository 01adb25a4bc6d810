"""Complaints that give an order number, or no number at all, on the real stack: Dovecot, aiosmtpd,
the fake carriers on a loopback port, SQLite and PostgreSQL, and the store's orders in a CSV file.

(a) an order-only complaint reaches the kit
(b) a complaint without any number, from a customer with one order, reaches the kit
(c) with two orders, the customer is asked which one (and the answer reaches the kit)
(d) a stranger naming another customer's order learns nothing of it
(e) an order not shipped yet gets the not-shipped answer, never the delivered-not-received branch
(f) the supplier request names the supplier's own order number beside ours
(g) the same order-only complaint with the orders in Shopify (its fake on a loopback port)
(h) a complaint with a tracking number and an order number keeps what the order knows
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from inbox_agent.config import OrdersConfig, ShopifyOrders
from inbox_agent.orders import model as order_model
from tests.support.carriers import FakeCarriers, LocalServer, Parcel
from tests.support.commerce import SHOPIFY_TOKEN, FakeShopify, shopify_node
from tests.support.scenario import Scenario, db_path, text_of
from tests.support.wait import until

JAMIE, PAT, UNA, STRANGER = "jamie@example.org", "pat@example.org", "una@example.org", "nosy@example.net"
LEAFWORKS = "sales@leafworks.example"
ORIGIN, PAT_FIRST, PAT_SECOND = "LV123456785CN", "LV223456788CN", "LV323456785CN"
IMPB = "9400111206206406260787"
ALI_ORDER = "8123456789012345"
ORDERS_CSV = f"""order,email,name,country,tracking_number,carrier,supplier,supplier_order,created_at
#1043,{JAMIE},Jamie Customer,US,{ORIGIN},,{LEAFWORKS},{ALI_ORDER},2026-07-01
2001,{PAT},Pat Doe,US,{PAT_FIRST},,,,2026-07-02
2002,{PAT},Pat Doe,US,{PAT_SECOND},,,,2026-07-05
1999,{PAT},Pat Doe,US,LV423456781CN,,,,2025-01-05
3001,{UNA},Una Early,FR,,,,,2026-07-10
"""
NOT_RECEIVED = "Hello, my order shows as delivered but I never received it. Nothing in my mailbox."


@pytest.fixture
def fakes() -> FakeCarriers:
    fakes = FakeCarriers(usps_knows_s10=True)
    for number in (ORIGIN, PAT_FIRST, PAT_SECOND):
        fakes.add(Parcel(number, destination="US", last_mile=IMPB))
    return fakes


@pytest.fixture
async def scenario(dovecot, mailuser, smtp_server, carriers: LocalServer, tmp_path: Path,  # type: ignore[no-untyped-def]
                   database_url: str, secrets_env: None) -> AsyncIterator[Scenario]:
    orders = tmp_path / "orders.csv"
    orders.write_text(ORDERS_CSV, encoding="utf-8")
    scene = Scenario(dovecot, mailuser, smtp_server, carriers, database_url, orders=OrdersConfig(csv=str(orders)))
    await scene.start()
    yield scene
    await scene.stop()


async def _kit(scenario: Scenario, to: str) -> str:
    kit = await scenario.wait_sent(to, 1, "the post-office kit")
    body = text_of(kit)
    assert f"tLabels={IMPB}" in body
    await scenario.wait_state(1, "awaiting_customer")
    return body


async def test_a_order_only_complaint_reaches_the_kit(scenario: Scenario) -> None:
    scenario.deliver(f"Jamie Customer <{JAMIE}>", "Order #1043 never arrived",
                     "Order #1043 never arrived. The tracking says delivered, nothing in my mailbox.")
    await _kit(scenario, JAMIE)
    case = scenario.case(1)
    assert case.tracking_numbers == [order_model.Parcel(number=ORIGIN, carrier="china_post")]
    assert case.order_numbers[0] == "1043" and case.facts.order is not None and case.facts.order.country == "US"


async def test_b_no_number_one_order_reaches_the_kit(scenario: Scenario) -> None:
    scenario.deliver(f"Jamie Customer <{JAMIE}>", "Parcel never came", NOT_RECEIVED)
    await _kit(scenario, JAMIE)
    assert scenario.case(1).order_numbers == ["1043"]


async def test_c_two_orders_get_which_one_then_the_answer_reaches_the_kit(scenario: Scenario) -> None:
    scenario.deliver(f"Pat Doe <{PAT}>", "Parcel never came", NOT_RECEIVED)
    question = await scenario.wait_sent(PAT, 1, "the which-one question")
    body = text_of(question)
    assert "order 2001 of July 2, 2026" in body and "order 2002 of July 5, 2026" in body
    assert "1999" not in body and PAT_FIRST not in body
    await scenario.wait_state(1, "awaiting_tracking_info")
    scenario.deliver(f"Pat Doe <{PAT}>", "", "It is order #2002.", answering=question)
    kit = await scenario.wait_sent(PAT, 2, "the kit for the order chosen")
    assert f"tLabels={IMPB}" in text_of(kit)
    assert scenario.case(1).tracking_numbers == [order_model.Parcel(number=PAT_SECOND, carrier="china_post")]


async def test_d_a_stranger_naming_anothers_order_learns_nothing(scenario: Scenario) -> None:
    scenario.deliver(f"Nosy Parker <{STRANGER}>", "Order #1043 never arrived",
                     "Order #1043 never arrived. The tracking says delivered, nothing in my mailbox.")
    answer = await scenario.wait_sent(STRANGER, 1, "the answer to the stranger")
    case = await scenario.wait_state(1, "awaiting_tracking_info")
    body = text_of(answer) + str(answer["Subject"])
    assert "Please write to us again from that address" in body
    for secret in (ORIGIN, IMPB, "Jamie", JAMIE, "USPS", "usps", "Leafworks", ALI_ORDER, "tLabels"):
        assert secret not in body
    assert case.facts.order is None and case.tracking_numbers == []
    assert "placed with another address" in case.facts.order_notes[0]
    assert scenario.sent(JAMIE) == [] and scenario.intents("track") == []


async def test_e_unfulfilled_order_gets_the_not_shipped_answer(scenario: Scenario, fakes: FakeCarriers) -> None:
    scenario.deliver(f"Una Early <{UNA}>", "Order 3001 says delivered",
                     "My order #3001 says delivered but I never received it. Nothing in my mailbox.")
    answer = await scenario.wait_sent(UNA, 1, "the not-shipped answer")
    await scenario.wait_state(1, "wismo_answered")
    assert "Your order 3001 of 10 July 2026 has not shipped yet" in text_of(answer)
    # the server has the message before the daemon records it SENT, once the conversation is over
    await until(lambda: scenario.intents() == [("customer_not_shipped", "SENT")], what="the answer recorded SENT")
    assert fakes.requests == []


async def test_f_the_supplier_request_names_the_suppliers_order_number(scenario: Scenario) -> None:
    scenario.deliver(f"Jamie Customer <{JAMIE}>", "Order #1043 never arrived",
                     "Order #1043 never arrived. The tracking says delivered, nothing in my mailbox.")
    kit = await scenario.wait_sent(JAMIE, 1, "the post-office kit")
    await scenario.wait_state(1, "awaiting_customer")
    scenario.deliver(f"Jamie Customer <{JAMIE}>", "", "I asked the post office, still nothing. I have not received "
                     "the parcel.", answering=kit)
    request = await scenario.wait_sent(LEAFWORKS, 1, "the request to the order's supplier")
    assert ALI_ORDER in str(request["Subject"])
    assert f"AliExpress order number: {ALI_ORDER} (our order 1043)" in text_of(request)
    await scenario.advance(48)
    reminder = await scenario.wait_sent(LEAFWORKS, 2, "the reminder to the supplier")
    assert f"{ALI_ORDER} (our order 1043)" in text_of(reminder)


async def test_h_a_complaint_with_tracking_and_order_keeps_what_the_order_knows(scenario: Scenario) -> None:
    scenario.deliver(f"Jamie Customer <{JAMIE}>", "Order #1043 delivered but not received",
                     f"Hello, my order #1043 shows as delivered, tracking number {ORIGIN}, but I never received it. "
                     "Nothing in my mailbox.")
    await _kit(scenario, JAMIE)
    case = scenario.case(1)
    assert case.tracking_numbers == [order_model.Parcel(number=ORIGIN, carrier="china_post")]
    assert case.facts.order is not None and case.facts.order.supplier_order == ALI_ORDER
    assert case.facts.supplier_address == LEAFWORKS


async def test_g_shopify_order_only_complaint_reaches_the_kit(  # type: ignore[no-untyped-def]
        dovecot, mailuser, smtp_server, carriers: LocalServer, tmp_path: Path, secrets_env: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_TOKEN", SHOPIFY_TOKEN)
    shop = FakeShopify([shopify_node("#1051", JAMIE, [ORIGIN], note="AliExpress order 8123456789012345")])
    server = LocalServer(shop)  # type: ignore[arg-type]
    orders = OrdersConfig(shopify=ShopifyOrders(shop="test-shop", access_token_env="SHOP_TOKEN", base_url=server.url))
    scene = Scenario(dovecot, mailuser, smtp_server, carriers, db_path(tmp_path), orders=orders)
    await scene.start()
    try:
        scene.deliver(f"Jamie Customer <{JAMIE}>", "Order #1051 never arrived",
                      "Order #1051 never arrived. The tracking says delivered, nothing in my mailbox.")
        await _kit(scene, JAMIE)
        assert (order := scene.case(1).facts.order) is not None and order.supplier_order == ALI_ORDER
        assert shop.requests and all(r.headers["X-Shopify-Access-Token"] == SHOPIFY_TOKEN for r in shop.requests)
    finally:
        await scene.stop()
        server.close()
