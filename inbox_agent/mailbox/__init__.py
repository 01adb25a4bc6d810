"""Mailbox backends: IMAP (imapclient) for production, Maildir for the embedded setup."""

from inbox_agent.mailbox.base import MailboxBackend, StoredMessage

__all__ = ["MailboxBackend", "StoredMessage"]
