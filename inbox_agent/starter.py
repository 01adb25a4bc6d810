"""`inbox-agent init`: a starter config.toml, and optionally the shipped rules and templates
copied next to it for the store to edit (its copy then overrides the shipped one).

The starter runs as it is (the embedded Maildir, SQLite, sample tracking data) and says, in
comments, what to change for a real mailbox; config.example.toml documents every key.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from inbox_agent.bundled import bundled_dir
from inbox_agent.errors import ConfigError

STARTER = """\
# inbox-agent configuration, written by `inbox-agent init`. Every key is documented in the
# project's config.example.toml. `inbox-agent check --config {config}` validates this file.

[store]
name = "My Store"
support_address = "support@store.example"
signature = "The My Store support team"
default_language = "en"
default_country = "US"

[database]
# or "postgresql://user@host/dbname" for several workers (docs/scaling.md)
url = {database}

# The embedded local Maildir and SMTP listener; replace with [imap] (and [smtp]) for a real mailbox:
# [imap]
# host = "imap.example.com"
# username = "support@store.example"
# password_env = "INBOX_AGENT_IMAP_PASSWORD"
[maildir]
path = {maildir}
smtp_listen = "127.0.0.1:2525"
{paths}"""

PATHS = """
[paths]                                     # this store's own copies (edit them freely)
rules = {rules}
templates = {templates}
"""


def write_starter(folder: Path, copy_rules: bool, force: bool) -> list[Path]:
    """Write `folder`/config.toml (and `folder`/rules, `folder`/templates when `copy_rules`);
    returns what was written. Never overwrites without `force`: ConfigError names the file."""
    folder = folder.resolve()
    config = folder / "config.toml"
    targets = [config] + ([folder / "rules", folder / "templates"] if copy_rules else [])
    for target in targets:
        if target.exists() and not force:
            raise ConfigError(str(target), "", "already exists (use --force to replace it)")
    folder.mkdir(parents=True, exist_ok=True)
    paths = ""
    if copy_rules:
        for name in ("rules", "templates"):
            shutil.copytree(bundled_dir(name), folder / name, dirs_exist_ok=True)
        paths = PATHS.format(rules=_toml(folder / "rules"), templates=_toml(folder / "templates"))
    config.write_text(STARTER.format(config=config, database=_toml(f"sqlite:///{folder / 'var' / 'inbox-agent.db'}"),
                                     maildir=_toml(folder / "var" / "mail"), paths=paths), encoding="utf-8")
    return targets


def _toml(value: object) -> str:
    """A TOML basic string (JSON's escaping is TOML's for these characters)."""
    return json.dumps(str(value))
