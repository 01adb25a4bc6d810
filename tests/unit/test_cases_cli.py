"""`inbox-agent cases list|show|close` and `playbook graph` against a real SQLite database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from inbox_agent.cli import main
from inbox_agent.orders.model import Parcel
from inbox_agent.store.database import Database
from inbox_agent.store.payloads import CaseFacts
from inbox_agent.store.tables import Case, Timer

NOW = datetime(2026, 7, 12, 9, 0, tzinfo=UTC)


def _setup(tmp_path: Path) -> Path:
    url = f"sqlite:///{tmp_path / 'cases.sqlite'}"
    db = Database(url)
    db.create()
    with db.transaction() as s:
        for state, customer in (("awaiting_supplier", "a@example.org"), ("solved", "b@example.org")):
            case = Case(state=state, customer=customer, language="en", subject="s", order_numbers=["1043"],
                        tracking_numbers=[Parcel(number="LV123456785CN", carrier="china_post")], facts=CaseFacts(),
                        opened_at=NOW)
            s.add(case)
            s.flush()
            s.add(Timer(case_id=case.id, name="supplier_reminder", due_at=NOW + timedelta(hours=48), fired=False))
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')
    return config


def test_cases_list_show_close(tmp_path: Path) -> None:
    config = str(_setup(tmp_path))
    runner = CliRunner()
    listed = runner.invoke(main, ["cases", "list", "--json", "--config", config])
    assert listed.exit_code == 0, listed.output
    assert [json.loads(line)["id"] for line in listed.output.splitlines()] == [2, 1]
    only = runner.invoke(main, ["cases", "list", "--json", "--state", "solved", "--config", config])
    assert [json.loads(line)["customer"] for line in only.output.splitlines()] == ["b@example.org"]
    shown = json.loads(runner.invoke(main, ["cases", "show", "1", "--config", config]).output)
    assert shown["state"] == "awaiting_supplier" and shown["timers"][0]["name"] == "supplier_reminder"
    closed = runner.invoke(main, ["cases", "close", "1", "--reason", "customer called", "--config", config])
    assert closed.exit_code == 0 and "closed" in closed.output
    after = json.loads(runner.invoke(main, ["cases", "show", "1", "--config", config]).output)
    assert (after["state"], after["outcome"], after["timers"]) == ("closed", "customer called", [])
    assert any("closed_by_hand" in line for line in after["timeline"])
    missing = runner.invoke(main, ["cases", "close", "9", "--reason", "x", "--config", config])
    assert missing.exit_code == 1


def test_playbook_graph_is_mermaid() -> None:
    result = CliRunner().invoke(main, ["playbook", "graph"])
    assert result.exit_code == 0 and result.output.startswith("stateDiagram-v2")
    assert "awaiting_distributor --> tracking_last_mile: distributor_sent_last_mile" in result.output
