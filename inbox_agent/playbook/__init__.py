"""The playbook: rules/playbook.yaml loaded and validated, and the pure `decide()`."""

from inbox_agent.playbook.engine import Decision, Playbook, decide, load_playbook
from inbox_agent.playbook.facts import Facts

__all__ = ["Decision", "Facts", "Playbook", "decide", "load_playbook"]
