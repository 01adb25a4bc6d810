"""Error classes named after what the caller must do, not where the error came from.

Third-party exceptions are translated into these once, at the edge that called the library.
"""

from __future__ import annotations


class InboxAgentError(Exception):
    """Base of every error the daemon raises on purpose."""


class ConfigError(InboxAgentError):
    """Stop at start-up: the message names the file, the key and what was expected."""

    def __init__(self, source: str, key: str, expected: str) -> None:
        self.source, self.key, self.expected = source, key, expected
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {expected}")


class TransientError(InboxAgentError):
    """Retry later with backoff: mailbox, carrier or SMTP temporarily unavailable."""


class PermanentError(InboxAgentError):
    """Set the item aside with this reason: retrying cannot help."""


class MissingParty(PermanentError):
    """A message is due to a distributor or supplier whose address nobody gave us: a person writes it."""


class UnsendableAddress(MissingParty):
    """An address we cannot put in an envelope as it is (a non-ASCII local part needs SMTPUTF8,
    which this store's sending path does not use): a person writes that message."""


class SendOutcomeUnknown(InboxAgentError):
    """A message may or may not have left: a person decides, never an automatic resend."""


MAX_ERROR = 500


def short_error(error: BaseException) -> str:
    """An error as one bounded line for logs and rows: its kind and message, never the data it was
    handling (database errors show no parameters: the engine hides them)."""
    return " ".join(f"{type(error).__name__}: {error}".split())[:MAX_ERROR]
