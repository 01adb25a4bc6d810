"""inbox-agent: runs the 'delivered but not received' support case from the mailbox."""

__version__ = "0.1.0"
