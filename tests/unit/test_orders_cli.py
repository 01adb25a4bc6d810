"""`inbox-agent orders show` and the order source in `inbox-agent check`, run as a user would, against
the Shopify fake on a loopback port."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.carriers import LocalServer
from tests.support.commerce import SHOPIFY_TOKEN, FakeShopify, shopify_node

CLI = [sys.executable, "-m", "inbox_agent.cli"]


@pytest.fixture
def shopify() -> Iterator[LocalServer]:
    server = LocalServer(FakeShopify([shopify_node("#1051", "alice@example.com", ["LV123456785CN"])]))  # type: ignore[arg-type]
    yield server
    server.close()


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "store.toml"
    path.write_text(f'[orders.shopify]\nshop = "test-shop"\naccess_token_env = "SHOP_TOKEN"\nbase_url = "{url}"\n'
                    "[orders]\nattempts = 1\n", encoding="utf-8")
    return path


def _run(*args: str, token: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "SHOP_TOKEN": token}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, check=False, env=env)


def test_orders_show_json(shopify: LocalServer, tmp_path: Path) -> None:
    out = _run("orders", "show", "#1051", "--json", "--config", str(_config(tmp_path, shopify.url)), token=SHOPIFY_TOKEN)
    assert out.returncode == 0, out.stderr
    order = json.loads(out.stdout)
    assert order["number"] == "1051" and order["parcels"][0]["carrier"] == "china_post" and order["fulfilled"]


def test_orders_show_unknown_number_exits_1(shopify: LocalServer, tmp_path: Path) -> None:
    out = _run("orders", "show", "2000", "--config", str(_config(tmp_path, shopify.url)), token=SHOPIFY_TOKEN)
    assert out.returncode == 1 and out.stderr.strip() == "no order 2000 in shopify"


def test_check_proves_the_token_and_a_wrong_one_is_one_line(shopify: LocalServer, tmp_path: Path) -> None:
    config = str(_config(tmp_path, shopify.url))
    assert _run("check", "--config", config, token=SHOPIFY_TOKEN).returncode == 0
    wrong = _run("check", "--config", config, token="shpat_wrong")
    assert wrong.returncode == 2
    assert wrong.stderr.strip().splitlines() == [
        "problem: orders: orders.shopify: refused the access token (HTTP 401): check [orders.shopify] "
        "access_token_env and the app's read_orders scope"]


def test_a_source_that_is_down_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    server = LocalServer(FakeShopify())  # type: ignore[arg-type]
    url = server.url
    server.close()
    out = _run("orders", "show", "1051", "--config", str(_config(tmp_path, url)), token=SHOPIFY_TOKEN)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith("inbox-agent: orders.shopify: cannot connect") and len(out.stderr.splitlines()) == 1
