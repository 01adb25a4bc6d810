"""decide(case, event) -> Decision: pure, so a crash can repeat a step with the same result.

Rules are ordered; the first whose conditions all hold fires. The decision records the rule and
why it matched, for the case timeline ("why did it do that?").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from inbox_agent.errors import ConfigError
from inbox_agent.playbook.facts import Facts
from inbox_agent.rules import load_rules_file

CONDITIONS = {"event", "state", *Facts.model_fields}
ACTIONS = {"track", "reply", "close", "attention", "timer", "cancel", "escalate", "lookup_order", "reopen"}
_NEEDS_ARGUMENT = {"reply", "close", "timer", "cancel", "escalate"}


@dataclass(frozen=True)
class Rule:
    name: str
    when: Mapping[str, Any]
    state: str | None
    actions: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Playbook:
    states: tuple[str, ...]
    rules: tuple[Rule, ...]
    final_states: tuple[str, ...] = ()

    def timers(self) -> set[str]:
        """Every timer a rule starts: each needs a duration in the config."""
        return {arg for rule in self.rules for kind, arg in rule.actions if kind == "timer"}


@dataclass(frozen=True)
class Decision:
    rule: str
    from_state: str
    to_state: str
    actions: tuple[tuple[str, str], ...]
    why: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def load_playbook() -> Playbook:
    """Load and validate rules/playbook.yaml; ConfigError names the rule and the key at fault."""
    from inbox_agent.render.templates import TEMPLATES

    data = load_rules_file("playbook.yaml")
    states = tuple(data.get("states") or [])
    finals = tuple(data.get("final_states") or [])
    for final in finals:
        if final not in states:
            raise ConfigError("rules/playbook.yaml", "final_states", f"{final!r} is not a declared state")
    rules = []
    for i, raw in enumerate(data.get("rules") or []):
        where = f"rules[{i}]"
        name = raw.get("name") or where
        when = raw.get("when") or {}
        unknown = set(when) - CONDITIONS
        if unknown:
            raise ConfigError("rules/playbook.yaml", f"{name}.when", f"unknown condition {sorted(unknown)}")
        then = raw.get("then") or {}
        target = then.get("state")
        if target is not None and target not in states:
            raise ConfigError("rules/playbook.yaml", f"{name}.then.state", f"{target!r} is not a declared state")
        for s in when.get("state", []):
            if s not in states:
                raise ConfigError("rules/playbook.yaml", f"{name}.when.state", f"{s!r} is not a declared state")
        actions = tuple(_action(a, name) for a in then.get("actions") or [])
        for kind, arg in actions:
            if kind == "reply" and arg not in TEMPLATES:
                raise ConfigError("rules/playbook.yaml", f"{name}.then.actions", f"no template named {arg!r}")
        rules.append(Rule(name, when, target, actions))
    return Playbook(states, tuple(rules), finals)


def _action(raw: Any, rule: str) -> tuple[str, str]:
    if isinstance(raw, str) and raw in ACTIONS and raw not in _NEEDS_ARGUMENT:
        return raw, ""
    if isinstance(raw, dict) and len(raw) == 1:
        kind, arg = next(iter(raw.items()))
        if kind in ACTIONS and arg not in (None, ""):
            return str(kind), str(arg)
    raise ConfigError("rules/playbook.yaml", f"{rule}.then.actions", f"unknown action {raw!r}")


def decide(playbook: Playbook, state: str, event_kind: str, facts: Facts) -> Decision:
    """The first rule whose conditions hold for (state, event, facts). No I/O, no clock."""
    values: dict[str, object] = {**facts.model_dump(), "event": event_kind, "state": state}
    for rule in playbook.rules:
        why = _matches(rule.when, values)
        if why is not None:
            return Decision(rule.name, state, rule.state or state, rule.actions, why)
    return Decision("none", state, state, (), ["no rule matched"])


def _matches(when: Mapping[str, Any], values: Mapping[str, object]) -> list[str] | None:
    why: list[str] = []
    for key, expected in when.items():
        actual = values.get(key)
        ok = actual in expected if isinstance(expected, list) else actual == expected
        if not ok:
            return None
        why.append(f"{key}={actual}")
    return why


def mermaid(playbook: Playbook) -> str:
    """The playbook as a Mermaid state diagram: one edge per rule that changes the state (rules that
    keep the state show as a self-loop), labelled with the rule's name and its actions."""
    lines = ["stateDiagram-v2", "    [*] --> new"]
    for rule in playbook.rules:
        sources = rule.when.get("state") or ["*any*"]
        for source in sources if isinstance(sources, list) else [sources]:
            target = rule.state or source
            if target == "*any*":
                continue
            actions = ", ".join(f"{k} {a}" if k in ("reply", "timer", "cancel", "close") else k
                                for k, a in rule.actions)
            label = rule.name + (f" / {actions}" if actions else "")
            lines.append(f"    {_node(source)} --> {_node(target)}: {label}")
    lines += [f"    {state} --> [*]" for state in playbook.final_states]
    return "\n".join(lines) + "\n"


def _node(state: str) -> str:
    return "any_state" if state == "*any*" else state
