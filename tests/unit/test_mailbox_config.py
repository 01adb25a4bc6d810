"""The mailbox settings of issue "real mailboxes": backfill flags, OAuth2 keys, clear errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from inbox_agent.config import Config, ImapConfig, load_config, with_backfill
from inbox_agent.errors import ConfigError

IMAP = "[imap]\nhost = 'imap.example.com'\nusername = 'u@example.com'\n"


def test_run_since_sets_the_backfill_of_the_configured_mailbox() -> None:
    imap = Config(imap=ImapConfig(host="h", username="u", password_env="P"))
    changed = with_backfill(imap, date(2026, 1, 2), False)
    assert changed.imap is not None and changed.imap.since == date(2026, 1, 2) and not changed.imap.backfill_auto
    embedded = with_backfill(Config(), date(2026, 1, 2), True)
    assert embedded.imap is None and embedded.maildir is not None
    assert embedded.maildir.since == date(2026, 1, 2) and embedded.maildir.backfill_auto


@pytest.mark.parametrize("text, expected", [
    (IMAP, "auth = 'password' needs password_env"),
    (IMAP + "auth = 'oauth2'\nclient_id_env = 'C'\n", "auth = 'oauth2' needs token_url, refresh_token_env"),
    (IMAP + "password_env = 'P'\nsince = 'last week'\n", "imap.since"),
])
def test_mailbox_mistakes_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert expected in str(caught.value)


def test_oauth2_needs_no_password(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(IMAP + "auth = 'oauth2'\ntoken_url = 'https://oauth2.googleapis.com/token'\n"
                    "client_id_env = 'C'\nrefresh_token_env = 'R'\nsince = 2026-03-01\n")
    config = load_config(path)
    assert config.imap is not None and config.imap.auth == "oauth2" and config.imap.since == date(2026, 3, 1)
