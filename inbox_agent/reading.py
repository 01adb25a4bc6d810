"""One message read end to end (parse, then extract), as a record of the parse contract.

Shared by `inbox-agent parse` and the daemon's ingest stage, so both read mail identically.
Bad input becomes `{"error": ...}`; nothing raises.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inbox_agent.config import Config
from inbox_agent.extract import Extraction, extract
from inbox_agent.parse import ParsedEmail, parse_email


def read_bytes(raw: bytes, config: Config, explain: bool = False) -> tuple[ParsedEmail, Extraction | None]:
    """Parse and extract; the extraction is None when the message could not be parsed."""
    parsed = parse_email(raw)
    if parsed.error:
        return parsed, None
    return parsed, extract(parsed, config.parties, tuple(config.store.languages), config.reading, explain,
                           config.store.order_prefix)


def read_file(path: Path, config: Config, explain: bool = False) -> dict[str, Any]:
    """The parse-contract record of one file (without its `file` key)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        return {"error": f"cannot read {path}: {e.strerror or e}"}
    parsed, extraction = read_bytes(raw, config, explain)
    if extraction is None:
        return {"message_id": parsed.message_id, "error": parsed.error}
    record: dict[str, Any] = {"message_id": parsed.message_id, **extraction.contract()}
    if explain:
        record["why"] = extraction.why
    return record
