"""Raw bytes to ParsedEmail: MIME, charsets, HTML to text, quoted history, automated mail."""

from inbox_agent.parse.message import ParsedEmail, parse_email

__all__ = ["ParsedEmail", "parse_email"]
