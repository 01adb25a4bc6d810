"""The playbook: rules/playbook.yaml loaded and validated, and the pure `decide()`."""

from inbox_agent.playbook.engine import Decision, Playbook, decide, load_playbook

__all__ = ["Decision", "Playbook", "decide", "load_playbook"]
