"""decide() is pure: the same (state, event, facts) always give the same decision, the facts are
not changed, and nothing outside is read or touched (no file, socket, process or OS call). Each
can fail: a rule engine that read a file, kept state between calls, iterated a set (hash order
changes between processes) or wrote into the facts would be caught.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from inbox_agent.playbook import Facts, decide, load_playbook

PLAYBOOK = load_playbook()
STATES = list(PLAYBOOK.states)
EVENTS = ["message.received", "tracking.updated", "timer.expired", "reply.sent", "reply.rejected"]


def _values() -> dict[str, list[Any]]:
    """Every value a rule compares a fact with, plus a value no rule names."""
    values: dict[str, list[Any]] = {}
    for rule in PLAYBOOK.rules:
        for key, expected in rule.when.items():
            if key in ("state", "event"):
                continue
            for value in expected if isinstance(expected, list) else [expected]:
                if value not in values.setdefault(key, [None]):
                    values[key].append(value)
    return values


VALUES = _values()
FACTS = st.fixed_dictionaries({key: st.sampled_from(options) for key, options in VALUES.items()})


def _plain(decision: Any) -> list[Any]:
    return [decision.rule, decision.from_state, decision.to_state, [list(a) for a in decision.actions], decision.why]


@settings(max_examples=300, deadline=None)
@given(state=st.sampled_from(STATES), event=st.sampled_from(EVENTS), facts=FACTS)
def test_decide_leaves_its_facts_alone_and_answers_the_same_twice(state: str, event: str, facts: dict[str, Any]) -> None:
    given = Facts.model_validate(facts)
    before = copy.deepcopy(given)
    first = decide(PLAYBOOK, state, event, given)
    assert given == before and given.model_fields_set == before.model_fields_set
    assert decide(load_playbook(), state, event, Facts.model_validate(facts)) == first


SCRIPT = """
import json, sys
from inbox_agent.playbook import Facts, decide, load_playbook
playbook = load_playbook()
cases = json.load(sys.stdin)
def refuse(event, args):
    if event.split(".")[0] in ("open", "socket", "subprocess", "os", "shutil", "sqlite3", "time", "urllib"):
        raise RuntimeError(f"decide() did I/O: {event} {args!r:.200}")
sys.addaudithook(refuse)
out = [[d.rule, d.from_state, d.to_state, [list(a) for a in d.actions], d.why]
       for d in (decide(playbook, state, event, Facts.model_validate(facts)) for state, event, facts in cases)]
sys.stdout.write(json.dumps(out))
"""


def test_decide_does_no_io_and_gives_the_same_answers_in_other_processes() -> None:
    """Run in fresh processes (another hash seed each) with an audit hook that refuses any file,
    socket, process or OS call: the decisions must be those made here."""
    cases = [(state, event, {key: options[(i + j) % len(options)] for j, (key, options) in enumerate(VALUES.items())})
             for i, state in enumerate(STATES) for event in EVENTS]
    expected = [_plain(decide(PLAYBOOK, state, event, Facts.model_validate(facts))) for state, event, facts in cases]
    assert len({json.dumps(e) for e in expected}) > 5  # the cases reach many rules, not one
    for seed in ("1", "2"):
        result = subprocess.run([sys.executable, "-c", SCRIPT], input=json.dumps(cases), capture_output=True, text=True,
                                env={"PYTHONHASHSEED": seed, "PATH": ""}, check=False)
        assert result.returncode == 0, result.stderr[-2000:]
        assert json.loads(result.stdout) == expected
