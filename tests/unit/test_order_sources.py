"""Contract tests of the order sources against fakes built from the documented payloads
(tests/support/commerce.py): Shopify Admin GraphQL, WooCommerce REST v3 with Shipment Tracking,
and the CSV export; then the lookup rules of OrderBook (own order, other address, recent orders)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from inbox_agent.config import OrderColumns, OrdersConfig, ShopifyOrders, WooCommerceOrders
from inbox_agent.errors import ConfigError
from inbox_agent.orders.book import OrderBook, Outcome, build_order_book
from inbox_agent.orders.shopify import budget_wait, throttle_wait
from inbox_agent.tracking.http import ProviderRefused, ProviderUnavailable
from tests.support.commerce import (
    SHOPIFY_TOKEN,
    THROTTLED,
    WOO_KEY,
    WOO_SECRET,
    FakeShopify,
    FakeWooCommerce,
    cost,
    shopify_node,
    tracking_item,
    woo_order,
)

NOW = datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
ALICE = "alice@example.com"
S10, S10_B = "LV123456785CN", "LV223456788CN"
FAST = {"backoff_seconds": 0, "max_wait_seconds": 0, "rate_per_second": None}


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SHOPIFY_TOKEN", SHOPIFY_TOKEN)
    monkeypatch.setenv("WC_KEY", WOO_KEY)
    monkeypatch.setenv("WC_SECRET", WOO_SECRET)
    yield


def shopify_book(fake: FakeShopify, token_env: str = "SHOPIFY_TOKEN") -> OrderBook:
    config = OrdersConfig(shopify=ShopifyOrders(shop="test-shop", access_token_env=token_env), **FAST)  # type: ignore[arg-type]
    book = build_order_book(config, httpx.MockTransport(fake.handle))
    assert book is not None
    return book


def woo_book(fake: FakeWooCommerce, meta: str = "") -> OrderBook:
    config = OrdersConfig(woocommerce=WooCommerceOrders(url="https://shop.example", consumer_key_env="WC_KEY",
                                                        consumer_secret_env="WC_SECRET", supplier_order_meta=meta),
                          **FAST)  # type: ignore[arg-type]
    book = build_order_book(config, httpx.MockTransport(fake.handle))
    assert book is not None
    return book


# Shopify

def test_shopify_order_by_name_with_its_parcels_and_supplier_order() -> None:
    fake = FakeShopify([shopify_node("#1051", ALICE, [S10], note="AliExpress order 8123456789012345")])
    found = shopify_book(fake).find(["1051"], "Alice@Example.com", NOW)
    assert found.outcome == Outcome.FOUND and found.order is not None
    order = found.order
    assert (order.number, order.email, order.customer_name, order.country) == ("1051", ALICE, "Alice Doe", "DE")
    assert order.fulfilled and [(p.number, p.carrier, p.company) for p in order.parcels] == [(S10, "china_post",
                                                                                              "China Post")]
    assert order.supplier_order == "8123456789012345" and order.items[0].quantity == 2
    request = fake.requests[0]
    assert request.url == "https://test-shop.myshopify.com/admin/api/2025-07/graphql.json"
    assert request.headers["X-Shopify-Access-Token"] == SHOPIFY_TOKEN
    assert b'"q":"name:#1051"' in request.content.replace(b" ", b"")


def test_shopify_order_of_another_address_is_not_handed_over() -> None:
    fake = FakeShopify([shopify_node("#1051", ALICE, [S10])])
    found = shopify_book(fake).find(["#1051"], "mallory@example.net", NOW)
    assert found.outcome == Outcome.OTHER_ADDRESS and found.order is None and found.choices == ()


def test_the_senders_own_order_is_found_behind_a_number_of_another_address() -> None:
    """A message may name a number that is someone else's order before the sender's own (a range's
    first end, a reference quoted from elsewhere): the sender's own order is the one looked up, and
    "placed with another address" is the answer only when none of the numbers is theirs."""
    fake = FakeShopify([shopify_node("#1050", "someone@example.org", [S10]), shopify_node("#1051", ALICE, [S10])])
    found = shopify_book(fake).find(["1050", "1051"], ALICE, NOW)
    assert found.outcome == Outcome.FOUND and found.order is not None and found.order.number == "1051"
    other = shopify_book(fake).find(["1050", "1049"], ALICE, NOW)
    assert other.outcome == Outcome.OTHER_ADDRESS and other.order is None and other.written == ("1050",)


def test_shopify_by_email_follows_page_info_and_keeps_recent_fulfilled_orders() -> None:
    orders = [shopify_node(f"#{1000 + i}", ALICE, [], status="UNFULFILLED", created=f"2026-07-0{i + 1}T10:00:00Z")
              for i in range(3)]
    orders.append(shopify_node("#1100", ALICE, [S10_B], created="2026-07-05T10:00:00Z"))
    orders.append(shopify_node("#0900", ALICE, [S10], created="2025-01-05T10:00:00Z"))
    fake = FakeShopify(orders, page_size=2)
    found = shopify_book(fake).find([], ALICE, NOW)
    assert len(fake.requests) == 3
    assert found.outcome == Outcome.FOUND and found.order is not None and found.order.number == "1100"


def test_shopify_unfulfilled_order_is_found_unfulfilled() -> None:
    fake = FakeShopify([shopify_node("#1051", ALICE, [], status="UNFULFILLED")])
    found = shopify_book(fake).find(["1051"], ALICE, NOW)
    assert found.order is not None and not found.order.fulfilled and found.order.parcels == ()


def test_shopify_throttled_waits_what_throttle_status_says_then_asks_again() -> None:
    fake = FakeShopify([shopify_node("#1051", ALICE, [S10])])
    fake.script.append(lambda r: httpx.Response(200, json=THROTTLED))
    assert throttle_wait(httpx.Response(200, json=THROTTLED)) == pytest.approx((752 - 666) / 50.0)
    assert throttle_wait(httpx.Response(200, json={"data": {}, "extensions": cost()})) is None
    found = shopify_book(fake).find(["1051"], ALICE, NOW)
    assert found.outcome == Outcome.FOUND and len(fake.requests) == 2


def test_shopify_next_query_waits_until_the_bucket_holds_what_the_last_one_cost() -> None:
    assert budget_wait({"data": {}, "extensions": cost(actual=12, available=1988)}) == 0.0
    assert budget_wait({"data": {}, "extensions": cost(actual=150, available=50, rate=50.0)}) == pytest.approx(2.0)
    assert budget_wait({"data": {}}) == 0.0


def test_shopify_429_with_retry_after_is_retried() -> None:
    fake = FakeShopify([shopify_node("#1051", ALICE, [S10])])
    fake.script.append(lambda r: httpx.Response(429, headers={"Retry-After": "0"}, json=THROTTLED))
    assert shopify_book(fake).find(["1051"], ALICE, NOW).outcome == Outcome.FOUND


def test_shopify_still_throttled_is_retry_later_never_not_found() -> None:
    fake = FakeShopify([shopify_node("#1051", ALICE, [S10])])
    fake.script.extend([lambda r: httpx.Response(200, json=THROTTLED)] * 4)
    with pytest.raises(ProviderUnavailable, match="throttled"):
        shopify_book(fake).find(["1051"], ALICE, NOW)


def test_shopify_graphql_errors_are_retry_later_with_the_message() -> None:
    fake = FakeShopify()
    fake.script.append(lambda r: httpx.Response(200, json={
        "errors": [{"message": "Field 'nope' doesn't exist on type 'Order'", "locations": [{"line": 3, "column": 5}],
                    "extensions": {"code": "undefinedField", "typeName": "Order"}}]}))
    with pytest.raises(ProviderUnavailable, match="doesn't exist"):
        shopify_book(fake).find(["1051"], ALICE, NOW)


def test_shopify_401_is_a_refused_credential_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WRONG_TOKEN", "shpat_wrong")
    with pytest.raises(ProviderRefused) as refused:
        shopify_book(FakeShopify(), "WRONG_TOKEN").probe()
    assert "HTTP 401" in str(refused.value) and "\n" not in str(refused.value) and "shpat_wrong" not in str(refused.value)


def test_shopify_probe_reads_the_shop() -> None:
    assert "Test Shop" in shopify_book(FakeShopify()).probe()


def test_shopify_missing_token_variable_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPIFY_TOKEN")
    with pytest.raises(ConfigError, match="orders.shopify.access_token_env"):
        shopify_book(FakeShopify())


# WooCommerce

def test_woocommerce_order_by_number_with_shipment_tracking_items() -> None:
    fake = FakeWooCommerce([woo_order(727, "727", ALICE, meta=[{"id": 1, "key": "_ali_order", "value": "8123"}])],
                           tracking={727: [tracking_item(S10)]})
    found = woo_book(fake, meta="_ali_order").find(["727"], ALICE, NOW)
    assert found.outcome == Outcome.FOUND and found.order is not None
    order = found.order
    assert (order.number, order.customer_name, order.country, order.supplier_order) == ("727", "John Doe", "FR", "8123")
    assert [(p.number, p.carrier) for p in order.parcels] == [(S10, "china_post")]
    assert order.created_at == datetime(2026, 7, 1, 11, 0, tzinfo=UTC)
    assert fake.requests[0].url.params["search"] == "727"


def test_woocommerce_without_the_tracking_extension_reads_the_order_meta() -> None:
    meta = [{"id": 9001, "key": "_wc_shipment_tracking_items", "value": [
        {"tracking_provider": "china-post", "custom_tracking_provider": "", "custom_tracking_link": "",
         "tracking_number": S10, "date_shipped": "1746057600", "tracking_id": "7f49"}]}]
    fake = FakeWooCommerce([woo_order(727, "727", ALICE, meta=meta), woo_order(728, "728", ALICE, meta=meta)],
                           tracking=None)
    book = woo_book(fake)
    for number in ("727", "728"):
        found = book.find([number], ALICE, NOW)
        assert found.order is not None and [p.number for p in found.order.parcels] == [S10]
    assert len([r for r in fake.requests if "shipment-trackings" in r.url.path]) == 1


def test_woocommerce_by_email_follows_x_wp_totalpages() -> None:
    orders = [woo_order(700 + i, str(700 + i), ALICE, status="processing") for i in range(25)]
    found = woo_book(FakeWooCommerce(orders)).find([], ALICE, NOW)
    assert found.outcome == Outcome.SEVERAL and len(found.choices) == 5


def test_woocommerce_unknown_number_falls_back_to_the_id_then_is_not_found() -> None:
    fake = FakeWooCommerce([woo_order(727, "A-727", ALICE)])
    found = woo_book(fake).find(["727"], ALICE, NOW)
    assert found.outcome == Outcome.NOT_FOUND and found.written == ("727",)
    assert [r.url.path for r in fake.requests][-1] == "/wp-json/wc/v3/orders/727"


def test_woocommerce_401_and_500_are_refused_and_retry_later() -> None:
    fake = FakeWooCommerce()
    fake.script.append(lambda r: httpx.Response(401, json={"code": "woocommerce_rest_authentication_error",
                                                           "message": "Invalid signature", "data": {"status": 401}}))
    with pytest.raises(ProviderRefused, match="consumer_key_env"):
        woo_book(fake).find(["727"], ALICE, NOW)
    fake.script.extend([lambda r: httpx.Response(500, json={"code": "internal_server_error", "message": "x",
                                                            "data": {"status": 500}})] * 4)
    with pytest.raises(ProviderUnavailable, match="HTTP 500"):
        woo_book(fake).find(["727"], ALICE, NOW)


# CSV

def test_csv_rows_of_one_order_are_its_parcels_and_columns_can_be_renamed(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Name,Email,Shipping Country,Tracking Number\n#1051,Alice@Example.com,de,"
                    f"{S10}\n#1051,alice@example.com,de,{S10_B}\n#1052,bob@example.com,FR,\n", encoding="utf-8")
    columns = OrderColumns(order="Name", email="Email", country="Shipping Country", tracking_number="Tracking Number")
    book = build_order_book(OrdersConfig(csv=str(path), columns=columns))
    assert book is not None
    order = book.find(["1051"], ALICE, NOW).order
    assert order is not None and [p.number for p in order.parcels] == [S10, S10_B] and order.country == "DE"
    unshipped = book.show("1052")[0]
    assert not unshipped.fulfilled and unshipped.created_at is None


def test_csv_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(f"order,email,tracking_number\n1051,{ALICE},\n", encoding="utf-8")
    book = build_order_book(OrdersConfig(csv=str(path)))
    assert book is not None and not book.show("1051")[0].fulfilled
    path.write_text(f"order,email,tracking_number\n1051,{ALICE},{S10}\n", encoding="utf-8")
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    assert book.show("1051")[0].fulfilled


def test_csv_without_the_email_column_names_it(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("order,mail\n1051,a@example.com\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="orders.columns.email"):
        build_order_book(OrdersConfig(csv=str(path)))


def test_exactly_one_source_is_configured() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        OrdersConfig()


def test_csv_carrier_code_is_kept_only_when_the_vocabulary_has_it(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(f"order,email,tracking_number,carrier\n1,{ALICE},{S10},usps\n2,{ALICE},{S10_B},Speedy Parcels\n"
                    f"3,{ALICE},NOT-A-KNOWN-FORMAT,\n", encoding="utf-8")
    book = build_order_book(OrdersConfig(csv=str(path)))
    assert book is not None
    carriers = [book.show(n)[0].parcels[0].carrier for n in ("1", "2", "3")]
    assert carriers == ["usps", "china_post", "unknown"]


def test_shopify_nulls_and_missing_fields_are_tolerated() -> None:
    node = {"name": "#1051", "email": ALICE, "createdAt": None, "displayFulfillmentStatus": None, "tags": None,
            "note": None, "customer": None, "shippingAddress": None, "fulfillments": None, "lineItems": None}
    order = shopify_book(FakeShopify([node])).find(["1051"], ALICE, NOW).order
    assert order is not None and (order.customer_name, order.country, order.parcels, order.fulfilled) == ("", "", (),
                                                                                                        False)


def test_shopify_answer_of_the_wrong_shape_is_retry_later() -> None:
    fake = FakeShopify()
    fake.script.append(lambda r: httpx.Response(200, json={"data": {"orders": None}}))
    with pytest.raises(ProviderUnavailable, match="unexpected shape"):
        shopify_book(fake).find(["1051"], ALICE, NOW)


def test_woocommerce_nulls_are_tolerated() -> None:
    raw = {**woo_order(727, "727", ALICE), "shipping": None, "line_items": None, "meta_data": None,
           "date_created_gmt": None, "date_created": "not a date"}
    order = woo_book(FakeWooCommerce([raw], tracking={727: [{"tracking_number": None}, "junk"]})).show("727")[0]
    assert (order.customer_name, order.country, order.items, order.parcels, order.created_at) == (
        "John Doe", "FR", (), (), None)
