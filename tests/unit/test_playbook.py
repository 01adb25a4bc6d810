"""The playbook as a table: (state, event, facts) -> (rule, next state, actions), for every rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inbox_agent.errors import ConfigError
from inbox_agent.playbook import decide, load_playbook
from inbox_agent.playbook.engine import mermaid

MSG = "message.received"
CUSTOMER = {"role": "customer", "automated": False, "bulk": False, "bounce": False, "has_order": True, "ack": False}
DELIVERED = {"tracking_delivered": True, "tracking_failed": False, "last_mile_trackable": True}

TABLE: list[tuple[str, str, dict[str, Any], str, str, list[str]]] = [
    ("kit_pending", MSG, {**CUSTOMER, "role": "automated", "automated": True, "bounce": True}, "our_mail_bounced",
     "needs_attention", ["escalate"]),
    ("new", MSG, {**CUSTOMER, "automated": True, "intent": "auto_reply"}, "never_answer_machines", "new", []),
    ("awaiting_customer", MSG, {**CUSTOMER, "bulk": True, "intent": "other"}, "never_answer_bulk",
     "awaiting_customer", []),
    ("solved", MSG, {**CUSTOMER, "intent": "delivered_not_received"}, "message_on_a_closed_case", "solved",
     ["attention"]),
    ("refunded", "timer.expired", {"timer": "supplier_reminder", "count": 1}, "nothing_more_on_a_closed_case",
     "refunded", []),
    ("awaiting_supplier", MSG, {**CUSTOMER, "intent": "received"}, "customer_received_it", "solved",
     ["cancel all", "reply customer_solved", "close solved"]),
    ("new", MSG, {**CUSTOMER, "intent": "delivered_not_received", "has_tracking": True, "ack": True},
     "complaint_acknowledged", "tracking", ["cancel all", "reply customer_ack", "track"]),
    ("new", MSG, {**CUSTOMER, "intent": "delivered_not_received", "has_tracking": True}, "complaint_with_tracking",
     "tracking", ["cancel all", "track"]),
    ("new", MSG, {**CUSTOMER, "intent": "where_is_my_order", "has_tracking": True}, "where_is_my_order",
     "wismo_tracking", ["track"]),
    ("new", MSG, {**CUSTOMER, "intent": "delivered_not_received", "has_tracking": False},
     "complaint_without_tracking", "awaiting_tracking_info", ["reply customer_ask_order_number"]),
    ("wismo_tracking", "tracking.updated", {"tracking_failed": False}, "wismo_answer", "wismo_answered",
     ["reply customer_tracking_status", "timer customer_close"]),
    ("wismo_tracking", "tracking.updated", {"tracking_failed": True}, "wismo_tracking_failed", "needs_attention",
     ["escalate"]),
    ("wismo_answered", "timer.expired", {"timer": "customer_close", "count": 1}, "wismo_quiet_close", "closed",
     ["close answered"]),
    ("tracking", "tracking.updated", DELIVERED, "post_office_can_track", "kit_pending",
     ["reply customer_post_office_kit"]),
    ("tracking", "tracking.updated", {**DELIVERED, "last_mile_trackable": False}, "ask_distributor_for_last_mile",
     "awaiting_distributor", ["reply distributor_last_mile_request", "timer distributor_reminder"]),
    ("tracking", "tracking.updated", {"tracking_delivered": False, "tracking_failed": True},
     "ask_distributor_when_tracking_fails", "awaiting_distributor",
     ["reply distributor_last_mile_request", "timer distributor_reminder"]),
    ("tracking", "tracking.updated", {"tracking_delivered": False, "tracking_failed": False},
     "tracking_not_delivered", "needs_attention", ["escalate"]),
    ("awaiting_distributor", MSG, {**CUSTOMER, "role": "distributor", "intent": "last_mile_tracking"},
     "distributor_sent_last_mile", "tracking_last_mile", ["cancel distributor_reminder", "track"]),
    ("awaiting_distributor", "timer.expired", {"timer": "distributor_reminder", "count": 2}, "distributor_reminder",
     "awaiting_distributor", ["reply distributor_reminder", "timer distributor_reminder"]),
    ("awaiting_distributor", "timer.expired", {"timer": "distributor_reminder", "count": 3}, "distributor_silent",
     "needs_attention", ["escalate"]),
    ("tracking_last_mile", "tracking.updated", {**DELIVERED, "last_mile_trackable": False}, "last_mile_tracked_kit",
     "kit_pending", ["reply customer_post_office_kit"]),
    ("tracking_last_mile", "tracking.updated", {"tracking_failed": True}, "last_mile_untrackable",
     "needs_attention", ["escalate"]),
    ("kit_pending", "reply.sent", {"template": "customer_post_office_kit", "sender_only": True},
     "kit_sent_sender_must_claim", "awaiting_customer", ["timer customer_followup", "escalate"]),
    ("kit_pending", "reply.sent", {"template": "customer_post_office_kit", "sender_only": False}, "kit_sent",
     "awaiting_customer", ["timer customer_followup"]),
    ("kit_pending", "reply.rejected", {"template": "customer_post_office_kit"}, "reply_rejected_by_agent",
     "needs_attention", ["cancel all"]),
    ("awaiting_supplier", "reply.sent", {"template": "customer_supplier_contacted"}, "other_replies_sent",
     "awaiting_supplier", []),
    ("awaiting_customer", "timer.expired", {"timer": "customer_followup", "count": 1}, "customer_followup",
     "awaiting_customer", ["reply customer_followup", "timer customer_close"]),
    ("awaiting_customer", "timer.expired", {"timer": "customer_close", "count": 1}, "customer_silent_close",
     "unresolved", ["close unresolved"]),
    ("awaiting_customer", MSG, {**CUSTOMER, "intent": "delivered_not_received"}, "still_nothing_contact_supplier",
     "awaiting_supplier", ["cancel all", "reply supplier_dnr_request", "reply customer_supplier_contacted",
                           "timer supplier_reminder", "timer dispute_warning"]),
    ("awaiting_supplier", MSG, {**CUSTOMER, "role": "supplier", "intent": "supplier_refund"}, "supplier_refunded",
     "refunded", ["cancel all", "reply customer_refund_confirmed", "close refunded"]),
    ("awaiting_supplier", MSG, {**CUSTOMER, "role": "supplier", "intent": "supplier_reship"}, "supplier_reshipped",
     "watching_reship", ["cancel all", "reply customer_reship", "track", "timer customer_followup"]),
    ("awaiting_supplier", MSG, {**CUSTOMER, "role": "supplier", "intent": "supplier_info_request"},
     "supplier_asks_for_proof", "awaiting_supplier", ["escalate"]),
    ("awaiting_supplier", MSG, {**CUSTOMER, "role": "supplier", "intent": "supplier_declined"}, "supplier_declined",
     "needs_attention", ["escalate"]),
    ("awaiting_supplier", "timer.expired", {"timer": "supplier_reminder", "count": 1}, "supplier_reminder",
     "awaiting_supplier", ["reply supplier_reminder", "timer supplier_reminder"]),
    ("awaiting_supplier", "timer.expired", {"timer": "supplier_reminder", "count": 3}, "supplier_silent",
     "needs_attention", ["escalate"]),
    ("awaiting_supplier", "timer.expired", {"timer": "dispute_warning", "count": 1}, "dispute_window_closing",
     "needs_attention", ["escalate"]),
    ("awaiting_customer", MSG, {**CUSTOMER, "intent": "other"}, "message_left_for_people", "awaiting_customer",
     ["attention"]),
    ("tracking", "timer.expired", {"timer": "customer_close", "count": 1}, "ignore_other_events", "tracking", []),
    ("awaiting_customer", "timer.expired", {"timer": "approval_overdue", "count": 1}, "approval_overdue",
     "needs_attention", ["escalate"]),
]


def _actions(decision_actions: tuple[tuple[str, str], ...]) -> list[str]:
    return [f"{kind} {arg}".strip() if kind != "escalate" else kind for kind, arg in decision_actions]


@pytest.mark.parametrize(("state", "event", "facts", "rule", "to", "actions"), TABLE,
                         ids=[f"{row[3]}" for row in TABLE])
def test_rule(state: str, event: str, facts: dict[str, Any], rule: str, to: str, actions: list[str]) -> None:
    decision = decide(load_playbook(), state, event, facts)
    assert (decision.rule, decision.to_state, _actions(decision.actions)) == (rule, to, actions)
    assert decision.why or rule == "ignore_other_events"


def test_the_table_covers_every_rule() -> None:
    assert {rule.name for rule in load_playbook().rules} == {row[3] for row in TABLE}


def test_decide_is_pure() -> None:
    facts = {**CUSTOMER, "intent": "delivered_not_received", "has_tracking": True}
    assert decide(load_playbook(), "new", MSG, facts) == decide(load_playbook(), "new", MSG, dict(facts))


@pytest.mark.parametrize("bad, words", [
    ("- name: x\n    when: {colour: red}\n    then: {}\n", "unknown condition"),
    ("- name: x\n    when: {}\n    then: {state: nowhere}\n", "not a declared state"),
    ("- name: x\n    when: {}\n    then: {actions: [{reply: customer_poem}]}\n", "no template named"),
    ("- name: x\n    when: {}\n    then: {actions: [{launch: rockets}]}\n", "unknown action"),
])
def test_playbook_is_validated_at_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str, words: str) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "playbook.yaml").write_text(f"states: [new]\nrules:\n  {bad}")
    monkeypatch.setenv("INBOX_AGENT_RULES", str(rules))
    load_playbook.cache_clear()
    try:
        with pytest.raises(ConfigError, match=words):
            load_playbook()
    finally:
        load_playbook.cache_clear()


def test_mermaid_graph_has_every_state_change() -> None:
    graph = mermaid(load_playbook())
    assert graph.startswith("stateDiagram-v2\n")
    assert "tracking --> kit_pending: post_office_can_track / reply customer_post_office_kit" in graph
    assert "any_state --> refunded: supplier_refunded" in graph
    assert "refunded --> [*]" in graph
