"""Loading the data files under rules/: YAML parsed safely, cached per path.

The safe loader is PyYAML's libyaml binding where the wheel has it (the same documents, parsed
in C: the post-office directory in ~7 ms of CPU instead of ~65), else its pure-Python one.

The rules directory is the shipped `rules/` (inbox_agent/bundled.py) unless INBOX_AGENT_RULES points elsewhere (a store's
own copy). Files are data, never code.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from inbox_agent.bundled import bundled_dir
from inbox_agent.errors import ConfigError

DEFAULT_RULES_DIR = bundled_dir("rules")
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_chosen: Path | None = None


def use_rules_dir(path: str | Path) -> None:
    """Read rules from `path` from now on (a store's own copy, `[paths] rules`)."""
    global _chosen
    _chosen = Path(path)


def rules_dir() -> Path:
    """`[paths] rules` when a config set it, else INBOX_AGENT_RULES, else the shipped rules/."""
    return _chosen or Path(os.environ.get("INBOX_AGENT_RULES") or DEFAULT_RULES_DIR)


@lru_cache(maxsize=64)
def _load(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except OSError as e:
        raise ConfigError(str(path), "", f"cannot be read ({e.strerror or e})") from None
    except yaml.YAMLError as e:
        raise ConfigError(str(path), "", f"is not valid YAML ({e})") from None


def load_rules_file(name: str) -> Any:
    """Return the parsed content of rules/<name>; ConfigError when missing or malformed."""
    return _load(rules_dir() / name)
