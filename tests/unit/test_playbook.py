"""The playbook as a table: (state, event, facts) -> (rule, next state, actions), for every rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inbox_agent.errors import ConfigError
from inbox_agent.playbook import Facts, decide, load_playbook
from inbox_agent.playbook.engine import mermaid

MSG = "message.received"
CUSTOMER = {"role": "customer", "automated": False, "bulk": False, "bounce": False, "has_order": True, "ack": False}
LOOKED_UP = "order.looked_up"
FOUND = {"order": "found", "order_fulfilled": True, "has_tracking": True, "intent": "delivered_not_received"}
DISTRIBUTOR = {**CUSTOMER, "role": "distributor", "thread": "distributor"}
SUPPLIER = {**CUSTOMER, "role": "supplier", "thread": "supplier"}
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
    ("new", MSG, {**CUSTOMER, "intent": "delivered_not_received", "has_tracking": False, "has_order": False},
     "complaint_without_tracking", "awaiting_tracking_info", ["reply customer_ask_order_number"]),
    ("new", MSG, {**CUSTOMER, "intent": "where_is_my_order", "has_tracking": False, "has_order": True},
     "complaint_with_order_only", "awaiting_tracking_info", ["reply customer_ask_tracking_number"]),
    ("new", MSG, {**CUSTOMER, "intent": "delivered_not_received", "has_tracking": False, "has_order": True,
                  "order_source": True}, "look_up_the_order", "looking_up_order", ["lookup_order"]),
    ("new", MSG, {**CUSTOMER, "intent": "delivered_not_received", "has_tracking": False, "order_source": True},
     "look_up_the_order", "looking_up_order", ["lookup_order"]),
    ("awaiting_tracking_info", MSG, {**CUSTOMER, "intent": "other", "has_tracking": False, "order_source": True},
     "look_up_the_order_named", "looking_up_order", ["lookup_order"]),
    ("looking_up_order", LOOKED_UP, {**FOUND, "order": "other_address"}, "order_of_another_address",
     "awaiting_tracking_info", ["reply customer_order_other_address"]),
    ("looking_up_order", LOOKED_UP, {**FOUND, "order": "not_found", "has_tracking": False}, "order_not_found",
     "awaiting_tracking_info",
     ["reply customer_order_not_found"]),
    ("looking_up_order", LOOKED_UP, {**FOUND, "order": "several"}, "order_which_one", "awaiting_tracking_info",
     ["reply customer_which_order"]),
    ("looking_up_order", LOOKED_UP, {**FOUND, "order": "none"}, "order_none_for_sender", "awaiting_tracking_info",
     ["reply customer_ask_order_number"]),
    ("looking_up_order", LOOKED_UP, {**FOUND, "order": "unavailable", "has_tracking": False},
     "order_source_unavailable", "needs_attention",
     ["escalate"]),
    ("new", MSG, {**CUSTOMER, "intent": "where_is_my_order", "has_tracking": True, "order_source": True},
     "look_up_the_order_with_tracking", "looking_up_order", ["lookup_order"]),
    ("looking_up_order", LOOKED_UP, {**FOUND, "order_fulfilled": False, "has_tracking": False}, "order_not_shipped",
     "wismo_answered", ["reply customer_not_shipped", "timer customer_close"]),
    ("looking_up_order", LOOKED_UP, {**FOUND, "order_fulfilled": False}, "order_complaint_tracked", "tracking",
     ["cancel all", "track"]),
    ("looking_up_order", LOOKED_UP, {**FOUND, "order": "not_found"}, "order_complaint_tracked", "tracking",
     ["cancel all", "track"]),
    ("looking_up_order", LOOKED_UP, {**FOUND, "order": "unavailable", "intent": "where_is_my_order"},
     "order_wismo_tracked", "wismo_tracking", ["track"]),
    ("looking_up_order", LOOKED_UP, {**FOUND, "ack": True}, "order_complaint_acknowledged", "tracking",
     ["cancel all", "reply customer_ack", "track"]),
    ("looking_up_order", LOOKED_UP, FOUND, "order_complaint_tracked", "tracking", ["cancel all", "track"]),
    ("looking_up_order", LOOKED_UP, {**FOUND, "intent": "where_is_my_order"}, "order_wismo_tracked",
     "wismo_tracking", ["track"]),
    ("looking_up_order", LOOKED_UP, {**FOUND, "has_tracking": False}, "order_shipped_without_tracking",
     "needs_attention", ["escalate"]),
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
    ("awaiting_distributor", MSG, {**DISTRIBUTOR, "intent": "last_mile_tracking"},
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
    ("awaiting_supplier", MSG, {**SUPPLIER, "intent": "supplier_refund"}, "supplier_refunded",
     "refunded", ["cancel all", "reply customer_refund_confirmed", "close refunded"]),
    ("awaiting_supplier", MSG, {**SUPPLIER, "intent": "supplier_reship"}, "supplier_reshipped",
     "watching_reship", ["cancel all", "reply customer_reship", "track", "timer customer_followup"]),
    ("awaiting_supplier", MSG, {**SUPPLIER, "intent": "supplier_info_request"},
     "supplier_asks_for_proof", "awaiting_supplier", ["escalate"]),
    ("awaiting_supplier", MSG, {**SUPPLIER, "intent": "supplier_declined"}, "supplier_declined",
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
    # A partner outcome needs the case to await that partner and the message to answer our mail to it.
    ("awaiting_customer", MSG, {**SUPPLIER, "intent": "supplier_refund"}, "message_left_for_people",
     "awaiting_customer", ["attention"]),
    ("awaiting_supplier", MSG, {**SUPPLIER, "thread": "customer", "intent": "supplier_refund"},
     "message_left_for_people", "awaiting_supplier", ["attention"]),
    ("awaiting_supplier", MSG, {**SUPPLIER, "thread": None, "intent": "supplier_declined"},
     "message_left_for_people", "awaiting_supplier", ["attention"]),
    ("awaiting_distributor", MSG, {**DISTRIBUTOR, "thread": None, "intent": "last_mile_tracking"},
     "message_left_for_people", "awaiting_distributor", ["attention"]),
    ("refunded", "reply.rejected", {"template": "customer_refund_confirmed"}, "refund_confirmation_rejected",
     "awaiting_supplier", ["reopen", "timer supplier_reminder", "timer dispute_warning", "escalate"]),
    ("awaiting_customer", "timer.expired", {"timer": "approval_overdue", "count": 1}, "approval_overdue",
     "needs_attention", ["escalate"]),
]


def _actions(decision_actions: tuple[tuple[str, str], ...]) -> list[str]:
    return [f"{kind} {arg}".strip() if kind != "escalate" else kind for kind, arg in decision_actions]


@pytest.mark.parametrize(("state", "event", "facts", "rule", "to", "actions"), TABLE,
                         ids=[f"{row[3]}" for row in TABLE])
def test_rule(state: str, event: str, facts: dict[str, Any], rule: str, to: str, actions: list[str]) -> None:
    decision = decide(load_playbook(), state, event, Facts.model_validate(facts))
    assert (decision.rule, decision.to_state, _actions(decision.actions)) == (rule, to, actions)
    assert decision.why or rule == "ignore_other_events"


def test_the_table_covers_every_rule() -> None:
    assert {rule.name for rule in load_playbook().rules} == {row[3] for row in TABLE}


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
    assert "awaiting_supplier --> refunded: supplier_refunded" in graph
    assert "refunded --> [*]" in graph
